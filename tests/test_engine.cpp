// The autograd engine: accumulation, retain_graph, grad mode, error messages, deep graphs,
// freeing the graph, zg::grad, higher-order derivatives and anomaly mode.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

Tensor f64(const std::vector<double>& v, const Shape& shape = {}) { return tensor(v, shape, DType::Float64); }

}  // namespace

// ---- accumulation and retain_graph ----

TEST(Engine, TensorUsedTwiceAccumulatesExactly) {
  Tensor x = f64({1.5, -2.0, 0.25, 3.0}).requires_grad_();
  Tensor y = sum(x * x + x);
  y.backward();
  // d/dx (x² + x) = 2x + 1; every value here is exact in binary.
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{4.0, -3.0, 1.5, 7.0}));
  EXPECT_EQ(x.grad().dtype(), DType::Float64);
}

TEST(Engine, TensorUsedTwiceAccumulatesFloat32) {
  Tensor x = tensor({0.5, -1.0}).requires_grad_();
  Tensor y = sum(x * x * x + x * 2.0);  // 3x² + 2
  y.backward();
  EXPECT_EQ(x.grad().dtype(), DType::Float32);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2.75, 5.0}));
}

TEST(Engine, SameInputTwiceInOneOp) {
  Tensor x = f64({3.0, -0.5}).requires_grad_();
  sum(x + x).backward();  // add's backward hands the same g to both inputs
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2.0, 2.0}));
}

TEST(Engine, RetainGraphTwiceDoublesGradient) {
  Tensor x = f64({0.3, -1.7, 2.2}).requires_grad_();
  Tensor y = sum(exp(x) * x + sin(x));
  y.backward(Tensor(), {.retain_graph = true});
  std::vector<double> once = x.grad().to_vector();
  for (std::size_t i = 0; i < once.size(); ++i) {
    double v = x.to_vector()[i];
    EXPECT_NEAR(once[i], std::exp(v) * (v + 1) + std::cos(v), 1e-14);
  }
  y.backward(Tensor(), {.retain_graph = true});
  std::vector<double> twice = x.grad().to_vector();
  for (std::size_t i = 0; i < once.size(); ++i) EXPECT_EQ(twice[i], 2 * once[i]);  // a + a is exact
}

TEST(Engine, SecondBackwardWithoutRetainGraphThrows) {
  Tensor x = f64({1.0, 2.0}).requires_grad_();
  Tensor y = sum(x * x);
  y.backward();
  std::string msg = error_of([&] { y.backward(); });
  EXPECT_CONTAINS(msg, "retain_graph");
  EXPECT_CONTAINS(msg, "'sum'");
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2.0, 4.0}));  // untouched by the failed call
}

TEST(Engine, SecondBackwardThroughSharedFreedSubgraphThrows) {
  Tensor x = f64({1.0, 2.0}).requires_grad_();
  Tensor h = exp(x);
  sum(h).backward();  // frees h's node too
  std::string msg = error_of([&] { sum(h * 2.0).backward(); });
  EXPECT_CONTAINS(msg, "'exp'");
  EXPECT_CONTAINS(msg, "retain_graph");
}

// ---- grad mode ----

TEST(Engine, NoGradBuildsNoGraphAndRestoresMode) {
  Tensor x = f64({1.0, -2.0}).requires_grad_();
  ASSERT_TRUE(is_grad_enabled());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(is_grad_enabled());
    Tensor y = exp(x) * x + 1.0;
    EXPECT_EQ(y.grad_fn(), nullptr);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    EXPECT_NEAR(y.to_vector()[0], std::exp(1.0) + 1.0, 1e-15);
    EXPECT_CONTAINS(error_of([&] { sum(y).backward(); }), "does not require grad");
    {
      GradModeGuard enable(true);
      Tensor z = x * 2.0;
      ASSERT_NE(z.grad_fn(), nullptr);
      EXPECT_STREQ(z.grad_fn()->name, "mul");
    }
    EXPECT_FALSE(is_grad_enabled());
  }
  EXPECT_TRUE(is_grad_enabled());
  Tensor w = x * 2.0;
  EXPECT_NE(w.grad_fn(), nullptr);
}

