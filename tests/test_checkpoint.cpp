// Checkpoints under crashes and damage: a process killed at every write step of 20 saves never
// leaves a partial file under a final name and always resumes from the newest complete
// checkpoint; every single-byte flip of a checkpoint is refused; a damaged newest checkpoint falls
// back to the one before, with a warning.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/layers/linear.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/tests/log_capture.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/checkpoint.h"

namespace {

using namespace zg;
namespace fs = std::filesystem;
using zg_tests::LogCapture;
using zg_tests::TempDir;

// A model trained a step per "epoch" with SGD and momentum; the config records the epoch saved,
// so a test can tell which checkpoint a config came from.
struct Trainee {
  Generator gen{11};
  std::shared_ptr<Sequential> model;
  SGD optimizer;
  TrainingState state;

  Trainee(std::int64_t in, std::int64_t hidden)
      : model(std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
            std::make_shared<Linear>(in, hidden, gen), std::make_shared<Linear>(hidden, 2, gen)})),
        optimizer(model->parameters(), {0.01, 0.9, 0.0, 0.0, false}) {}

  void train_epoch() {
    Tensor y = model->forward(randn({4, model->parameters()[0].shape()[1]}, DType::Float32, gen));
    optimizer.zero_grad();
    mean(y * y).backward();
    optimizer.step();
    ++state.epoch;
    state.step += 3;
    state.metrics.push_back({{"epoch", state.epoch}});
  }

  std::string save(const fs::path& dir) const {
    return save_checkpoint(dir.string(), *model, optimizer, gen, state, {{"saved_at", state.epoch}});
  }
};

// What a checkpoint of a Trainee must hold.
struct Expected {
  std::vector<double> model, optimizer;
  Generator::State generator{};
  TrainingState state;
};

Expected expect(const Trainee& t) {
  return {zg_tests::values_of(t.model->state_dict()), zg_tests::values_of(t.optimizer.state_dict()), t.gen.state(), t.state};
}

void expect_holds(const Checkpoint& c, const Expected& e) {
  SCOPED_TRACE(c.path);
  EXPECT_EQ(zg_tests::values_of(c.model), e.model);
  EXPECT_EQ(zg_tests::values_of(c.optimizer), e.optimizer);
  EXPECT_EQ(c.generator, e.generator);
  EXPECT_EQ(c.state.epoch, e.state.epoch);
  EXPECT_EQ(c.state.step, e.state.step);
  EXPECT_EQ(c.state.metrics, e.state.metrics);
  EXPECT_EQ(c.config, (nlohmann::json{{"saved_at", e.state.epoch}}));
}

std::string name_of(std::int64_t epoch) {
  char name[48];
  std::snprintf(name, sizeof name, "checkpoint-%06" PRId64 ".safetensors", epoch);
  return name;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The steps of one save of Trainee(160, 128): its first weight and that weight's momentum buffer
// (128x160 floats, 80 KiB) are written in two chunks each.
const std::vector<std::string> kSteps = {
    "create",     "write prefix", "write header", "write data", "write data", "write data", "write data", "write data",
    "write data", "write data",   "write data",   "write data", "write data", "fsync",      "close",      "rename",
    "fsync folder"};
constexpr std::size_t kRename = 15;

// Saves t into dir in a child process that SIGKILLs itself at step `kill_at` of the save; returns
// the child's wait status. A child that finishes exits 0 if it took exactly kill_at steps.
int save_in_child(const Trainee& t, const fs::path& dir, std::size_t kill_at) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::size_t steps = 0;
    set_save_fault_hook([&](std::string_view) {
      if (steps++ == kill_at) ::kill(::getpid(), SIGKILL);
    });
    try {
      t.save(dir);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(steps == kill_at ? 0 : 3);
  }
  int status = -1;
  ::waitpid(pid, &status, 0);
  return status;
}

