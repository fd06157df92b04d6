// The fast kernels against their composed references: the direct convolution against im2col + mm,
// batch_norm and prelu against the same formulas written with elementwise ops and reductions, the
// 2x2 max-pool against a plain loop. Values and gradients (for a random upstream gradient), in
// float64 to 1e-10 and in float32 to float32's rounding; shapes around the kernels' edges (odd
// sizes, batch 1, planes wider than a vector, padding 0 and k - 1). Second derivatives go through
// the composed paths and are gradgradchecked by the op table (tests/op_table.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/kernels/parallel.h"
#include "zoograd/core/ops.h"

namespace {

using zg::DType;
using zg::Tensor;

double tolerance(DType d) { return d == DType::Float64 ? 1e-10 : 2e-4; }

void expect_close(const Tensor& got, const Tensor& want, DType d, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  std::vector<double> g = got.to_vector(), w = want.to_vector();
  double scale = 1;
  for (double v : w) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tolerance(d) * scale) << what << " element " << i;
}

Tensor leaf(const zg::Shape& s, DType d, zg::Generator& gen) { return zg::randn(s, d, gen).requires_grad_(); }

// d(Σ out·v)/d(inputs) for a fixed random v.
std::vector<Tensor> grads(const Tensor& out, const std::vector<Tensor>& inputs, const Tensor& v) {
  return zg::grad({out}, inputs, {v});
}

struct ConvCase {
  std::int64_t n, c, h, w, o, kh, kw, ph, pw;
};

class DirectConv : public ::testing::TestWithParam<ConvCase> {};

