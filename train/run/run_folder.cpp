#include "zoograd/train/run/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "zoograd/core/io/serialize.h"
#include "zoograd/train/run/checkpoint.h"
#include "zoograd/train/run/values.h"

namespace zg {

namespace {
namespace fs = std::filesystem;

constexpr const char* kRunFile = "run.json";
constexpr const char* kLockFile = ".lock";
constexpr const char* kRunFormat = "zoograd-run-1";

// A temporary file of write_file_atomic: ".NAME.tmp.XXXXXX".
bool is_temporary(const std::string& name) { return name.starts_with(".") && name.find(".tmp.") != std::string::npos; }

// The entries that make a folder non-empty: all but the lock and temporary files.
std::vector<std::string> contents(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name != kLockFile && !is_temporary(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string some_of(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", " : "") + names[i];
  return names.size() > 3 ? s + ", ..." : s;
}

std::string new_run_id() {
  std::random_device device;
  std::uint64_t bits = (std::uint64_t{device()} << 32) ^ device() ^
                       static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                       (static_cast<std::uint64_t>(::getpid()) << 16);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
  return hex;
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Who holds the lock, as its holder wrote it into the lock file.
std::string holder_of(const fs::path& lock) {
  std::ifstream in(lock);
  std::string pid;
  std::getline(in, pid);
  return pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ? "" : " (pid " + pid + ")";
}

// An exclusive flock on dir/.lock. The lock file is removed by a holder that leaves the folder as
// found, so after locking, the file at the path must still be the one locked; else try again.
int take_lock(const std::string& dir) {
  const fs::path lock = fs::path(dir) / kLockFile;
  for (;;) {
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(lock.string() + ": cannot create the lock file: " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int error = errno;
      ::close(fd);
      if (error == EWOULDBLOCK)
        throw UsageError(dir + " is in use by another zoograd process" + holder_of(lock) +
                         "; wait for it to finish, or choose another --out");
      throw std::runtime_error(lock.string() + ": cannot lock: " + std::strerror(error));
    }
    struct stat held {}, now {};
    if (::fstat(fd, &held) == 0 && ::stat(lock.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0 && ::write(fd, pid.data(), pid.size()) < 0) {
      }  // the pid only helps the message of a second process; a failure here changes nothing
      return fd;
    }
    ::close(fd);
  }
}

void remove_temporaries(const std::string& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (is_temporary(entry.path().filename().string())) {
      std::error_code ec;
      fs::remove(entry.path(), ec);
    }
}
}  // namespace

std::string recorded_run_id(const std::string& dir) {
  const fs::path file = fs::path(dir) / kRunFile;
  std::ifstream in(file);
  if (!in) return "";
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kRunFormat || !j.contains("id") ||
      !j["id"].is_string())
    throw std::runtime_error(file.string() + ": damaged: expected {\"format\": \"" + kRunFormat +
                             "\", \"id\": \"...\", ...}");
  return j["id"].get<std::string>();
}

bool holds_run(const std::string& dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / kRunFile, ec) || fs::exists(fs::path(dir) / "model.safetensors", ec) ||
         !list_checkpoints(dir).empty();
}

RunFolder::RunFolder(const std::string& dir, Start start) : dir_(dir) {
  std::error_code ec;
  if (start == Start::Resume) {
    if (!fs::is_directory(dir, ec)) throw UsageError("--resume " + dir + ": no such folder");
  } else {
    created_ = fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error(dir + ": cannot create the run folder: " + ec.message());
  }
  lock_fd_ = take_lock(dir);
  try {
    had_run_ = holds_run(dir);
    std::vector<std::string> names = contents(dir);
    if (start != Start::Resume && !names.empty()) {
      if (!had_run_)
        throw UsageError("--out " + dir + " is not empty and holds no zoograd run (" + some_of(names) +
                         "); choose a new --out");
      if (start == Start::New)
        throw UsageError("--out " + dir + " holds another run; continue it with --resume " + dir +
                         ", choose a new --out, or pass --overwrite to replace it");
      for (const std::string& name : names) fs::remove_all(fs::path(dir) / name);
      had_run_ = false;
    }
    remove_temporaries(dir);
    id_ = start == Start::Resume ? recorded_run_id(dir) : "";
    if (id_.empty()) id_ = new_run_id();
  } catch (...) {
    release();
    throw;
  }
}

RunFolder::~RunFolder() { release(); }

void RunFolder::release() {
  if (lock_fd_ < 0) return;
  if (!recorded_ && !had_run_) {  // leave the folder as found
    std::error_code ec;
    fs::remove(fs::path(dir_) / kLockFile, ec);
    if (created_) fs::remove(dir_, ec);  // only when empty
  }
  ::close(lock_fd_);  // releases the lock
  lock_fd_ = -1;
}

void RunFolder::record() {
  if (recorded_) return;
  const fs::path file = fs::path(dir_) / kRunFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    nlohmann::json j = {{"format", kRunFormat}, {"id", id_}, {"created", utc_now()}};
    write_file_atomic(file.string(), j.dump(2) + "\n");
  }
  recorded_ = true;
}

}  // namespace zg
