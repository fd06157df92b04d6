// Numerical edge cases and the exact semantics of elementwise, reduction and shape ops.
#include "zoograd/tests/test_numerics.h"

TEST(Numerics, LogSoftmaxOfHugeLogitsIsExact) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor y = log_softmax(tensor({1e4, -1e4, 0}, {1, 3}, dt), 1);
    EXPECT_EQ(y.dtype(), dt);
    EXPECT_EQ(y.to_vector(), (V{0.0, -2e4, -1e4})) << dtype_name(dt);
  }
}

TEST(Numerics, LogSoftmaxGradientOfHugeLogits) {
  Tensor x = f64({1e4, -1e4, 0}, {1, 3}).requires_grad_();
  sum(log_softmax(x, 1) * f64({1, 0, 0}, {1, 3})).backward();  // d y_0 / dx = e_0 - softmax(x)
  EXPECT_EQ(x.grad().to_vector(), (V{0.0, 0.0, 0.0}));
}

TEST(Numerics, SoftmaxOfLargeFloat32MatchesFloat64) {
  Tensor y32 = softmax(tensor({88, 89, 90}), 0);
  Tensor y64 = softmax(f64({88, 89, 90}), 0);
  EXPECT_EQ(y32.dtype(), DType::Float32);
  ASSERT_TRUE(all_finite(y32));
  double total = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  V expected{std::exp(-2.0) / total, std::exp(-1.0) / total, 1.0 / total};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(y32.to_vector()[i], y64.to_vector()[i], 1e-6);
    EXPECT_NEAR(y64.to_vector()[i], expected[i], 1e-15);
  }
}

TEST(Numerics, SoftmaxAlongDim0OfMatrix) {
  Tensor y = softmax(f64({0, 1, 2, 0, 3, 2}, {2, 3}), 0);
  V v = y.to_vector();
  double h = 1.0 / (1.0 + std::exp(-2.0));  // e³ / (e + e³)
  EXPECT_DOUBLE_EQ(v[0], 0.5);
  EXPECT_DOUBLE_EQ(v[3], 0.5);
  EXPECT_NEAR(v[1], 1 - h, 1e-15);
  EXPECT_NEAR(v[4], h, 1e-15);
  EXPECT_DOUBLE_EQ(v[2], 0.5);
  EXPECT_DOUBLE_EQ(v[5], 0.5);
}

TEST(Numerics, LogsumexpOfAllMinusInfRow) {
  Tensor x = f64({-kInf, -kInf, -kInf, 1, 2, 3}, {2, 3}).requires_grad_();
  Tensor y = logsumexp(x, {1});
  ASSERT_EQ(y.shape(), (Shape{2}));
  V v = y.to_vector();
  EXPECT_EQ(v[0], -kInf);
  double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(v[1], lse, 1e-14);
  y.backward(f64({1.0, 1.0}));
  V g = x.grad().to_vector();
  ASSERT_TRUE(all_finite(x.grad()));
  EXPECT_EQ(g[0], 0.0);
  EXPECT_EQ(g[1], 0.0);
  EXPECT_EQ(g[2], 0.0);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(g[3 + i], std::exp(static_cast<double>(i + 1) - lse), 1e-15);
}

TEST(Numerics, LogsumexpOfLargeValuesIsExact) {
  Tensor x = f64({1e4, 1e4, 1e4, 1e4, -1e4, -1e4, -1e4, -1e4}, {2, 4});
  V v = logsumexp(x, {1}).to_vector();
  EXPECT_EQ(v[0], 1e4 + std::log(4.0));
  EXPECT_EQ(v[1], -1e4 + std::log(4.0));
  EXPECT_EQ(logsumexp(f64({1e4, -1e4}), {0}).item(), 1e4);
  Tensor y32 = logsumexp(tensor({1e4, 1e4}), {0});
  EXPECT_EQ(y32.dtype(), DType::Float32);
  EXPECT_FLOAT_EQ(static_cast<float>(y32.item()), 1e4f + std::log(2.0f));
}

TEST(Numerics, LogsumexpKeepdimAndMultipleDims) {
  Tensor x = f64({0, 1, 2, 3, 4, 5}, {1, 2, 3});
  Tensor all = logsumexp(x, {1, 2}, {.keepdim = true});
  EXPECT_EQ(all.shape(), (Shape{1, 1, 1}));
  double s = 0;
  for (int i = 0; i < 6; ++i) s += std::exp(i);
  EXPECT_NEAR(all.item(), std::log(s), 1e-14);
  EXPECT_EQ(logsumexp(x, {-1}).shape(), (Shape{1, 2}));
}

// ---- saturating functions ----

