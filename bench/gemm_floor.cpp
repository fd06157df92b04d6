// The GEMM-only floor of the MLP epoch: the eight matrix products of one training step of
// 784-512-256-10 (three forward, three weight gradients, two input gradients; the images need no
// gradient), back to back through cblas, for an epoch's batches (468 of 128 and one of 96).
// Whatever a framework spends beyond this is its own overhead. Prints one JSON object.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <vector>

namespace {

struct Layer {
  int in, out;
};

// C(m,n) = op(A)·op(B), row-major, op = transpose per flag.
void gemm(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
              ta ? m : k, b, tb ? k : n, 0.0f, c, n);
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 5;
  if (repeats < 1) {
    std::cerr << "gemm_floor: repeats must be at least 1, got " << argv[1] << "\n";
    return 1;
  }
  const std::vector<Layer> layers = {{784, 512}, {512, 256}, {256, 10}};
  const int max_batch = 128, samples = 60000;
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  auto filled = [&](std::size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  // acts[i]: layer i's input (N, in); grads[i]: the gradient at layer i's output (N, out).
  std::vector<std::vector<float>> weights, weight_grads, acts, grads;
  for (const Layer& l : layers) {
    weights.push_back(filled(static_cast<std::size_t>(l.out) * l.in));
    weight_grads.push_back(filled(static_cast<std::size_t>(l.out) * l.in));
    acts.push_back(filled(static_cast<std::size_t>(max_batch) * l.in));
    grads.push_back(filled(static_cast<std::size_t>(max_batch) * l.out));
  }
  std::vector<float> logits = filled(static_cast<std::size_t>(max_batch) * layers.back().out);

  auto step = [&](int n) {
    for (std::size_t i = 0; i < layers.size(); ++i) {  // y = x·Wᵀ
      float* y = i + 1 < layers.size() ? acts[i + 1].data() : logits.data();
      gemm(false, true, n, layers[i].out, layers[i].in, acts[i].data(), weights[i].data(), y);
    }
    for (std::size_t i = layers.size(); i-- > 0;) {
      // dW = gᵀ·x, and dx = g·W except for the images.
      gemm(true, false, layers[i].out, layers[i].in, n, grads[i].data(), acts[i].data(), weight_grads[i].data());
      if (i > 0) gemm(false, false, n, layers[i].in, layers[i].out, grads[i].data(), weights[i].data(), grads[i - 1].data());
    }
  };

  step(max_batch);  // warm-up: OpenBLAS's buffers and threads
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (int done = 0; done < samples; done += max_batch) step(std::min(max_batch, samples - done));
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const char* threads = std::getenv("OPENBLAS_NUM_THREADS");
  std::cout << "{\"framework\": \"gemm-floor\", \"task\": \"mlp\", \"openblas_num_threads\": \""
            << (threads ? threads : "unset") << "\", \"epoch_seconds\": [";
  for (std::size_t i = 0; i < seconds.size(); ++i) std::cout << (i ? ", " : "") << seconds[i];
  std::cout << "]}\n";
  return 0;
}
