#pragma once
// The one thread pool: our own loops (im2col, pooling, elementwise, the SGD update) and the GEMMs,
// which kernel::gemm splits into blocks, one per thread, each a single-threaded OpenBLAS call.
// OpenBLAS's own pool is set to one thread when zoograd loads: its idle threads spin (yielding)
// for a long while after every GEMM, and on a 2-core machine they took the cores our loops needed
// (a CNN epoch at 2 threads: 18.6 s against 14.6 s without the spinning). The pool's threads poll
// for 100 µs after a loop, since the next one usually follows within that, then block.
// The thread count starts at OpenBLAS's (OPENBLAS_NUM_THREADS, else the number of cores).
#include <cstdint>
#include <functional>

namespace zg {

int get_num_threads();
void set_num_threads(int threads);  // at least 1 (PyTorch's torch.set_num_threads)

// Calls f(begin, end) on contiguous parts of [0, n), in parallel when n is at least twice
// min_per_thread and there is more than one thread; otherwise f(0, n) on the calling thread.
// Nested calls, and calls while another thread uses the pool, run on the calling thread. An
// exception thrown by f is rethrown here (the first one, if several parts throw).
void parallel_for(std::int64_t n, std::int64_t min_per_thread, const std::function<void(std::int64_t, std::int64_t)>& f);

}  // namespace zg
