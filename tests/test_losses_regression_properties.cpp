// Properties of the regression family: reductions of RMSE, shapes, equivalences, extremes and argument errors.
#include "zoograd/tests/test_losses_regression.h"

namespace {

// RMSE per sample, then reduced over samples; the batch as one sample is √(F.mse_loss(x, y) + eps).
TEST(RegressionProperties, RmseReductions) {
  Generator gen(5);
  std::vector<Tensor> in = find_loss("rmse_loss").sample(DType::Float64, gen);  // (4, 3)
  const double eps = 1e-12;
  std::vector<double> expected;
  for (double m : mean(pow(in[0] - in[1], 2.0), {1}).to_vector()) expected.push_back(std::sqrt(m + eps));
  expect_all_near(rmse_loss(in[0], in[1], {Reduction::None}).to_vector(), expected, 1e-12, "per-sample RMSE");
  EXPECT_NEAR(rmse_loss(in[0], in[1]).item(), (expected[0] + expected[1] + expected[2] + expected[3]) / 4, 1e-12);
  Tensor x = reshape(in[0], {1, -1}), y = reshape(in[1], {1, -1});
  EXPECT_NEAR(rmse_loss(x, y).item(), std::sqrt(mse_loss(in[0], in[1]).item() + eps), 1e-12);
}

TEST(RegressionProperties, OutputShapeUnderNone) {
  for (const LossSpec& s : losses_of_family("regression")) {
    Generator gen(3);
    std::vector<Tensor> in = s.sample(DType::Float64, gen);
    Shape expected = s.name == "rmse_loss" ? Shape{in[0].size(0)} : in[0].shape();
    EXPECT_EQ(s.call(in, {}, Reduction::None).shape(), expected) << s.name;
  }
  // RMSE: one value per sample of any rank; a 1-D input is one value per sample.
  Tensor x3 = randn({2, 3, 4}, DType::Float64);
  EXPECT_EQ(rmse_loss(x3, zeros_like(x3), {Reduction::None}).shape(), (Shape{2}));
  Tensor x1 = randn({5}, DType::Float64);
  EXPECT_EQ(rmse_loss(x1, zeros_like(x1), {Reduction::None}).shape(), (Shape{5}));
  // Gaussian with one variance per row keeps input's shape.
  Tensor x = randn({4, 3}, DType::Float64);
  EXPECT_EQ(gaussian_nll_loss(x, zeros_like(x), ones({4, 1}, DType::Float64), {.reduction = Reduction::None}).shape(),
            (Shape{4, 3}));
  EXPECT_EQ(gaussian_nll_loss(x, zeros_like(x), ones({4}, DType::Float64), {.reduction = Reduction::None}).shape(),
            (Shape{4, 3}));
}

TEST(RegressionProperties, SmoothL1IsHuberOverBetaAndQuantileHalfIsHalfL1) {
  Generator gen(8);
  std::vector<Tensor> in = find_loss("huber_loss").sample(DType::Float64, gen);
  for (double beta : {0.3, 1.0, 2.5})
    expect_all_near(smooth_l1_loss(in[0], in[1], {.reduction = Reduction::None, .beta = beta}).to_vector(),
                    (huber_loss(in[0], in[1], {.reduction = Reduction::None, .delta = beta}) / beta).to_vector(),
                    1e-12, "smooth_l1 vs huber/β");
  EXPECT_NEAR(quantile_loss(in[0], in[1]).item(), 0.5 * l1_loss(in[0], in[1]).item(), 1e-12);
  // β = 0 is L1 exactly, value and gradient.
  Tensor x = in[0].clone().detach().requires_grad_();
  smooth_l1_loss(x, in[1], {.beta = 0.0}).backward();
  Tensor x_l1 = in[0].clone().detach().requires_grad_();
  l1_loss(x_l1, in[1]).backward();
  EXPECT_EQ(smooth_l1_loss(in[0], in[1], {.beta = 0.0}).item(), l1_loss(in[0], in[1]).item());
  EXPECT_EQ(x.grad().to_vector(), x_l1.grad().to_vector());
}

TEST(RegressionProperties, LogCoshGradientIsTanh) {
  Generator gen(4);
  std::vector<Tensor> in = find_loss("log_cosh_loss").sample(DType::Float64, gen);
  Tensor x = in[0].clone().detach().requires_grad_();
  log_cosh_loss(x, in[1], {Reduction::Sum}).backward();
  expect_all_near(x.grad().to_vector(), tanh(in[0] - in[1]).to_vector(), 1e-12, "log_cosh gradient");
}

// Errors of ±1e4 (and 0) give a finite loss and gradient in both dtypes, for every row.
TEST(RegressionExtremes, HugeErrorsStayFinite) {
  for (const LossSpec& s : losses_of_family("regression"))
    for (DType dtype : {DType::Float32, DType::Float64})
      for (Reduction r : kReductions) {
        Tensor x = tensor({1e4, -1e4, 0.0, 5e3}, {2, 2}, dtype);
        Tensor y = tensor({-1e4, 1e4, 0.0, 5e3}, {2, 2}, dtype);  // errors 2e4, -2e4, 0, 0
        std::vector<Tensor> in{x, y};
        if (s.name == "poisson_nll_loss")  // log-rates ±30, counts up to 1e4
          in = {tensor({30, -30, 0, 5}, {2, 2}, dtype), tensor({1e4, 0, 1, 1e4}, {2, 2}, dtype)};
        if (s.name == "gaussian_nll_loss") in.push_back(tensor({1e-3, 1.0, 1e4, 0.0}, {2, 2}, dtype));
        for (std::size_t i = 0; i < in.size(); ++i)
          if (s.inputs[i].differentiable) in[i].requires_grad_();
        Tensor loss = s.call(in, {}, r);
        EXPECT_TRUE(all_finite(loss.to_vector())) << s.name << " " << dtype_name(dtype) << " " << loss;
        sum(loss).backward();
        for (std::size_t i = 0; i < in.size(); ++i) {
          if (!s.inputs[i].differentiable) continue;
          EXPECT_TRUE(all_finite(in[i].grad().to_vector())) << s.name << " " << dtype_name(dtype) << " input " << i;
        }
      }
}

TEST(RegressionExtremes, LogCoshDoesNotOverflowInFloat32) {
  Tensor x = tensor({1e4, -1e4, 100.0}, DType::Float32).requires_grad_();
  Tensor loss = log_cosh_loss(x, zeros({3}), {Reduction::None});
  expect_all_near(loss.to_vector(), {1e4 - std::numbers::ln2, 1e4 - std::numbers::ln2, 100 - std::numbers::ln2},
                  1e-3, "log cosh");
  sum(loss).backward();
  expect_all_near(x.grad().to_vector(), {1, -1, 1}, 0, "tanh");
}

TEST(RegressionExtremes, RmseAtZeroErrorHasAZeroGradient) {
  for (DType dtype : {DType::Float32, DType::Float64})
    for (Reduction r : kReductions) {
      Tensor x = tensor({1.0, 2.0, 3.0, 4.0}, {2, 2}, dtype).requires_grad_();
      Tensor loss = rmse_loss(x, x.detach(), {.reduction = r});
      double expected = (r == Reduction::Sum ? 2 : 1) * 1e-6;  // √eps per sample
      for (double v : loss.to_vector()) EXPECT_NEAR(v, expected, 1e-12) << reduction_name(r);
      sum(loss).backward();
      for (double g : x.grad().to_vector()) EXPECT_EQ(g, 0.0) << dtype_name(dtype) << " " << reduction_name(r);
    }
}

// Below eps the variance is clamped in value, but its gradient is the formula's at eps (PyTorch).
TEST(RegressionExtremes, GaussianVarianceBelowEps) {
  const double eps = 1e-6;
  Tensor var = leaf({0.0, 1e-9});
  Tensor loss = gaussian_nll_loss(constant({1.0, 0.0}), constant({0.0, 0.0}), var, {.reduction = Reduction::Sum});
  double expected = 0.5 * (std::log(eps) + 1 / eps) + 0.5 * std::log(eps);
  EXPECT_NEAR(loss.item(), expected, 1e-10 * expected);
  loss.backward();
  std::vector<double> g = var.grad().to_vector();
  EXPECT_NEAR(g[0], 0.5 * (1 / eps - 1 / (eps * eps)), 1e-10 * std::abs(0.5 / (eps * eps)));
  EXPECT_NEAR(g[1], 0.5 / eps, 1e-10 * 0.5 / eps);
}

// PyTorch's Stirling term gives NaN gradients to masked-out zero targets; here they stay finite.
TEST(RegressionExtremes, PoissonFullWithZeroTargetsHasFiniteGradients) {
  Tensor x = leaf({0.5, 1.0, 2.0});
  Tensor y = leaf({0.0, 1.0, 3.0});
  Tensor loss = poisson_nll_loss(x, y, {.full = true, .reduction = Reduction::Sum});
  loss.backward();
  // ∂/∂y = -x + [y > 1]·(log y + 1/(2y)).
  expect_all_near(y.grad().to_vector(), {-0.5, -1.0, -2.0 + std::log(3.0) + 1.0 / 6}, 1e-10, "target gradient");
  // A zero rate with log_input = false: log(0 + eps) keeps it finite.
  Tensor rate = leaf({0.0});
  poisson_nll_loss(rate, constant({2.0}), {.log_input = false}).backward();
  EXPECT_NEAR(rate.grad().item(), 1 - 2 / 1e-8, 1e-3);
}

TEST(RegressionErrors, ShapesDtypesAndReductions) {
  Tensor x = zeros({4, 3}, DType::Float64);
  std::string e = error_of([&] { mse_loss(x, zeros({4}, DType::Float64)); });
  EXPECT_CONTAINS(e, "mse_loss");
  EXPECT_CONTAINS(e, "[4, 3]");
  EXPECT_CONTAINS(e, "[4]");
  EXPECT_CONTAINS(e, "reshape target");
  for (const LossSpec& s : losses_of_family("regression")) {
    Generator gen(2);
    std::vector<Tensor> in = s.sample(DType::Float64, gen);
    std::vector<Tensor> wrong = in;
    wrong[1] = reshape(in[1], {3, 4});
    EXPECT_CONTAINS(error_of([&] { s.call(wrong, {}, Reduction::Mean); }), s.name + ": input [4, 3] and target [3, 4]");
    EXPECT_CONTAINS(error_of([&] { s.call(in, {}, Reduction::BatchMean); }), s.name + ": reduction batchmean");
    wrong = in;
    wrong[1] = zeros({4, 3}, DType::Int64);
    EXPECT_CONTAINS(error_of([&] { s.call(wrong, {}, Reduction::Mean); }),
                    s.name + ": target must be float32 or float64");
  }
}

TEST(RegressionErrors, InvalidParameters) {
  Tensor x = zeros({2}, DType::Float64), y = ones({2}, DType::Float64);
  EXPECT_CONTAINS(error_of([&] { huber_loss(x, y, {.delta = 0.0}); }),
                  "huber_loss: delta must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { huber_loss(x, y, {.delta = -1.0}); }), "got -1");
  EXPECT_CONTAINS(error_of([&] { huber_loss(x, y, {.delta = INFINITY}); }), "got inf");
  EXPECT_CONTAINS(error_of([&] { smooth_l1_loss(x, y, {.beta = -0.5}); }),
                  "smooth_l1_loss: beta must be >= 0 and finite, got -0.5");
  EXPECT_CONTAINS(error_of([&] { smooth_l1_loss(x, y, {.beta = NAN}); }), "got nan");
  for (double tau : {0.0, 1.0, -0.1, 1.5, static_cast<double>(NAN)})
    EXPECT_CONTAINS(error_of([&] { quantile_loss(x, y, {.tau = tau}); }), "quantile_loss: tau must lie in (0, 1)");
  EXPECT_CONTAINS(error_of([&] { rmse_loss(x, y, {.eps = 0.0}); }), "rmse_loss: eps must be positive");
  EXPECT_CONTAINS(error_of([&] { poisson_nll_loss(x, y, {.eps = -1.0}); }), "poisson_nll_loss: eps must be >= 0");
  EXPECT_CONTAINS(error_of([&] { gaussian_nll_loss(x, y, y, {.eps = 0.0}); }),
                  "gaussian_nll_loss: eps must be positive");
}

TEST(RegressionErrors, OutOfDomainValues) {
  Tensor x = tensor({0.5, -0.25, 1.0}, DType::Float64);
  Tensor counts = tensor({1.0, 2.0, 3.0}, DType::Float64);
  EXPECT_CONTAINS(error_of([&] { poisson_nll_loss(counts, x); }),
                  "poisson_nll_loss: target must be >= 0, got -0.25 at position 1");
  EXPECT_CONTAINS(error_of([&] { poisson_nll_loss(x, counts, {.log_input = false}); }),
                  "poisson_nll_loss: input (a rate, since log_input = false) must be >= 0, got -0.25 at position 1");
  EXPECT_EQ(error_of([&] { poisson_nll_loss(x, counts); }), "");  // log-rates may be negative
  EXPECT_CONTAINS(error_of([&] { gaussian_nll_loss(counts, counts, x); }),
                  "gaussian_nll_loss: var must be >= 0, got -0.25 at position 1");
}

TEST(RegressionErrors, GaussianVarShape) {
  Tensor x = zeros({4, 3}, DType::Float64);
  for (const Shape& ok : {Shape{4, 3}, Shape{4, 1}, Shape{4}})
    EXPECT_EQ(error_of([&] { gaussian_nll_loss(x, x, ones(ok, DType::Float64)); }), "") << to_string(ok);
  for (const Shape& bad : {Shape{3}, Shape{4, 2}, Shape{1, 3}, Shape{2, 4, 3}}) {
    std::string e = error_of([&] { gaussian_nll_loss(x, x, ones(bad, DType::Float64)); });
    EXPECT_CONTAINS(e, "gaussian_nll_loss: var " + to_string(bad) + " does not fit input [4, 3]");
    EXPECT_CONTAINS(e, "expected [4, 3] (one variance per element), [4, 1] or [4] (one per row");
  }
}

}  // namespace