// After a crash: exactly the checkpoints of `epochs` (newest first) under final names, each
// complete; everything else a temporary file of a save; resuming picks the newest.
// Returns the number of temporary files.
int expect_folder(const fs::path& dir, const std::vector<Expected>& saved, const std::vector<std::int64_t>& epochs) {
  std::vector<std::string> paths = list_checkpoints(dir.string());
  std::vector<std::string> want;
  for (std::int64_t e : epochs) want.push_back((dir / name_of(e)).string());
  EXPECT_EQ(paths, want);
  for (std::size_t i = 0; i < paths.size() && i < epochs.size(); ++i) {
    try {
      expect_holds(read_checkpoint(paths[i]), saved[static_cast<std::size_t>(epochs[i])]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "a file under a final name does not load: " << e.what();
    }
  }
  int temporaries = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(".checkpoint-") && name.find(".safetensors.tmp.") != std::string::npos) ++temporaries;
    else EXPECT_NE(std::find(want.begin(), want.end(), entry.path().string()), want.end()) << name;
  }
  if (epochs.empty()) EXPECT_THROW(read_latest_checkpoint(dir.string()), std::invalid_argument);
  else EXPECT_EQ(read_latest_checkpoint(dir.string()).state.epoch, epochs[0]);
  return temporaries;
}

TEST(Checkpoint, SaveStepsAreTheOnesTheFaultTestKillsAt) {
  TempDir dir;
  Trainee run(160, 128);
  run.train_epoch();
  std::vector<std::string> steps;
  set_save_fault_hook([&](std::string_view step) { steps.emplace_back(step); });
  run.save(dir.path());
  set_save_fault_hook({});
  EXPECT_EQ(steps, kSteps);
  EXPECT_EQ(steps[kRename], "rename");
}

TEST(Checkpoint, AKillAtAnyWriteStepOf20SavesLeavesTheNewestCompleteCheckpoint) {
  TempDir dir;
  Trainee run(160, 128);
  std::vector<Expected> saved(1);  // saved[e]: what checkpoint e holds
  LogCapture log;
  int faults = 0, most_temporaries = 0;
  for (std::int64_t epoch = 1; epoch <= 20; ++epoch) {
    SCOPED_TRACE("save " + std::to_string(epoch));
    run.train_epoch();
    saved.push_back(expect(run));
    std::vector<std::int64_t> before;  // the two kept by the previous save
    for (std::int64_t e = epoch - 1; e >= 1 && e >= epoch - 2; --e) before.push_back(e);
    for (std::size_t k = 0; k < kSteps.size(); ++k) {
      SCOPED_TRACE("killed before " + kSteps[k] + " (step " + std::to_string(k) + ")");
      int status = save_in_child(run, dir.path(), k);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
      ++faults;
      // Once renamed, the new file is the newest; the older ones go only after that.
      std::vector<std::int64_t> now = before;
      if (k > kRename) now.insert(now.begin(), epoch);
      most_temporaries = std::max(most_temporaries, expect_folder(dir.path(), saved, now));
    }
    int status = save_in_child(run, dir.path(), kSteps.size());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
    std::vector<std::int64_t> kept = {epoch};
    if (epoch > 1) kept.push_back(epoch - 1);
    EXPECT_EQ(expect_folder(dir.path(), saved, kept), 0);  // the complete save removed the crashed saves' files
  }
  EXPECT_EQ(faults, 340);  // 20 saves x 17 steps
  // A kill after "create" and before "rename" leaves a temporary file, until the next complete save.
  EXPECT_EQ(most_temporaries, 15);
  EXPECT_TRUE(log.lines().empty());  // no fallback was ever needed
}

