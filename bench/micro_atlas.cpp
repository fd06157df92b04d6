// Micro-benchmarks of the atlas network's ops at its shapes (batch 64, 28x28 digits), forward and
// backward, so that each op's share of a training step can be followed:
//   build/release/bench/micro_ops --benchmark_filter=Atlas
#include <benchmark/benchmark.h>

#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/layers/activation.h"
#include "zoograd/layers/batchnorm.h"
#include "zoograd/losses/angular.h"

namespace {

zg::Tensor leaf(const zg::Shape& shape, zg::Generator& gen) {
  zg::Tensor t = zg::randn(shape, zg::DType::Float32, gen);
  t.requires_grad_();
  return t;
}

void clear_grads(std::initializer_list<zg::Tensor*> ts) {
  for (zg::Tensor* t : ts) t->impl().grad = {};
}

// The three convolutions, args (C, H, O, kernel): conv1 1x28x28 → 8 (5x5), conv2 8x14x14 → 16
// (5x5), conv3 16x7x7 → 32 (3x3), each padded to keep its size, no bias (a BatchNorm follows).
void BM_AtlasConvForward(benchmark::State& state) {
  zg::Generator gen(0);
  const std::int64_t c = state.range(0), h = state.range(1), o = state.range(2), k = state.range(3);
  zg::Tensor x = zg::randn({64, c, h, h}, zg::DType::Float32, gen), w = zg::randn({o, c, k, k}, zg::DType::Float32, gen);
  zg::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(zg::conv2d(x, w, {}, 1, k / 2));
  state.SetItemsProcessed(state.iterations() * 2 * 64 * o * c * k * k * h * h);  // flops
}
BENCHMARK(BM_AtlasConvForward)->Args({1, 28, 8, 5})->Args({8, 14, 16, 5})->Args({16, 7, 32, 3});

// Forward and backward; the first convolution's input needs no gradient, as in training.
void BM_AtlasConvBackward(benchmark::State& state) {
  zg::Generator gen(0);
  const std::int64_t c = state.range(0), h = state.range(1), o = state.range(2), k = state.range(3);
  zg::Tensor x = zg::randn({64, c, h, h}, zg::DType::Float32, gen), w = leaf({o, c, k, k}, gen);
  if (c > 1) x.requires_grad_();
  for (auto _ : state) {
    zg::sum(zg::conv2d(x, w, {}, 1, k / 2)).backward();
    clear_grads({&x, &w});
  }
  state.SetItemsProcessed(state.iterations() * 2 * 64 * o * c * k * k * h * h * (c > 1 ? 3 : 2));
}
BENCHMARK(BM_AtlasConvBackward)->Args({1, 28, 8, 5})->Args({8, 14, 16, 5})->Args({16, 7, 32, 3});

// BatchNorm2d in training mode after the first convolution: (64, 8, 28, 28), forward and backward.
void BM_AtlasBatchNorm2d(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({64, 8, 28, 28}, gen);
  zg::BatchNorm2d bn(8);
  for (auto _ : state) {
    zg::sum(bn(x)).backward();
    clear_grads({&x, &bn.weight, &bn.bias});
  }
  state.SetBytesProcessed(state.iterations() * 64 * 8 * 28 * 28 * 4);
}
BENCHMARK(BM_AtlasBatchNorm2d);

// PReLU with one shared slope over (64, 8, 28, 28), forward and backward.
void BM_AtlasPReLU(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({64, 8, 28, 28}, gen);
  zg::PReLU prelu;
  for (auto _ : state) {
    zg::sum(prelu(x)).backward();
    clear_grads({&x, &prelu.weight});
  }
  state.SetBytesProcessed(state.iterations() * 64 * 8 * 28 * 28 * 4);
}
BENCHMARK(BM_AtlasPReLU);

// Max-pool 2 over (64, 8, 28, 28), forward and backward.
void BM_AtlasMaxPool(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({64, 8, 28, 28}, gen);
  for (auto _ : state) {
    zg::sum(zg::max_pool2d(x, 2)).backward();
    clear_grads({&x});
  }
  state.SetBytesProcessed(state.iterations() * 64 * 8 * 28 * 28 * 4);
}
BENCHMARK(BM_AtlasMaxPool);

// The ArcFace head: cosine of 2-D features against 10 class weights, the margin on the target
// logit, cross-entropy, forward and backward.
void BM_AtlasArcFaceHead(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor f = leaf({64, 2}, gen), w = leaf({10, 2}, gen), y = zg::randint(0, 10, {64}, gen);
  for (auto _ : state) {
    zg::arcface_loss(f, w, y, {.s = 10, .m = 0.2}).backward();
    clear_grads({&f, &w});
  }
}
BENCHMARK(BM_AtlasArcFaceHead);

}  // namespace
