// The machine's peak rate of fused multiply-adds, the ceiling against which bench/run reports the
// GFLOP/s the atlas network achieves: on each of THREADS threads, twelve independent chains of
// 64-byte vector FMAs (enough to hide an FMA's latency on two pipes), the best of five runs of
// about 0.1 s each. Compiled for this machine like the library (ZG_NATIVE), so the vectors are
// what its kernels get. Prints one JSON object. Usage: fma_peak [THREADS]
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <vector>

namespace {

typedef float Vec __attribute__((vector_size(64)));
constexpr int kChains = 12;
constexpr long kIterations = 10'000'000;

// Flops done: 2 per lane per FMA. Twelve named accumulators, which the compiler keeps in
// registers; the empty asm makes them opaque, so the chains are neither merged nor folded away.
double chains() {
  const Vec a = Vec{} + 0.999f, b = Vec{} + 0.001f;
  Vec c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = b, c7 = b, c8 = b, c9 = b, c10 = b, c11 = b;
  for (long it = 0; it < kIterations; ++it) {
    c0 = c0 * a + b, c1 = c1 * a + b, c2 = c2 * a + b, c3 = c3 * a + b, c4 = c4 * a + b, c5 = c5 * a + b;
    c6 = c6 * a + b, c7 = c7 * a + b, c8 = c8 * a + b, c9 = c9 * a + b, c10 = c10 * a + b, c11 = c11 * a + b;
#if defined(__x86_64__)
    asm("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9),
        "+v"(c10), "+v"(c11));
#endif
  }
  const Vec sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
  if (sum[0] == 12345.0f) std::cerr << "";  // keeps the result live
  return 2.0 * sizeof(Vec) / sizeof(float) * kChains * static_cast<double>(kIterations);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) {
    std::cerr << "fma_peak: THREADS must be between 1 and 256, got " << (argc > 1 ? argv[1] : "") << "\n";
    return 1;
  }
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    std::vector<double> flops(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) pool.emplace_back([&flops, t] { flops[static_cast<std::size_t>(t)] = chains(); });
    for (std::thread& t : pool) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double total = 0;
    for (double f : flops) total += f;
    best = std::max(best, total / seconds / 1e9);
  }
  std::cout << "{\"framework\": \"fma-peak\", \"task\": \"peak\", \"gflops\": " << best << "}\n";
}
