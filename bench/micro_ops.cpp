// Google Benchmark micro-benchmarks of the ops that dominate an epoch, at the shapes of the
// benchmark models (batch 128), so that a regression shows op by op:
//   build/release/bench/micro_ops --benchmark_filter=conv
#include <benchmark/benchmark.h>

#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/classification.h"
#include "zoograd/optim/sgd.h"

namespace {

zg::Tensor leaf(const zg::Shape& shape, zg::Generator& gen) {
  zg::Tensor t = zg::randn(shape, zg::DType::Float32, gen);
  t.requires_grad_();
  return t;
}

// The MLP's first layer, y = x·Wᵀ: (128,784)·(784,512).
void BM_Matmul(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = zg::randn({128, 784}, zg::DType::Float32, gen), w = zg::randn({512, 784}, zg::DType::Float32, gen);
  zg::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(zg::mm(x, w, {.transpose_b = true}));
  state.SetItemsProcessed(state.iterations() * 2 * 128 * 784 * 512);
}
BENCHMARK(BM_Matmul);

// Linear forward and backward: x·Wᵀ + b, then ReLU, with the weight and bias gradients.
void BM_LinearReluBackward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = zg::randn({128, 784}, zg::DType::Float32, gen), w = leaf({512, 784}, gen), b = leaf({512}, gen);
  for (auto _ : state) {
    zg::sum(zg::relu(zg::linear(x, w, b))).backward();
    w.impl().grad = {};
    b.impl().grad = {};
  }
}
BENCHMARK(BM_LinearReluBackward);

// The CNN's second convolution (the larger one): (128,16,12,12) ⊛ (32,16,5,5).
void BM_Conv2dForward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = zg::randn({128, 16, 12, 12}, zg::DType::Float32, gen);
  zg::Tensor w = zg::randn({32, 16, 5, 5}, zg::DType::Float32, gen), b = zg::randn({32}, zg::DType::Float32, gen);
  zg::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(zg::conv2d(x, w, b));
}
BENCHMARK(BM_Conv2dForward);

void BM_Conv2dForwardBackward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({128, 16, 12, 12}, gen), w = leaf({32, 16, 5, 5}, gen), b = leaf({32}, gen);
  for (auto _ : state) {
    zg::sum(zg::conv2d(x, w, b)).backward();
    for (zg::Tensor* t : {&x, &w, &b}) t->impl().grad = {};
  }
}
BENCHMARK(BM_Conv2dForwardBackward);

// The CNN's first block: conv 1→16 5x5, ReLU, max-pool 2, forward and backward.
void BM_ConvReluPoolBackward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = zg::randn({128, 1, 28, 28}, zg::DType::Float32, gen);
  zg::Tensor w = leaf({16, 1, 5, 5}, gen), b = leaf({16}, gen);
  for (auto _ : state) {
    zg::sum(zg::max_pool2d(zg::relu(zg::conv2d(x, w, b)), 2)).backward();
    w.impl().grad = {};
    b.impl().grad = {};
  }
}
BENCHMARK(BM_ConvReluPoolBackward);

// The pieces of a convolution and pooling step, at the CNN's shapes.
// The argument is the batch: 128 writes its columns to memory, 8 to the cache.
void BM_Im2col(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = zg::randn({state.range(0), 16, 12, 12}, zg::DType::Float32, gen);
  zg::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(zg::im2col(x, {5, 5}));
  state.SetItemsProcessed(state.iterations() * state.range(0) * 16 * 25 * 64);
}
BENCHMARK(BM_Im2col)->Arg(8)->Arg(128);

void BM_Col2im(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor cols = zg::randn({16 * 5 * 5, 128 * 8 * 8}, zg::DType::Float32, gen);
  zg::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(zg::col2im(cols, {128, 16, 12, 12}, {5, 5}));
}
BENCHMARK(BM_Col2im);

// The first max-pool with the positions its backward needs.
void BM_MaxPool2d(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({128, 16, 24, 24}, gen);
  for (auto _ : state) benchmark::DoNotOptimize(zg::max_pool2d(x, 2));
}
BENCHMARK(BM_MaxPool2d);

// Its backward: the output gradient sent to each window's maximum.
void BM_MaxPool2dBackward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({128, 16, 24, 24}, gen);
  zg::Tensor y = zg::max_pool2d(x, 2);
  zg::Tensor g = zg::randn(y.shape(), zg::DType::Float32, gen);
  for (auto _ : state) {
    y.backward(g, {.retain_graph = true});
    x.impl().grad = {};
  }
}
BENCHMARK(BM_MaxPool2dBackward);

// The first convolution's bias gradient: its output gradient summed over images and positions.
void BM_ConvBiasGrad(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor gy = zg::randn({128, 16, 24, 24}, zg::DType::Float32, gen);
  for (auto _ : state) benchmark::DoNotOptimize(zg::sum(gy, {0, 2, 3}));
  state.SetBytesProcessed(state.iterations() * gy.numel() * 4);
}
BENCHMARK(BM_ConvBiasGrad);

// Softmax cross-entropy over 10 classes, forward and backward.
void BM_CrossEntropyBackward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor logits = leaf({128, 10}, gen), labels = zg::randint(0, 10, {128}, gen);
  for (auto _ : state) {
    zg::cross_entropy(logits, labels).backward();
    logits.impl().grad = {};
  }
}
BENCHMARK(BM_CrossEntropyBackward);

// An elementwise chain over a hidden activation, (x·y + z) then ReLU, forward and backward.
void BM_ElementwiseChainBackward(benchmark::State& state) {
  zg::Generator gen(0);
  zg::Tensor x = leaf({128, 512}, gen), y = leaf({128, 512}, gen), z = leaf({512}, gen);
  for (auto _ : state) {
    zg::sum(zg::relu(x * y + z)).backward();
    for (zg::Tensor* t : {&x, &y, &z}) t->impl().grad = {};
  }
  state.SetBytesProcessed(state.iterations() * 128 * 512 * 4 * 3);
}
BENCHMARK(BM_ElementwiseChainBackward);

// One SGD step with momentum over the MLP's 535,818 parameters.
void BM_SgdStep(benchmark::State& state) {
  zg::Generator gen(0);
  std::vector<zg::Tensor> params;
  for (const zg::Shape& s : {zg::Shape{512, 784}, {512}, {256, 512}, {256}, {10, 256}, {10}}) {
    params.push_back(leaf(s, gen));
    params.back().set_grad(zg::randn(s, zg::DType::Float32, gen));
  }
  zg::SGD sgd(params, {.lr = 0.1, .momentum = 0.9});
  for (auto _ : state) sgd.step();
  state.SetBytesProcessed(state.iterations() * 535818 * 4);
}
BENCHMARK(BM_SgdStep);

}  // namespace

BENCHMARK_MAIN();
