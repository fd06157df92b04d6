// conv2d and pooling against direct loops; im2col/col2im adjointness; shape errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

struct ConvCase {
  std::int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw;
  bool bias;
};

std::string describe(const ConvCase& k) {
  std::ostringstream s;
  s << "N" << k.n << " C" << k.c << " " << k.h << "x" << k.w << " O" << k.o << " k" << k.kh << "x" << k.kw << " s"
    << k.sh << "x" << k.sw << " p" << k.ph << "x" << k.pw << (k.bias ? " bias" : " no bias");
  return s.str();
}

// The direct definition: y[n,o,y,x] = b[o] + Σ_c Σ_i Σ_j W[o,c,i,j] · x[n, c, y·sh - ph + i, x·sw - pw + j].
std::vector<double> naive_conv(const std::vector<double>& x, const std::vector<double>& wt,
                               const std::vector<double>& b, const ConvCase& k, std::int64_t oh, std::int64_t ow) {
  std::vector<double> y(static_cast<std::size_t>(k.n * k.o * oh * ow), 0.0);
  for (std::int64_t n = 0; n < k.n; ++n)
    for (std::int64_t o = 0; o < k.o; ++o)
      for (std::int64_t oy = 0; oy < oh; ++oy)
        for (std::int64_t ox = 0; ox < ow; ++ox) {
          double acc = b.empty() ? 0.0 : b[static_cast<std::size_t>(o)];
          for (std::int64_t c = 0; c < k.c; ++c)
            for (std::int64_t i = 0; i < k.kh; ++i)
              for (std::int64_t j = 0; j < k.kw; ++j) {
                std::int64_t iy = oy * k.sh - k.ph + i, ix = ox * k.sw - k.pw + j;
                if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                acc += wt[static_cast<std::size_t>(((o * k.c + c) * k.kh + i) * k.kw + j)] *
                       x[static_cast<std::size_t>(((n * k.c + c) * k.h + iy) * k.w + ix)];
              }
          y[static_cast<std::size_t>(((n * k.o + o) * oh + oy) * ow + ox)] = acc;
        }
  return y;
}

const std::vector<ConvCase> kConvCases = {
    {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, false},
    {1, 2, 6, 6, 3, 3, 3, 1, 1, 1, 1, true},
    {3, 2, 7, 6, 4, 3, 2, 2, 1, 1, 0, true},   // non-square kernel and stride
    {3, 3, 8, 8, 2, 1, 1, 1, 1, 0, 0, true},   // 1x1 kernel
    {1, 2, 6, 9, 3, 2, 4, 1, 3, 1, 2, true},
    {3, 2, 5, 5, 2, 5, 5, 1, 1, 2, 2, false},  // kernel as large as the image
    {3, 1, 9, 7, 2, 2, 2, 3, 3, 0, 1, true},   // stride larger than the kernel
    {1, 4, 4, 10, 5, 4, 1, 2, 2, 0, 0, false},
};

}  // namespace

TEST(Conv, Conv2dMatchesDirectLoops) {
  Generator gen(7);
  for (const ConvCase& k : kConvCases)
    for (DType dt : {DType::Float64, DType::Float32}) {
      Tensor x = randn({k.n, k.c, k.h, k.w}, dt, gen);
      Tensor w = randn({k.o, k.c, k.kh, k.kw}, dt, gen);
      Tensor b = k.bias ? randn({k.o}, dt, gen) : Tensor();
      Tensor y = conv2d(x, w, b, Size2(k.sh, k.sw), Size2(k.ph, k.pw));
      std::int64_t oh = (k.h + 2 * k.ph - k.kh) / k.sh + 1, ow = (k.w + 2 * k.pw - k.kw) / k.sw + 1;
      ASSERT_EQ(y.shape(), (Shape{k.n, k.o, oh, ow})) << describe(k);
      EXPECT_EQ(y.dtype(), dt);
      std::vector<double> expected =
          naive_conv(x.to_vector(), w.to_vector(), k.bias ? b.to_vector() : std::vector<double>{}, k, oh, ow);
      std::vector<double> got = y.to_vector();
      double tol = dt == DType::Float64 ? 1e-12 : 1e-5;
      for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], tol) << describe(k) << " " << dtype_name(dt) << " element " << i;
    }
}