TEST_P(DirectConv, MatchesIm2colAndMm) {
  const ConvCase k = GetParam();
  for (DType d : {DType::Float64, DType::Float32}) {
    zg::Generator gen(7);
    Tensor x = leaf({k.n, k.c, k.h, k.w}, d, gen), w = leaf({k.o, k.c, k.kh, k.kw}, d, gen), b = leaf({k.o}, d, gen);
    Tensor y = zg::conv2d(x, w, b, 1, {k.ph, k.pw});
    const std::int64_t oh = k.h + 2 * k.ph - k.kh + 1, ow = k.w + 2 * k.pw - k.kw + 1;
    // y[n, o] = W (O, C·kh·kw) · im2col(x) + b, laid out as NCHW.
    Tensor cols = zg::im2col(x, {k.kh, k.kw}, 1, {k.ph, k.pw});
    Tensor ref = zg::permute(zg::reshape(zg::mm(zg::reshape(w, {k.o, -1}), cols), {k.o, k.n, oh, ow}), {1, 0, 2, 3}) +
                 zg::reshape(b, {1, k.o, 1, 1});
    expect_close(y, ref, d, "y");
    Tensor v = zg::randn(y.shape(), d, gen);
    std::vector<Tensor> fast = grads(y, {x, w, b}, v), slow = grads(ref, {x, w, b}, v);
    for (std::size_t i = 0; i < 3; ++i) expect_close(fast[i], slow[i], d, "gradient " + std::to_string(i));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, DirectConv,
                         ::testing::Values(ConvCase{64, 1, 28, 28, 8, 5, 5, 2, 2},   // the atlas's convolutions
                                           ConvCase{5, 8, 14, 14, 16, 5, 5, 2, 2},
                                           ConvCase{3, 16, 7, 7, 32, 3, 3, 1, 1},
                                           ConvCase{2, 1, 28, 28, 16, 5, 5, 0, 0},   // LeNet's
                                           ConvCase{2, 16, 12, 12, 32, 5, 5, 0, 0},
                                           // channels along the lanes: channels past a vector, rows of
                                           // 15 and 19 columns in unequal tiles, padding 0 and k - 1
                                           ConvCase{1, 17, 11, 13, 20, 3, 3, 2, 0},
                                           ConvCase{2, 18, 9, 21, 33, 5, 5, 4, 1},
                                           ConvCase{1, 16, 6, 10, 16, 3, 5, 1, 2},
                                           ConvCase{1, 3, 9, 11, 5, 3, 2, 2, 1},     // rectangular, batch 1, O % 8
                                           ConvCase{3, 2, 40, 37, 3, 1, 1, 0, 0},    // 1x1, wide planes
                                           ConvCase{2, 9, 5, 6, 13, 4, 4, 3, 0},     // padding k - 1, odd channels
                                           ConvCase{1, 1, 1, 1, 1, 1, 1, 0, 0}));

TEST(DirectConv, ZeroImagesGiveAnEmptyOutput) {
  Tensor y = zg::conv2d(zg::zeros({0, 2, 5, 5}), zg::ones({3, 2, 3, 3}), {}, 1, 1);
  EXPECT_EQ(y.shape(), (zg::Shape{0, 3, 5, 5}));
}

// (x - μ)/√(σ² + eps)·γ + β with the batch's biased variance, from elementwise ops.
Tensor composed_batch_norm(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& mean, const Tensor& var,
                           double eps) {
  zg::Shape cs(static_cast<std::size_t>(x.dim()), 1);
  cs[1] = x.size(1);
  return (x - mean) / zg::sqrt(var + eps) * zg::reshape(w, cs) + zg::reshape(b, cs);
}

TEST(FusedBatchNorm, TrainingMatchesTheComposedFormula) {
  for (DType d : {DType::Float64, DType::Float32})
    for (zg::Shape s : {zg::Shape{64, 8, 28, 28}, zg::Shape{5, 3, 7}, zg::Shape{64, 2}, zg::Shape{2, 1}}) {
      zg::Generator gen(3);
      Tensor x = (zg::randn(s, d, gen) * 3.0 + 2.0).requires_grad_(), w = leaf({s[1]}, d, gen), b = leaf({s[1]}, d, gen);
      Tensor rm = zg::zeros({s[1]}, d), rv = zg::ones({s[1]}, d);
      Tensor y = zg::batch_norm(x, rm, rv, w, b, {.training = true, .momentum = 0.25, .eps = 1e-3});
      zg::Dims dims{0};
      for (std::int64_t k = 2; k < x.dim(); ++k) dims.push_back(k);
      Tensor mean = zg::mean(x, dims, {.keepdim = true}), var = zg::mean((x - mean) * (x - mean), dims, {.keepdim = true});
      Tensor ref = composed_batch_norm(x, w, b, mean, var, 1e-3);
      expect_close(y, ref, d, "y");
      Tensor v = zg::randn(y.shape(), d, gen);
      std::vector<Tensor> fast = grads(y, {x, w, b}, v), slow = grads(ref, {x, w, b}, v);
      for (std::size_t i = 0; i < 3; ++i) expect_close(fast[i], slow[i], d, "gradient " + std::to_string(i));
      const double n = static_cast<double>(x.numel() / s[1]);
      expect_close(rm, zg::reshape(mean, {s[1]}) * 0.25, d, "running_mean");
      expect_close(rv, 0.75 + zg::reshape(var, {s[1]}) * (0.25 * n / (n - 1)), d, "running_var");
    }
}

TEST(FusedBatchNorm, EvaluationMatchesTheComposedFormula) {
  for (DType d : {DType::Float64, DType::Float32}) {
    zg::Generator gen(4);
    Tensor x = leaf({3, 4, 5, 2}, d, gen), w = leaf({4}, d, gen), b = leaf({4}, d, gen);
    Tensor rm = zg::randn({4}, d, gen), rv = zg::rand({4}, d, gen) + 0.5;
    Tensor y = zg::batch_norm(x, rm, rv, w, b, {.eps = 1e-5});
    Tensor ref = composed_batch_norm(x, w, b, zg::reshape(rm, {1, 4, 1, 1}), zg::reshape(rv, {1, 4, 1, 1}), 1e-5);
    expect_close(y, ref, d, "y");
    Tensor v = zg::randn(y.shape(), d, gen);
    std::vector<Tensor> fast = grads(y, {x, w, b}, v), slow = grads(ref, {x, w, b}, v);
    for (std::size_t i = 0; i < 3; ++i) expect_close(fast[i], slow[i], d, "gradient " + std::to_string(i));
  }
}

// float32 values far from zero relative to their spread: the variance must not cancel away.
TEST(FusedBatchNorm, AVarianceSmallAgainstTheMeanSurvives) {
  zg::Generator gen(5);
  Tensor x = zg::randn({16, 2, 8, 8}, DType::Float32, gen) * 0.01 + 1000.0;  // quantized to about 0.6%
  Tensor y = zg::batch_norm(x, {}, {}, {}, {}, {.training = true});
  Tensor x64 = x.to(DType::Float64);
  Tensor mean = zg::mean(x64, {0, 2, 3}, {.keepdim = true}), var = zg::mean((x64 - mean) * (x64 - mean), {0, 2, 3}, {.keepdim = true});
  expect_close(y, (x64 - mean) / zg::sqrt(var + 1e-5), DType::Float32, "y");
}

TEST(FusedPReLU, MatchesWhere) {
  // {2, 3, 100, 120}: one shared slope's plane is cut into three chunks of the threads' work.
  for (const zg::Shape& shape : {zg::Shape{4, 3, 5, 7}, zg::Shape{2, 3, 100, 120}})
  for (DType d : {DType::Float64, DType::Float32})
    for (std::int64_t slopes : {1, 3}) {
      zg::Generator gen(6);
      Tensor x = leaf(shape, d, gen), a = leaf({slopes}, d, gen);
      Tensor y = zg::prelu(x, a);
      Tensor ref = zg::where(zg::gt(x, 0.0), x, x * zg::reshape(a, slopes == 1 ? zg::Shape{1} : zg::Shape{1, 3, 1, 1}));
      expect_close(y, ref, d, "y");
      Tensor v = zg::randn(y.shape(), d, gen);
      std::vector<Tensor> fast = grads(y, {x, a}, v), slow = grads(ref, {x, a}, v);
      for (std::size_t i = 0; i < 2; ++i) expect_close(fast[i], slow[i], d, "gradient " + std::to_string(i));
    }
}

// The slope's gradient, summed in chunks that the threads share, is the same at any thread count.
TEST(FusedPReLU, SlopeGradientDoesNotDependOnTheThreadCount) {
  zg::Generator gen(7);
  Tensor x = leaf({2, 3, 100, 120}, DType::Float32, gen), a = leaf({1}, DType::Float32, gen);
  Tensor v = zg::randn(x.shape(), DType::Float32, gen);
  const int old = zg::get_num_threads();
  std::vector<std::vector<double>> by_threads;
  for (int threads : {1, 2}) {
    zg::set_num_threads(threads);
    std::vector<Tensor> g = grads(zg::prelu(x, a), {x, a}, v);
    by_threads.push_back(g[1].to_vector());
    EXPECT_NE(by_threads.back()[0], 0.0);
  }
  zg::set_num_threads(old);
  EXPECT_EQ(by_threads[0], by_threads[1]);
}

// The 2x2 max-pool against a loop over each window's four elements in row-major order.
TEST(FastMaxPool, MatchesAPlainLoopWithTiesAndNaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType d : {DType::Float32, DType::Float64})
    for (auto [h, w] : {std::pair<std::int64_t, std::int64_t>{28, 28}, {7, 7}, {5, 70}, {2, 2}, {9, 33}}) {
      zg::Generator gen(8);
      std::vector<double> vals(static_cast<std::size_t>(3 * h * w));
      for (double& v : vals) v = std::round(gen.normal() * 2) / 2;  // many ties
      vals[5] = nan;
      vals[vals.size() - 1] = nan;
      Tensor x = zg::tensor(vals, {1, 3, h, w}, d).requires_grad_();
      Tensor y = zg::max_pool2d(x, 2);
      const std::int64_t oh = h / 2, ow = w / 2;
      ASSERT_EQ(y.shape(), (zg::Shape{1, 3, oh, ow}));
      std::vector<double> got = y.to_vector(), want_grad(vals.size(), 0.0), up(got.size());
      for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<double>(i % 7) - 3;
      for (std::int64_t p = 0; p < 3; ++p)
        for (std::int64_t r = 0; r < oh; ++r)
          for (std::int64_t c = 0; c < ow; ++c) {
            std::int64_t best = p * h * w + 2 * r * w + 2 * c;
            for (std::int64_t e : {best + 1, best + w, best + w + 1}) {
              const double v = vals[static_cast<std::size_t>(e)], bv = vals[static_cast<std::size_t>(best)];
              if (v > bv || (std::isnan(v) && !std::isnan(bv))) best = e;
            }
            const auto o = static_cast<std::size_t>((p * oh + r) * ow + c);
            const double want = vals[static_cast<std::size_t>(best)];
            if (std::isnan(want)) EXPECT_TRUE(std::isnan(got[o])) << o;
            else EXPECT_EQ(got[o], want) << "window " << o << " of " << h << "x" << w;
            want_grad[static_cast<std::size_t>(best)] += up[o];
          }
      Tensor g = zg::grad({y}, {x}, {zg::tensor(up, y.shape(), d)})[0];
      EXPECT_EQ(g.to_vector(), want_grad) << h << "x" << w;
    }
}

}  // namespace