TEST(Engine, NoGradGuardRestoresModeWhenUnwinding) {
  EXPECT_THROW(
      {
        NoGradGuard no_grad;
        (void)add(ones({2}), ones({3}));
      },
      std::invalid_argument);
  EXPECT_TRUE(is_grad_enabled());
}

TEST(Engine, RequiresGradOnInt64Throws) {
  Tensor labels = tensor({1, 2}, DType::Int64);
  std::string msg = error_of([&] { labels.requires_grad_(); });
  EXPECT_CONTAINS(msg, "int64");
  EXPECT_FALSE(labels.requires_grad());
}

TEST(Engine, RequiresGradOnNonLeafThrows) {
  Tensor x = f64({1.0}).requires_grad_();
  Tensor y = x * 2.0;
  std::string msg = error_of([&] { y.requires_grad_(false); });
  EXPECT_CONTAINS(msg, "leaf");
  EXPECT_TRUE(y.requires_grad());
  Tensor d = y.detach();
  EXPECT_NO_THROW(d.requires_grad_());
  EXPECT_TRUE(d.requires_grad());
}

// ---- backward's arguments ----

TEST(Engine, BackwardOnNonScalarNeedsGradient) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = x * 3.0;
  std::string msg = error_of([&] { y.backward(); });
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_CONTAINS(msg, "explicit gradient");

  msg = error_of([&] { y.backward(ones({3, 2}, DType::Float64)); });
  EXPECT_CONTAINS(msg, "[3, 2]");
  EXPECT_CONTAINS(msg, "[2, 3]");

  Tensor g = f64({1, -1, 2, -2, 0.5, 0}, {2, 3});
  y.backward(g);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{3, -3, 6, -6, 1.5, 0}));
}

TEST(Engine, BackwardGradientConvertedToOutputDtype) {
  Tensor x = tensor({1.0, 2.0}).requires_grad_();  // float32
  Tensor y = x * x;
  y.backward(f64({0.5, 0.25}));
  EXPECT_EQ(x.grad().dtype(), DType::Float32);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1.0, 1.0}));
}

TEST(Engine, OneElementNonScalarGetsImplicitOne) {
  Tensor x = f64({2.0}).requires_grad_();
  Tensor y = reshape(x * x, {1, 1});
  y.backward();
  EXPECT_EQ(x.grad().item(), 4.0);
}

// ---- custom ops through record ----

namespace {
// y = x² with a correct backward (2x·g) through record.
Tensor custom_square(const Tensor& x) {
  return record("custom_square", x.detach() * x.detach(), {x},
                [](const Node& n, const Tensor& g) { return Grads{g * 2.0 * n.in(0)}; });
}
}  // namespace

TEST(Engine, CustomOpThroughRecord) {
  Tensor x = f64({1.5, -3.0}).requires_grad_();
  Tensor y = custom_square(x);
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_STREQ(y.grad_fn()->name, "custom_square");
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{3.0, -6.0}));
}

TEST(Engine, WronglyShapedGradientNamesOpAndShapes) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = record("bad_shape_op", x.detach() * 2.0, {x},
                    [](const Node&, const Tensor& g) { return Grads{ones({5}, g.dtype())}; });
  std::string msg = error_of([&] { sum(y).backward(); });
  EXPECT_CONTAINS(msg, "'bad_shape_op'");
  EXPECT_CONTAINS(msg, "[5]");
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_THROW(sum(record("bad_shape_op", x.detach() * 2.0, {x},
                          [](const Node&, const Tensor& g) { return Grads{ones({5}, g.dtype())}; }))
                   .backward(),
               std::logic_error);
}

TEST(Engine, WrongDtypeGradientNamesBothDtypes) {
  Tensor x = f64({1, 2}).requires_grad_();
  Tensor y = record("bad_dtype_op", x.detach() * 2.0, {x},
                    [](const Node&, const Tensor& g) { return Grads{g.to(DType::Float32)}; });
  std::string msg = error_of([&] { sum(y).backward(); });
  EXPECT_CONTAINS(msg, "'bad_dtype_op'");
  EXPECT_CONTAINS(msg, "float32");
  EXPECT_CONTAINS(msg, "float64");
}

// ---- deep graphs ----