TEST(Conv, Conv2dOfKnownValues) {
  // A 3x3 image of 1..9 and the kernel [[1, 0], [0, -1]]: y = x[i][j] - x[i+1][j+1] = -4 everywhere.
  Tensor x = reshape(arange(1.0, 10.0, 1.0, DType::Float64), {1, 1, 3, 3});
  Tensor w = tensor({1, 0, 0, -1}, {1, 1, 2, 2}, DType::Float64);
  EXPECT_EQ(conv2d(x, w).to_vector(), (std::vector<double>{-4, -4, -4, -4}));
  // Padding 1: the corners see one image element each.
  Tensor yp = conv2d(x, w, tensor({10}, DType::Float64), 1, 1);
  ASSERT_EQ(yp.shape(), (Shape{1, 1, 4, 4}));
  std::vector<double> v = yp.to_vector();
  EXPECT_EQ(v[0], 10 - 1);   // only x[0][0] under the -1
  EXPECT_EQ(v[15], 10 + 9);  // only x[2][2] under the +1
}

// dL/dW[o,c,i,j] = Σ g[n,o,y,x]·x[n,c,y·s-p+i,x·s-p+j]; dL/db[o] = Σ g[n,o,·,·]; checked with loops,
// through both backward paths: a few images at a time (the second case has three chunks, the last
// one short) and, under create_graph, the differentiable im2col, mm and col2im.
TEST(Conv, Conv2dGradientsMatchDirectAdjoints) {
  const std::vector<ConvCase> cases = {{2, 2, 5, 6, 3, 3, 2, 2, 1, 1, 1, true}, {5, 2, 20, 20, 3, 4, 4, 1, 1, 1, 1, true}};
  for (const ConvCase& k : cases)
    for (bool create_graph : {false, true}) {
      SCOPED_TRACE(describe(k) + (create_graph ? ", create_graph" : ""));
      Generator gen(11);
      Tensor x = randn({k.n, k.c, k.h, k.w}, DType::Float64, gen).requires_grad_();
      Tensor w = randn({k.o, k.c, k.kh, k.kw}, DType::Float64, gen).requires_grad_();
      Tensor b = randn({k.o}, DType::Float64, gen).requires_grad_();
      Tensor y = conv2d(x, w, b, Size2(k.sh, k.sw), Size2(k.ph, k.pw));
      Tensor g = randn(y.shape(), DType::Float64, gen);
      std::vector<Tensor> got = grad({y}, {x, w, b}, {g}, {.create_graph = create_graph});
      std::int64_t oh = y.size(2), ow = y.size(3);
      std::vector<double> xv = x.to_vector(), gv = g.to_vector(), wv = w.to_vector();
      std::vector<double> dx(xv.size(), 0.0), dw(wv.size(), 0.0), db(static_cast<std::size_t>(k.o), 0.0);
      for (std::int64_t n = 0; n < k.n; ++n)
        for (std::int64_t o = 0; o < k.o; ++o)
          for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox) {
              double gg = gv[static_cast<std::size_t>(((n * k.o + o) * oh + oy) * ow + ox)];
              db[static_cast<std::size_t>(o)] += gg;
              for (std::int64_t c = 0; c < k.c; ++c)
                for (std::int64_t i = 0; i < k.kh; ++i)
                  for (std::int64_t j = 0; j < k.kw; ++j) {
                    std::int64_t iy = oy * k.sh - k.ph + i, ix = ox * k.sw - k.pw + j;
                    if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                    auto wi = static_cast<std::size_t>(((o * k.c + c) * k.kh + i) * k.kw + j);
                    auto xi = static_cast<std::size_t>(((n * k.c + c) * k.h + iy) * k.w + ix);
                    dw[wi] += gg * xv[xi];
                    dx[xi] += gg * wv[wi];
                  }
            }
      auto close = [](const std::vector<double>& a, const std::vector<double>& e, const char* what) {
        ASSERT_EQ(a.size(), e.size());
        for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], e[i], 1e-11) << what << " " << i;
      };
      close(got[0].to_vector(), dx, "dx");
      close(got[1].to_vector(), dw, "dw");
      close(got[2].to_vector(), db, "db");
    }
}