TEST(Numerics, SigmoidAndSoftplusAtExtremes) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor x = tensor({1e4, -1e4, 0}, {}, dt).requires_grad_();
    Tensor s = sigmoid(x);
    EXPECT_EQ(s.to_vector(), (V{1.0, 0.0, 0.5})) << dtype_name(dt);
    Tensor sp = softplus(x);
    EXPECT_EQ(sp.to_vector()[0], 1e4);
    EXPECT_EQ(sp.to_vector()[1], 0.0);
    EXPECT_NEAR(sp.to_vector()[2], std::log(2.0), 1e-7);
    sum(s + sp).backward();
    ASSERT_TRUE(all_finite(x.grad()));
    // dσ/dx = σ(1 - σ): 0, 0, 1/4;  d softplus/dx = σ: 1, 0, 1/2
    EXPECT_EQ(x.grad().to_vector(), (V{1.0, 0.0, 0.75})) << dtype_name(dt);
  }
}

TEST(Numerics, SoftplusWithBeta) {
  Tensor x = f64({2.0, -3.0, 500.0});
  V v = softplus(x, 2.0).to_vector();
  EXPECT_NEAR(v[0], std::log1p(std::exp(4.0)) / 2, 1e-15);
  EXPECT_NEAR(v[1], std::log1p(std::exp(-6.0)) / 2, 1e-15);
  EXPECT_EQ(v[2], 500.0);
  EXPECT_CONTAINS(error_of([&] { (void)softplus(x, 0.0); }), "beta");
}

TEST(Numerics, AcosGradientFiniteAtPlusMinusOne) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor x = tensor({-1.0, 1.0, 0.0}, {}, dt).requires_grad_();
    Tensor y = acos(x);
    EXPECT_NEAR(y.to_vector()[0], std::numbers::pi, 1e-6);
    EXPECT_EQ(y.to_vector()[1], 0.0);
    EXPECT_NEAR(y.to_vector()[2], std::numbers::pi / 2, 1e-6);
    sum(y).backward();
    ASSERT_TRUE(all_finite(x.grad())) << dtype_name(dt);
    V g = x.grad().to_vector();
    EXPECT_NEAR(g[0], -1e6, 1.0);  // -1/√(clamped 1e-12)
    EXPECT_NEAR(g[1], -1e6, 1.0);
    EXPECT_NEAR(g[2], -1.0, 1e-7);
  }
}

TEST(Numerics, NormalizeZeroVector) {
  Tensor x = f64({0, 0, 0, 3, 0, -4}, {2, 3}).requires_grad_();
  Tensor y = normalize(x, 2.0, 1);
  EXPECT_EQ(y.to_vector(), (V{0, 0, 0, 0.6, 0, -0.8}));
  Tensor w = f64({1, -2, 0.5, 1, 1, 1}, {2, 3});
  sum(y * w).backward();
  ASSERT_TRUE(all_finite(x.grad()));
  V g = x.grad().to_vector();
  // Zero row: the denominator is eps = 1e-12, so dy/dx = I / eps.
  EXPECT_NEAR(g[0], 1e12, 1e-3);
  EXPECT_NEAR(g[1], -2e12, 1e-3);
  EXPECT_NEAR(g[2], 0.5e12, 1e-3);
  // Other row: (w - y (y·w)) / ‖x‖ with ‖x‖ = 5, y·w = -0.2.
  EXPECT_NEAR(g[3], (1 - 0.6 * -0.2) / 5, 1e-15);
  EXPECT_NEAR(g[4], (1 - 0.0) / 5, 1e-15);
  EXPECT_NEAR(g[5], (1 + 0.8 * -0.2) / 5, 1e-15);
}

TEST(Numerics, NormalizeZeroVectorFloat32AndOtherP) {
  Tensor x = tensor({0, 0, 0, 0}, {2, 2}).requires_grad_();
  Tensor y = normalize(x, 2.0, 1);
  EXPECT_EQ(y.to_vector(), (V{0, 0, 0, 0}));
  sum(y).backward();
  EXPECT_TRUE(all_finite(x.grad()));
  Tensor x1 = f64({0, 0, 1, -3}, {2, 2}).requires_grad_();
  Tensor y1 = normalize(x1, 1.0, 1);
  EXPECT_EQ(y1.to_vector(), (V{0, 0, 0.25, -0.75}));
  sum(y1).backward();
  EXPECT_TRUE(all_finite(x1.grad()));
}

// ---- broadcasting and promotion ----

TEST(Numerics, BroadcastingErrorNamesBothShapes) {
  std::string msg = error_of([] { (void)add(ones({2, 3}), ones({4})); });
  EXPECT_CONTAINS(msg, "add");
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_CONTAINS(msg, "[4]");
  msg = error_of([] { (void)mul(ones({5, 1, 3}), ones({2, 2, 1})); });
  EXPECT_CONTAINS(msg, "mul");
  EXPECT_CONTAINS(msg, "[5, 1, 3]");
  EXPECT_CONTAINS(msg, "[2, 2, 1]");
}

