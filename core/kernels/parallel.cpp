#include "zoograd/core/kernels/parallel.h"

#include "zoograd/core/kernels/blas.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace zg {

namespace {

thread_local bool t_inside_pool = false;

// Briefly polls `done` before the caller blocks: a loop's parts come back within microseconds, and
// the next loop usually follows within tens of them, while a futex wake-up costs about as much as a
// small loop (the MLP's step has about twenty of them).
template <class Done>
bool poll(Done done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
  while (!done()) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
    if (std::chrono::steady_clock::now() > until) return false;
  }
  return true;
}

// Workers poll for a while, then sleep on a condition variable until a loop is posted, run their
// part, and report back.
class Pool {
 public:
  // Runs f over `parts` parts of [0, n): part 0 on the caller, the others on workers.
  void run(std::int64_t n, int parts, const std::function<void(std::int64_t, std::int64_t)>& f) {
    {
      std::unique_lock lock(mutex_);
      while (static_cast<int>(workers_.size()) < parts - 1) {
        int id = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back([this, id] { work(id); });
      }
      job_ = &f;
      n_ = n;
      parts_ = parts;
      pending_ = parts - 1;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    run_part(0);
    if (!poll([this] { return pending_.load() == 0; })) {
      std::unique_lock lock(mutex_);
      done_.wait(lock, [this] { return pending_.load() == 0; });
    }
    std::lock_guard lock(mutex_);
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_part(int id) {
    std::int64_t begin = n_ * id / parts_, end = n_ * (id + 1) / parts_;
    t_inside_pool = true;
    try {
      if (begin < end) (*job_)(begin, end);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_inside_pool = false;
  }

  void work(int id) {
    std::uint64_t seen = 0;
    for (;;) {
      poll([&] { return generation_.load() != seen; });
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        if (id >= parts_) continue;  // this loop needs fewer threads
      }
      run_part(id);
      std::lock_guard lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;  // never joined: the pool lives as long as the process
  const std::function<void(std::int64_t, std::int64_t)>* job_ = nullptr;
  std::int64_t n_ = 0;
  int parts_ = 1;
  std::atomic<int> pending_{0};
  std::atomic<std::uint64_t> generation_{0};  // changed under mutex_, polled without it
  std::exception_ptr error_;
};

// Never destroyed: its threads wait forever, and a destructor at exit would have to join them.
Pool& pool() {
  static auto* p = new Pool;
  return *p;
}

std::mutex g_pool_user;

// Takes over OpenBLAS's thread count when the library loads, before any GEMM runs.
std::atomic<int> g_threads{[] {
  int threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  return std::max(threads, 1);
}()};

}  // namespace

int get_num_threads() { return g_threads.load(); }

void set_num_threads(int threads) {
  if (threads < 1)
    throw std::invalid_argument("set_num_threads: expected at least 1 thread, got " + std::to_string(threads));
  g_threads.store(threads);
}

void parallel_for(std::int64_t n, std::int64_t min_per_thread,
                  const std::function<void(std::int64_t, std::int64_t)>& f) {
  if (n <= 0) return;
  const std::int64_t by_size = n / std::max<std::int64_t>(min_per_thread, 1);
  const int parts = static_cast<int>(std::min<std::int64_t>(g_threads.load(), by_size));
  if (parts < 2 || t_inside_pool) return f(0, n);
  std::unique_lock user(g_pool_user, std::try_to_lock);
  if (!user.owns_lock()) return f(0, n);
  pool().run(n, parts, f);
}

}  // namespace zg