namespace {
struct PoolCase {
  std::int64_t n, c, h, w, kh, kw, sh, sw, ph, pw;
};

// max (or mean with zero padding counted) over each window, by direct loops.
std::vector<double> naive_pool(const std::vector<double>& x, const PoolCase& k, bool is_max, std::int64_t oh,
                               std::int64_t ow) {
  std::vector<double> y;
  for (std::int64_t plane = 0; plane < k.n * k.c; ++plane)
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        double best = -std::numeric_limits<double>::infinity(), total = 0;
        for (std::int64_t i = 0; i < k.kh; ++i)
          for (std::int64_t j = 0; j < k.kw; ++j) {
            std::int64_t iy = oy * k.sh - k.ph + i, ix = ox * k.sw - k.pw + j;
            if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;  // padding: -inf for max, 0 for mean
            double v = x[static_cast<std::size_t>((plane * k.h + iy) * k.w + ix)];
            best = std::max(best, v);
            total += v;
          }
        y.push_back(is_max ? best : total / static_cast<double>(k.kh * k.kw));
      }
  return y;
}

const std::vector<PoolCase> kPoolCases = {
    {1, 1, 4, 4, 2, 2, 2, 2, 0, 0},
    {2, 3, 7, 7, 3, 3, 2, 2, 1, 1},  // padding, stride ≠ kernel
    {2, 2, 6, 5, 3, 2, 1, 2, 1, 0},  // non-square everything
    {1, 2, 9, 8, 2, 3, 3, 1, 1, 1},  // stride larger than the kernel in h
    {3, 1, 5, 5, 5, 5, 1, 1, 2, 2},
};
}  // namespace

TEST(Conv, PoolingMatchesDirectLoops) {
  Generator gen(3);
  for (const PoolCase& k : kPoolCases)
    for (DType dt : {DType::Float64, DType::Float32}) {
      Tensor x = randn({k.n, k.c, k.h, k.w}, dt, gen);
      std::int64_t oh = (k.h + 2 * k.ph - k.kh) / k.sh + 1, ow = (k.w + 2 * k.pw - k.kw) / k.sw + 1;
      Tensor mx = max_pool2d(x, Size2(k.kh, k.kw), Size2(k.sh, k.sw), Size2(k.ph, k.pw));
      Tensor av = avg_pool2d(x, Size2(k.kh, k.kw), Size2(k.sh, k.sw), Size2(k.ph, k.pw));
      ASSERT_EQ(mx.shape(), (Shape{k.n, k.c, oh, ow}));
      ASSERT_EQ(av.shape(), (Shape{k.n, k.c, oh, ow}));
      EXPECT_EQ(mx.dtype(), dt);
      EXPECT_EQ(av.dtype(), dt);
      std::vector<double> xv = x.to_vector();
      EXPECT_EQ(mx.to_vector(), naive_pool(xv, k, true, oh, ow));  // a max is exact
      std::vector<double> mean = naive_pool(xv, k, false, oh, ow), got = av.to_vector();
      double tol = dt == DType::Float64 ? 1e-14 : 1e-6;
      for (std::size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], mean[i], tol) << i;
    }
}

TEST(Conv, PoolingDefaultStrideIsKernel) {
  Tensor x = reshape(arange(16, DType::Float64), {1, 1, 4, 4});
  EXPECT_EQ(max_pool2d(x, 2).to_vector(), (std::vector<double>{5, 7, 13, 15}));
  EXPECT_EQ(avg_pool2d(x, 2).to_vector(), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  // Zero padding counts in the average: the corner window of a padded 3x3 pool sees 4 of 9 elements.
  Tensor corner = avg_pool2d(x, 3, 1, 1);
  EXPECT_DOUBLE_EQ(corner.to_vector()[0], (0 + 1 + 4 + 5) / 9.0);
}

TEST(Conv, MaxPoolGradientGoesToTheMaximum) {
  Tensor x = tensor({1, 9, 2, 3,  //
                     4, 5, 8, 6,  //
                     7, 0, 1, 2,  //
                     3, 4, 5, 11},
                    {1, 1, 4, 4}, DType::Float64)
                 .requires_grad_();
  Tensor y = max_pool2d(x, 2);
  EXPECT_EQ(y.to_vector(), (std::vector<double>{9, 8, 7, 11}));
  y.backward(tensor({1, 2, 3, 4}, {1, 1, 2, 2}, DType::Float64));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 4}));
}