TEST(Checkpoint, EverySingleByteFlipIsRefused) {
  TempDir dir;
  Trainee run(3, 2);
  run.train_epoch();
  const std::string path = run.save(dir.path());
  const std::string bytes = read_bytes(path);
  std::uint64_t header = 0;  // the little-endian length prefix
  for (std::size_t i = 8; i-- > 0;) header = (header << 8) | static_cast<unsigned char>(bytes[i]);
  const std::size_t data = 8 + header;
  ASSERT_GT(bytes.size(), 600u);
  expect_holds(read_checkpoint(path), expect(run));
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);  // flipped in place: no truncation
  std::size_t caught = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int mask : {0x01, 0xff}) {
      file.seekp(static_cast<std::streamoff>(i)).put(static_cast<char>(bytes[i] ^ mask)).flush();
      std::string error = zg_tests::error_of([&] { read_checkpoint(path); });
      if (error.empty()) ADD_FAILURE() << "flip " << mask << " at byte " << i << " loads";
      caught += error.starts_with(path + ": ");
      // The data is raw numbers, where every value is valid: only the CRC can tell.
      if (i >= data) {
        EXPECT_CONTAINS(error, "CRC32 mismatch");
      }
    }
    file.seekp(static_cast<std::streamoff>(i)).put(bytes[i]).flush();
  }
  EXPECT_EQ(caught, 2 * bytes.size());
  EXPECT_EQ(read_bytes(path), bytes);
}

TEST(Checkpoint, ADamagedNewestCheckpointFallsBackToTheOlderWithAWarning) {
  TempDir dir;
  Trainee run(3, 2);
  run.train_epoch();
  const std::string older = run.save(dir.path());
  const Expected first = expect(run);
  run.train_epoch();
  const std::string newer = run.save(dir.path());
  std::string bytes = read_bytes(newer);
  bytes.back() = static_cast<char>(bytes.back() ^ 0x10);  // a bit of the last momentum value
  write_bytes(newer, bytes);
  write_bytes(dir / ".checkpoint-000003.safetensors.tmp.AbCdEf", "partial");  // a crashed save's file

  {
    LogCapture log;
    Checkpoint c = read_latest_checkpoint(dir.path().string());
    expect_holds(c, first);  // the config too comes from the checkpoint that loaded
    EXPECT_EQ(c.path, older);
    ASSERT_EQ(log.lines().size(), 1u);
    EXPECT_TRUE(log.lines()[0].starts_with("warning " + newer + ": CRC32 mismatch (stored "));
    EXPECT_CONTAINS(log.lines()[0], "the file is damaged; falling back to " + older);

    Trainee resumed(3, 2);
    EXPECT_EQ(restore_checkpoint(c, *resumed.model, resumed.optimizer, resumed.gen).epoch, 1);
    EXPECT_EQ(expect(resumed).model, first.model);
    EXPECT_EQ(expect(resumed).optimizer, first.optimizer);
    EXPECT_EQ(resumed.gen.state(), first.generator);
  }

  write_bytes(older, read_bytes(older).substr(0, 20));
  LogCapture log;
  std::string error = zg_tests::error_of([&] { read_latest_checkpoint(dir.path().string()); });
  EXPECT_EQ(log.lines().size(), 1u);  // the fall back; the last file has none to fall back to
  EXPECT_CONTAINS(error, "no checkpoint in " + dir.path().string() + " loads");
  EXPECT_CONTAINS(error, newer + ": CRC32 mismatch");
  EXPECT_CONTAINS(error, older + ": header length");
}

TEST(Checkpoint, AFileWithoutCrcIsNotTakenForACheckpoint) {
  TempDir dir;
  Trainee run(3, 2);
  run.train_epoch();
  const std::string path = run.save(dir.path());
  ASSERT_TRUE(load_safetensors(path).checksummed);
  // The key renamed, as a flip in it would: still valid safetensors, but without a CRC.
  std::string bytes = read_bytes(path);
  bytes.replace(bytes.find(R"("crc32")"), 7, R"("crc33")");
  write_bytes(path, bytes);
  EXPECT_FALSE(load_safetensors(path).checksummed);
  EXPECT_CONTAINS(zg_tests::error_of([&] { read_checkpoint(path); }), path + ": no crc32 in the metadata");
}

}  // namespace