TEST(Engine, HundredThousandOpChainBackwardAndDestroy) {
  const std::int64_t before = memory_stats().current_bytes;
  Tensor x = f64({1.0}).requires_grad_();
  constexpr int kOps = 100000;
  constexpr double kFactor = 1.0000001;
  {
    Tensor y = x;
    for (int i = 0; i < kOps; ++i) y = y * kFactor;
    // The forward and the backward are the same kOps correctly rounded products of 1.
    double expected = 1.0;
    for (int i = 0; i < kOps; ++i) expected *= kFactor;
    EXPECT_EQ(y.item(), expected);
    y.backward();
    EXPECT_EQ(x.grad().item(), expected);
  }
  x = Tensor();
  EXPECT_EQ(memory_stats().current_bytes, before);
}

TEST(Engine, HundredThousandOpChainDestroyedWithoutBackward) {
  const std::int64_t before = memory_stats().current_bytes;
  {
    Tensor x = f64({1.0, 2.0}).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 0.0;
    EXPECT_EQ(y.to_vector(), (std::vector<double>{1.0, 2.0}));
    EXPECT_GT(memory_stats().current_bytes - before, 100000 * 16);  // the chain is alive
  }  // destroying y releases the whole chain
  EXPECT_EQ(memory_stats().current_bytes, before);
}

TEST(Engine, HundredThousandOpChainWithRetainedGraphDestroyed) {
  const std::int64_t before = memory_stats().current_bytes;
  {
    Tensor x = f64({3.0}).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 0.0;
    y.backward(Tensor(), {.retain_graph = true});
    y.backward(Tensor(), {.retain_graph = true});
    EXPECT_EQ(x.grad().item(), 2.0);
  }
  EXPECT_EQ(memory_stats().current_bytes, before);
}

// ---- freeing the graph ----

TEST(Engine, GraphIsFreedAfterBackward) {
  constexpr std::int64_t n = 1000, bytes = n * 8;
  Tensor x = randn({n}, DType::Float64).requires_grad_();
  const std::int64_t before = memory_stats().current_bytes;
  Tensor loss;
  {
    Tensor h = exp(x);
    Tensor h2 = h * h;
    loss = sum(tanh(h2));
  }  // h, h2 and tanh's output are now held only by the graph
  EXPECT_GE(memory_stats().current_bytes - before, 3 * bytes);
  loss.backward();
  // What is left: the loss (one double) and x.grad().
  EXPECT_EQ(memory_stats().current_bytes - before, 8 + bytes);
  EXPECT_EQ(x.grad().numel(), n);
}

TEST(Engine, RetainedGraphKeepsIntermediatesUntilOutputDies) {
  constexpr std::int64_t n = 1000, bytes = n * 8;
  Tensor x = randn({n}, DType::Float64).requires_grad_();
  const std::int64_t before = memory_stats().current_bytes;
  Tensor loss;
  {
    Tensor h = exp(x);
    loss = sum(h * h);
  }
  loss.backward(Tensor(), {.retain_graph = true});
  EXPECT_GE(memory_stats().current_bytes - before, 2 * bytes + 8 + bytes);  // exp, mul outputs and x.grad()
  loss = Tensor();
  EXPECT_EQ(memory_stats().current_bytes - before, bytes);  // only x.grad()
}

// ---- zg::grad ----

TEST(Engine, GradReturnsGradientsWithoutTouchingDotGrad) {
  Tensor x = f64({0.5, -2.0, 3.0}).requires_grad_();
  Tensor unused = f64({1.0, 1.0}).requires_grad_();
  Tensor y = sum(x * x * x);
  std::vector<Tensor> gs = grad({y}, {x, unused});
  ASSERT_EQ(gs.size(), 2u);
  EXPECT_EQ(gs[0].to_vector(), (std::vector<double>{0.75, 12.0, 27.0}));
  EXPECT_EQ(gs[1].to_vector(), (std::vector<double>{0.0, 0.0}));  // y does not depend on it
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(unused.grad().defined());
}

