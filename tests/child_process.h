#pragma once
// The zoograd program as a child process, without a shell: arguments as given (an empty one
// stays empty), its own working folder, stdin from a file, stdout and stderr apart, a signal sent
// while it runs, and a deadline after which it is killed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace zg_tests {

struct Finished {
  int code = -1;           // the exit code, when it exited
  int signal = 0;          // the signal that ended it, if one did
  bool timed_out = false;  // killed at the deadline
  std::string out, err;
  double seconds = 0;
  int err_lines() const {
    int n = 0;
    for (char c : err) n += c == '\n';
    return n + (!err.empty() && err.back() != '\n');
  }
};

class Child {
 public:
  // Starts `program args...` in folder `cwd` (its output files go there too), stdin from `input`.
  Child(const std::string& program, const std::vector<std::string>& args, const std::filesystem::path& cwd,
        const std::string& input = "/dev/null")
      : out_(cwd / ".child.stdout"), err_(cwd / ".child.stderr"), start_(std::chrono::steady_clock::now()) {
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;  // built before fork: the child calls nothing but async-signal-safe functions
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int in = ::open(input.c_str(), O_RDONLY);
      int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
      ::dup2(in, 0), ::dup2(out, 1), ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  void send(int signal) const { ::kill(pid_, signal); }
  pid_t pid() const { return pid_; }

  // Waits until the child's stderr so far contains text (it keeps running); false after `deadline` seconds.
  bool wait_for_err(const std::string& text, double deadline = 120) const;

  // Waits for the end, killing the child after `deadline` seconds.
  Finished wait(double deadline) {
    Finished f;
    int status = 0;
    for (;;) {
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      if (done == pid_) break;
      if (f.seconds > deadline && !f.timed_out) {
        f.timed_out = true;
        ::kill(pid_, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    pid_ = -1;
    if (WIFEXITED(status)) f.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) f.signal = WTERMSIG(status);
    f.out = slurp(out_), f.err = slurp(err_);
    std::filesystem::remove(out_), std::filesystem::remove(err_);
    return f;
  }

 private:
  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path out_, err_;
  std::chrono::steady_clock::time_point start_;
  pid_t pid_ = -1;
};

// Whether `condition` becomes true within `deadline` seconds (polled).
template <class F>
bool eventually(F condition, double deadline = 120) {
  for (auto start = std::chrono::steady_clock::now(); !condition();) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline bool Child::wait_for_err(const std::string& text, double deadline) const {
  return eventually([&] { return slurp(err_).find(text) != std::string::npos; }, deadline);
}

#ifdef ZG_CLI_PATH
// Runs zoograd to the end (at most `deadline` seconds).
inline Finished zoograd(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                        const std::string& input = "/dev/null", double deadline = 120) {
  return Child(ZG_CLI_PATH, args, cwd, input).wait(deadline);
}
#endif

}  // namespace zg_tests