// PyTorch's rule: NaN beats any number, and of equal values the first in the window wins. Checked
// on the 2x2 path, a 3x3 window (the general unpadded path) and a padded one.
TEST(Conv, MaxPoolPropagatesNanAndKeepsTheFirstOfTies) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = tensor({1, 3, 3, 0,    //
                     nan, 2, 3, 1,  //
                     5, 5, 4, 4,    //
                     5, 5, 4, 4},
                    {1, 1, 4, 4}, DType::Float64)
                 .requires_grad_();
  Tensor y = max_pool2d(x, 2);
  std::vector<double> v = y.to_vector();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ((std::vector<double>{v[1], v[2], v[3]}), (std::vector<double>{3, 5, 4}));
  y.backward(tensor({1, 2, 3, 4}, {1, 1, 2, 2}, DType::Float64));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 0, 2, 0, 1, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}));

  Tensor wide = tensor({2, 7, 7, nan, 1, 7, 0, 0, 7}, {1, 1, 3, 3}, DType::Float64).requires_grad_();
  Tensor y3 = max_pool2d(wide, 3);
  EXPECT_TRUE(std::isnan(y3.item()));
  y3.backward(ones({1, 1, 1, 1}, DType::Float64));
  EXPECT_EQ(wide.grad().to_vector(), (std::vector<double>{0, 0, 0, 1, 0, 0, 0, 0, 0}));

  Tensor padded = tensor({7, 7, 7, 7}, {1, 1, 2, 2}, DType::Float64).requires_grad_();
  sum(max_pool2d(padded, 3, Size2(1), 1)).backward();
  EXPECT_EQ(padded.grad().to_vector(), (std::vector<double>{4, 0, 0, 0}));  // every window's first 7
}

// An empty batch has no chunks: an empty output, and empty or zero gradients.
TEST(Conv, EmptyBatch) {
  Tensor x = zeros({0, 2, 6, 6}).requires_grad_(), w = ones({3, 2, 3, 3}).requires_grad_();
  Tensor y = conv2d(x, w);
  EXPECT_EQ(y.shape(), (Shape{0, 3, 4, 4}));
  sum(y).backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(w.grad().to_vector(), std::vector<double>(54, 0.0));
}

// Without a graph, conv2d makes its columns a few images at a time and max_pool2d keeps no
// positions; the values must be those of the graph-recording path.
TEST(Conv, InferencePathMatchesTheTrainingPath) {
  Generator gen(11);
  Tensor x = randn({40, 4, 30, 30}, DType::Float32, gen);  // 40 images of 130 KB of columns: 3 chunks
  Tensor w = randn({6, 4, 3, 3}, DType::Float32, gen), b = randn({6}, DType::Float32, gen);
  Tensor wg = w.detach().clone().requires_grad_();
  Tensor trained = max_pool2d(conv2d(x, wg, b, 1, 1), 2);
  ASSERT_TRUE(trained.requires_grad());
  NoGradGuard no_grad;
  Tensor inferred = max_pool2d(conv2d(x, w, b, 1, 1), 2);
  EXPECT_EQ(inferred.shape(), trained.shape());
  EXPECT_EQ(inferred.to_vector(), trained.to_vector());
}

TEST(Conv, AvgPoolBackwardIsTheAdjoint) {
  Generator gen(5);
  for (const PoolCase& k : kPoolCases) {
    Tensor x = randn({k.n, k.c, k.h, k.w}, DType::Float64, gen);
    Tensor y = avg_pool2d(x, Size2(k.kh, k.kw), Size2(k.sh, k.sw), Size2(k.ph, k.pw));
    Tensor g = randn(y.shape(), DType::Float64, gen);
    Tensor back = avg_pool2d_backward(g, x.shape(), Size2(k.kh, k.kw), Size2(k.sh, k.sw), Size2(k.ph, k.pw));
    double lhs = sum(y * g).item(), rhs = sum(x * back).item();
    EXPECT_NEAR(lhs, rhs, 1e-12 * (1 + std::abs(lhs)));
  }
}