TEST(Engine, GradWithRespectToIntermediate) {
  Tensor x = f64({1.0, -2.0}).requires_grad_();
  Tensor h = x * 3.0;
  Tensor y = sum(h * h);
  std::vector<Tensor> gs = grad({y}, {h, x});
  EXPECT_EQ(gs[0].to_vector(), (std::vector<double>{6.0, -12.0}));   // 2h
  EXPECT_EQ(gs[1].to_vector(), (std::vector<double>{18.0, -36.0}));  // 18x
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, GradWithExplicitOutputGradient) {
  Tensor x = f64({1.0, 2.0}).requires_grad_();
  Tensor y = x * x;
  std::vector<Tensor> gs = grad({y}, {x}, {f64({10.0, -1.0})});
  EXPECT_EQ(gs[0].to_vector(), (std::vector<double>{20.0, -4.0}));
  EXPECT_CONTAINS(error_of([&] { grad({x * 2.0}, {x}); }), "[2]");
}

// ---- higher-order derivatives ----

TEST(Engine, SecondDerivativeOfCube) {
  Tensor x = f64({0.5, -1.5, 2.0}).requires_grad_();
  Tensor y = sum(x * x * x);
  std::vector<Tensor> g = grad({y}, {x}, {}, {.create_graph = true});
  EXPECT_EQ(g[0].to_vector(), (std::vector<double>{0.75, 6.75, 12.0}));  // 3x²
  ASSERT_TRUE(g[0].requires_grad());
  std::vector<Tensor> h = grad({sum(g[0])}, {x});
  EXPECT_EQ(h[0].to_vector(), (std::vector<double>{3.0, -9.0, 12.0}));  // 6x
}

TEST(Engine, SecondDerivativeOfCubeThroughBackward) {
  Tensor x = f64({0.5, -1.5, 2.0}).requires_grad_();
  Tensor y = sum(pow(x, 3.0));
  y.backward(Tensor(), {.create_graph = true});
  Tensor g = x.grad();
  EXPECT_EQ(g.to_vector(), (std::vector<double>{0.75, 6.75, 12.0}));
  ASSERT_TRUE(g.requires_grad());
  std::vector<Tensor> h = grad({sum(g)}, {x});
  EXPECT_EQ(h[0].to_vector(), (std::vector<double>{3.0, -9.0, 12.0}));
}

TEST(Engine, HessianVectorProductOfQuadraticForm) {
  // f(x) = ½ xᵀAx with A symmetric: ∇f = Ax, ∇²f·v = Av.
  Tensor a = f64({4.0, 1.0, -2.0,  //
                  1.0, 3.0, 0.5,   //
                  -2.0, 0.5, 5.0},
                 {3, 3});
  Tensor x = f64({0.7, -1.3, 2.1}, {3, 1}).requires_grad_();
  Tensor v = f64({1.0, -0.5, 0.25}, {3, 1});
  Tensor f = 0.5 * sum(x * mm(a, x));
  std::vector<Tensor> g = grad({f}, {x}, {}, {.retain_graph = true, .create_graph = true});
  std::vector<double> av = mm(a, v).to_vector(), ax = mm(a, x.detach()).to_vector();
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(g[0].to_vector()[i], ax[i], 1e-14);
  std::vector<Tensor> hv = grad({sum(g[0] * v)}, {x});
  ASSERT_EQ(hv[0].shape(), (Shape{3, 1}));
  std::vector<double> expected{4.0 - 0.5 - 0.5, 1.0 - 1.5 + 0.125, -2.0 - 0.25 + 1.25};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(hv[0].to_vector()[i], av[i], 1e-14);
    EXPECT_NEAR(hv[0].to_vector()[i], expected[i], 1e-14);
  }
}

TEST(Engine, HessianDiagonalOfCrossEntropy) {
  // loss = -log softmax(z)[label]: ∇ = p - onehot, ∂²/∂z_i∂z_j = p_i(δ_ij - p_j).
  Tensor z = f64({0.3, -1.2, 2.0, 0.5}, {1, 4}).requires_grad_();
  Tensor label = tensor({2}, DType::Int64);
  Tensor loss = -sum(one_hot(label, 4, DType::Float64) * log_softmax(z, 1));
  std::vector<Tensor> g = grad({loss}, {z}, {}, {.retain_graph = true, .create_graph = true});
  std::vector<double> zs = z.to_vector(), p(4);
  double total = 0;
  for (double v : zs) total += std::exp(v);
  for (std::size_t i = 0; i < 4; ++i) p[i] = std::exp(zs[i]) / total;
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(g[0].to_vector()[i], p[i] - (i == 2 ? 1.0 : 0.0), 1e-15);
  for (std::int64_t i = 0; i < 4; ++i) {
    Tensor gi = slice(g[0], 1, i, i + 1);  // ∂loss/∂z_i
    std::vector<double> row = grad({sum(gi)}, {z}, {}, {.retain_graph = true})[0].to_vector();
    for (std::size_t j = 0; j < 4; ++j) {
      double expected = (static_cast<std::size_t>(i) == j ? p[j] : 0.0) - p[static_cast<std::size_t>(i)] * p[j];
      EXPECT_NEAR(row[j], expected, 1e-15) << "H[" << i << "][" << j << "]";
    }
    EXPECT_NEAR(row[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(i)] * (1 - p[static_cast<std::size_t>(i)]),
                1e-15);
  }
}