TEST(Numerics, BroadcastingValuesAndGradients) {
  Tensor a = f64({1, 2, 3}, {3, 1}).requires_grad_();
  Tensor b = f64({10, 20}, {2}).requires_grad_();
  Tensor c = a * b;
  ASSERT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(c.to_vector(), (V{10, 20, 20, 40, 30, 60}));
  sum(c).backward();
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1}));
  EXPECT_EQ(a.grad().to_vector(), (V{30, 30, 30}));
  EXPECT_EQ(b.grad().to_vector(), (V{6, 6}));
}

// Broadcast loops merge dims along which each operand either advances or stays put.
TEST(Numerics, BroadcastingPerChannelAndAcrossMergedDims) {
  Tensor x = reshape(arange(2 * 3 * 2 * 2, DType::Float64), {2, 3, 2, 2});
  V xv = x.to_vector(), channel, per_channel, per_row;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    channel.push_back(100.0 * static_cast<double>(i / 4 % 3 + 1));
    per_channel.push_back(xv[i] + channel.back());
    per_row.push_back(xv[i] * static_cast<double>(i / 2 % 2 + 1));
  }
  Tensor c = f64({100, 200, 300}, {1, 3, 1, 1});
  EXPECT_EQ((x + c).to_vector(), per_channel);
  EXPECT_EQ((c + x).to_vector(), per_channel);
  EXPECT_EQ(broadcast_to(c, x.shape()).to_vector(), channel);
  EXPECT_EQ((x * f64({1, 2}, {2, 1})).to_vector(), per_row);
  EXPECT_EQ((x - 1.0).to_vector()[23], 22);
}

TEST(Numerics, PromotionFloat32WithFloat64) {
  Tensor a = tensor({1, 2}).requires_grad_();
  Tensor b = f64({3, 4}).requires_grad_();
  Tensor c = a * b;
  EXPECT_EQ(c.dtype(), DType::Float64);
  EXPECT_EQ((b + a).dtype(), DType::Float64);
  sum(c).backward();
  EXPECT_EQ(a.grad().dtype(), DType::Float32);
  EXPECT_EQ(b.grad().dtype(), DType::Float64);
  EXPECT_EQ(a.grad().to_vector(), (V{3, 4}));
  EXPECT_EQ(b.grad().to_vector(), (V{1, 2}));
}

TEST(Numerics, Int64OperandTakesFloatingDtype) {
  Tensor c = tensor({1.5, 2.5}) + i64({1, 2});
  EXPECT_EQ(c.dtype(), DType::Float32);
  EXPECT_EQ(c.to_vector(), (V{2.5, 4.5}));
  EXPECT_CONTAINS(error_of([] { (void)exp(i64({1})); }), "int64");
}

// ---- where, clamp, comparisons ----

TEST(Numerics, WhereValuesAndGradients) {
  Tensor cond = i64({1, 0, 0, 1});
  Tensor a = f64({1, 2, 3, 4}).requires_grad_();
  Tensor b = f64({-1}).requires_grad_();
  Tensor y = where(cond, a, b);
  EXPECT_EQ(y.to_vector(), (V{1, -1, -1, 4}));
  sum(y * f64({1, 2, 3, 4})).backward();
  EXPECT_EQ(a.grad().to_vector(), (V{1, 0, 0, 4}));
  EXPECT_EQ(b.grad().to_vector(), (V{5}));
  Tensor m = where(tensor({0, 1}, {2, 1}), f64({1, 2, 3}), f64({7}));  // broadcast to (2, 3)
  EXPECT_EQ(m.shape(), (Shape{2, 3}));
  EXPECT_EQ(m.to_vector(), (V{7, 7, 7, 1, 2, 3}));
}

TEST(Numerics, ClampValuesAndGradients) {
  Tensor x = f64({-2, -1, 0, 1, 2}).requires_grad_();
  EXPECT_EQ(clamp(x, -1.0, 1.0).to_vector(), (V{-1, -1, 0, 1, 1}));
  EXPECT_EQ(clamp(x, 0.5).to_vector(), (V{0.5, 0.5, 0.5, 1, 2}));
  EXPECT_EQ(clamp(x, std::nullopt, -0.5).to_vector(), (V{-2, -1, -0.5, -0.5, -0.5}));
  sum(clamp(x, -1.0, 1.0)).backward();
  EXPECT_EQ(x.grad().to_vector(), (V{0, 1, 1, 1, 0}));  // the bounds count as inside
  EXPECT_CONTAINS(error_of([&] { (void)clamp(x, 2.0, 1.0); }), "greater than max");
}