TEST(Conv, Im2colCol2imAreAdjoint) {
  Generator gen(9);
  for (const ConvCase& k : kConvCases) {
    Tensor x = randn({k.n, k.c, k.h, k.w}, DType::Float64, gen);
    Tensor cols = im2col(x, Size2(k.kh, k.kw), Size2(k.sh, k.sw), Size2(k.ph, k.pw));
    std::int64_t oh = (k.h + 2 * k.ph - k.kh) / k.sh + 1, ow = (k.w + 2 * k.pw - k.kw) / k.sw + 1;
    ASSERT_EQ(cols.shape(), (Shape{k.c * k.kh * k.kw, k.n * oh * ow})) << describe(k);
    Tensor c = randn(cols.shape(), DType::Float64, gen);
    Tensor back = col2im(c, x.shape(), Size2(k.kh, k.kw), Size2(k.sh, k.sw), Size2(k.ph, k.pw));
    ASSERT_EQ(back.shape(), x.shape());
    double lhs = sum(cols * c).item(), rhs = sum(x * back).item();
    EXPECT_NEAR(lhs, rhs, 1e-12 * (1 + std::abs(lhs))) << describe(k);
  }
}

TEST(Conv, Im2colLayout) {
  // One 3x3 image, 2x2 kernel, stride 1: column (y, x) holds the window at (y, x), rows (i, j).
  Tensor x = reshape(arange(9, DType::Float64), {1, 1, 3, 3});
  Tensor cols = im2col(x, 2);
  ASSERT_EQ(cols.shape(), (Shape{4, 4}));
  EXPECT_EQ(cols.to_vector(), (std::vector<double>{0, 1, 3, 4,  //
                                                   1, 2, 4, 5,  //
                                                   3, 4, 6, 7,  //
                                                   4, 5, 7, 8}));
  // col2im of all ones counts how many windows cover each pixel.
  EXPECT_EQ(col2im(ones({4, 4}, DType::Float64), {1, 1, 3, 3}, 2).to_vector(),
            (std::vector<double>{1, 2, 1, 2, 4, 2, 1, 2, 1}));
}

TEST(Conv, ClearErrors) {
  std::string msg = error_of([] { (void)conv2d(ones({1, 3, 5, 5}), ones({2, 4, 3, 3})); });
  EXPECT_CONTAINS(msg, "[1, 3, 5, 5]");
  EXPECT_CONTAINS(msg, "[2, 4, 3, 3]");
  EXPECT_CONTAINS(msg, "same C");
  msg = error_of([] { (void)conv2d(ones({1, 3, 5, 5}), ones({2, 3, 3, 3}), ones({3})); });
  EXPECT_CONTAINS(msg, "bias");
  EXPECT_CONTAINS(msg, "[2]");
  msg = error_of([] { (void)conv2d(ones({1, 1, 2, 2}), ones({1, 1, 3, 3})); });
  EXPECT_CONTAINS(msg, "larger than the padded input");
  msg = error_of([] { (void)conv2d(ones({3, 5, 5}), ones({2, 3, 3, 3})); });
  EXPECT_CONTAINS(msg, "[3, 5, 5]");
  msg = error_of([] { (void)max_pool2d(ones({4, 4}), 2); });
  EXPECT_CONTAINS(msg, "(N, C, H, W)");
  msg = error_of([] { (void)max_pool2d_backward(ones({1, 1, 2, 2}), zeros({1, 1, 3}, DType::Int64), {1, 1, 4, 4}); });
  EXPECT_CONTAINS(msg, "[1, 1, 3]");
  EXPECT_CONTAINS(msg, "index (N, C, oh·ow)");
  msg = error_of([] { (void)max_pool2d_backward(ones({1, 1, 1, 1}), full({1, 1, 1}, 16, DType::Int64), {1, 1, 4, 4}); });
  EXPECT_CONTAINS(msg, "index 16 is outside [0, 16)");
  msg = error_of([] { (void)relu_backward(ones({2, 3}), ones({3})); });
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_CONTAINS(msg, "[3]");
  msg = error_of([] { (void)avg_pool2d(ones({1, 1, 4, 4}), 2, Size2(0)); });
  EXPECT_CONTAINS(msg, "stride");
  msg = error_of([] { (void)col2im(ones({4, 5}), {1, 1, 3, 3}, 2); });
  EXPECT_CONTAINS(msg, "[4, 4]");
  EXPECT_CONTAINS(msg, "[4, 5]");
}