TEST(Engine, CreateGraphFalseGivesConstantGradients) {
  Tensor x = f64({2.0}).requires_grad_();
  std::vector<Tensor> g = grad({sum(x * x * x)}, {x});
  EXPECT_FALSE(g[0].requires_grad());
  EXPECT_EQ(g[0].grad_fn(), nullptr);
}

// ---- anomaly mode ----

TEST(Engine, AnomalyNamesFirstForwardOpProducingInf) {
  Tensor x = tensor({1.0, 0.0, 2.0, 3.0}, {2, 2});
  {
    DetectAnomalyGuard anomaly;
    EXPECT_TRUE(is_anomaly_enabled());
    Tensor a = x * 2.0;  // finite: no throw
    std::string msg = error_of([&] { (void)exp(log(a)); });
    EXPECT_CONTAINS(msg, "'log'");
    EXPECT_CONTAINS(msg, "-inf");
    EXPECT_CONTAINS(msg, "element 1");
    EXPECT_CONTAINS(msg, "[2, 2]");
    EXPECT_EQ(msg.find("'exp'"), std::string::npos) << msg;
    EXPECT_CONTAINS(error_of([&] { (void)sqrt(x - 1.0); }), "'sqrt' produced nan");
  }
  EXPECT_FALSE(is_anomaly_enabled());
  Tensor y;
  EXPECT_NO_THROW(y = log(x));
  EXPECT_TRUE(std::isinf(y.to_vector()[1]));
  EXPECT_LT(y.to_vector()[1], 0);
}

TEST(Engine, AnomalyNamesBackwardProducingInf) {
  Tensor x = f64({0.0, 4.0}).requires_grad_();
  {
    DetectAnomalyGuard anomaly;
    Tensor y = sum(sqrt(x));  // forward is finite; d√x/dx = 1/(2√x) is inf at 0
    std::string msg = error_of([&] { y.backward(); });
    EXPECT_CONTAINS(msg, "backward of 'sqrt'");
    EXPECT_CONTAINS(msg, "inf");
    EXPECT_CONTAINS(msg, "[2]");
  }
  Tensor y = sum(sqrt(x));
  EXPECT_NO_THROW(y.backward());
  EXPECT_TRUE(std::isinf(x.grad().to_vector()[0]));
  EXPECT_EQ(x.grad().to_vector()[1], 0.25);
}

TEST(Engine, BackwardThatThrowsLeavesGradUntouched) {
  // Whichever branch runs first, the leaf gets nothing when the other one fails.
  for (bool sqrt_first : {true, false}) {
    Tensor x = f64({0.0, 4.0}).requires_grad_();
    DetectAnomalyGuard anomaly;
    Tensor y = sqrt_first ? sum(sqrt(x)) + sum(x * 3.0) : sum(x * 3.0) + sum(sqrt(x));
    EXPECT_CONTAINS(error_of([&] { y.backward(); }), "backward of 'sqrt'");
    EXPECT_FALSE(x.grad().defined());
  }
}

TEST(Engine, AnomalyModeQuietOnFiniteComputation) {
  DetectAnomalyGuard anomaly;
  Tensor z = f64({0.3, -1.2, 2.0, 0.5, 1.0, -3.0}, {2, 3}).requires_grad_();
  Tensor loss = -sum(one_hot(tensor({2, 0}, DType::Int64), 3, DType::Float64) * log_softmax(z, 1));
  EXPECT_NO_THROW(loss.backward());
  EXPECT_TRUE(z.grad().defined());
}
