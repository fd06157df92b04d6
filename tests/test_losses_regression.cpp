// The regression losses (losses/regression.h): the rows' parameters and samples, hand-computed
// values and gradients, and properties: zeros and minima, shapes, extreme errors and the error
// messages. The generic checks of every row (gradcheck under every reduction and at the parameter
// values that switch branches, reductions, float32) are check_loss's (tests/test_loss_generic.cpp).
#include "zoograd/tests/test_losses_regression.h"

namespace {

// The rows' parameter defaults are the functions' defaults, and a given parameter reaches the call.
TEST(RegressionCatalog, ParametersReachTheCall) {
  Generator gen(1);
  std::vector<Tensor> in = find_loss("huber_loss").sample(DType::Float64, gen);
  EXPECT_EQ(find_loss("huber_loss").params.at(0).default_value, 1.0);
  EXPECT_EQ(find_loss("huber_loss").call(in, {}, Reduction::Sum).item(), huber_loss(in[0], in[1], {Reduction::Sum}).item());
  EXPECT_EQ(find_loss("huber_loss").call(in, {{"delta", 0.5}}, Reduction::Sum).item(),
            huber_loss(in[0], in[1], {.reduction = Reduction::Sum, .delta = 0.5}).item());
  EXPECT_EQ(find_loss("smooth_l1_loss").call(in, {{"beta", 0.3}}, Reduction::Mean).item(),
            smooth_l1_loss(in[0], in[1], {.beta = 0.3}).item());
  EXPECT_EQ(find_loss("quantile_loss").call(in, {{"tau", 0.8}}, Reduction::Mean).item(),
            quantile_loss(in[0], in[1], {.tau = 0.8}).item());
  EXPECT_EQ(find_loss("rmse_loss").call(in, {{"eps", 0.25}}, Reduction::Mean).item(),
            rmse_loss(in[0], in[1], {.eps = 0.25}).item());
  std::vector<Tensor> p = find_loss("poisson_nll_loss").sample(DType::Float64, gen);
  EXPECT_EQ(find_loss("poisson_nll_loss").call(p, {{"log_input", 0}, {"full", 1}, {"eps", 0.1}}, Reduction::Sum).item(),
            poisson_nll_loss(p[0], p[1], {.log_input = false, .full = true, .eps = 0.1, .reduction = Reduction::Sum})
                .item());
  std::vector<Tensor> g = find_loss("gaussian_nll_loss").sample(DType::Float64, gen);
  EXPECT_EQ(find_loss("gaussian_nll_loss").call(g, {{"full", 1}, {"eps", 2.0}}, Reduction::Mean).item(),
            gaussian_nll_loss(g[0], g[1], g[2], {.full = true, .eps = 2.0}).item());
}

// The samples keep every error 0.2 away from the kinks at d = 0 and |d| = 1, in both dtypes.
TEST(RegressionCatalog, ErrorSamplesStayAwayFromKinks) {
  for (const std::string& name : std::vector<std::string>{"l1_loss", "huber_loss", "smooth_l1_loss", "quantile_loss"})
    for (DType dtype : {DType::Float32, DType::Float64})
      for (std::uint64_t seed : {0u, 1u, 42u, 1234u}) {
        Generator gen(seed);
        std::vector<Tensor> in = find_loss(name).sample(dtype, gen);
        for (double d : (in[0] - in[1]).to_vector()) {
          EXPECT_GE(std::abs(d), 0.2 - 1e-6) << name;
          EXPECT_GE(std::abs(std::abs(d) - 1.0), 0.2 - 1e-6) << name;
        }
      }
}

// ---- reference values: value and gradient from the formula, to 1e-10 in float64 ----

TEST(MseLoss, ReferenceValues) {
  // F.mse_loss(x, y): d = (-0.5, -2, 2.5), mean d² = 10.5/3, gradient 2d/3.
  Tensor x = leaf({0.5, -1.0, 2.0});
  expect_value_and_grad(mse_loss(x, constant({1.0, 1.0, -0.5})), x, 3.5, {-1.0 / 3, -4.0 / 3, 5.0 / 3});
  // F.mse_loss(x, y, reduction='sum') on (2, 2): Σ x² = 30, gradient w.r.t. y is -2(x - y) = -2x.
  Tensor x2 = constant({1, 2, 3, 4}, {2, 2});
  Tensor y2 = leaf({0, 0, 0, 0}, {2, 2});
  expect_value_and_grad(mse_loss(x2, y2, {Reduction::Sum}), y2, 30.0, {-2, -4, -6, -8});
}

TEST(L1Loss, ReferenceValues) {
  // F.l1_loss(x, y): |d| = (0.5, 2, 2.5), mean 5/3, gradient sign(d)/3.
  Tensor x = leaf({0.5, -1.0, 2.0});
  expect_value_and_grad(l1_loss(x, constant({1.0, 1.0, -0.5})), x, 5.0 / 3, {-1.0 / 3, -1.0 / 3, 1.0 / 3});
  // F.l1_loss(x, y, reduction='sum') with one exact match: PyTorch's gradient there is sign(0) = 0.
  Tensor x2 = leaf({1.0, 2.0});
  expect_value_and_grad(l1_loss(x2, constant({1.0, 0.0}), {Reduction::Sum}), x2, 2.0, {0.0, 1.0});
}

TEST(RmseLoss, ReferenceValues) {
  const double eps = 1e-12;
  // mean over samples of r_n = √(mean_j d_nj² + eps): rows d = (3, 4) and (0, 6) give √(12.5 + eps)
  // and √(18 + eps); ∂r_n/∂x_nj = d_nj / (D·r_n) with D = 2, then / N = 2 for the mean.
  Tensor x = leaf({3, 4, 0, 6}, {2, 2});
  double r0 = std::sqrt(12.5 + eps), r1 = std::sqrt(18 + eps);
  expect_value_and_grad(rmse_loss(x, constant({0, 0, 0, 0}, {2, 2})), x, (r0 + r1) / 2,
                        {3 / (4 * r0), 4 / (4 * r0), 0, 6 / (4 * r1)});
  // sum over a 1-D input, one value per sample: √(9 + eps) + √(16 + eps), gradient d/√(d² + eps) ≈ ±1.
  Tensor x2 = leaf({3.0, 0.0});
  double a = std::sqrt(9 + eps), b = std::sqrt(16 + eps);
  expect_value_and_grad(rmse_loss(x2, constant({0.0, 4.0}), {Reduction::Sum}), x2, a + b, {3 / a, -4 / b});
  // none on (2, 2): √(12.5 + eps) and √(eps); the zero row's gradient is 0, not 0/0.
  Tensor x3 = leaf({3, 4, 0, 0}, {2, 2});
  Tensor per_sample = rmse_loss(x3, constant({0, 0, 0, 0}, {2, 2}), {Reduction::None});
  expect_all_near(per_sample.to_vector(), {r0, std::sqrt(eps)}, 1e-10, "per-sample RMSE");
  sum(per_sample).backward();
  expect_all_near(x3.grad().to_vector(), {3 / (2 * r0), 4 / (2 * r0), 0, 0}, 1e-10, "gradient");
}

TEST(HuberLoss, ReferenceValues) {
  // F.huber_loss(x, y, delta=0.5): d = (-0.2, 1.5, -0.7) -> ½·0.04, 0.5·(1.5 - 0.25), 0.5·(0.7 - 0.25);
  // gradient d inside, δ·sign(d) outside, over 3.
  Tensor x = leaf({0.8, 1.5, -0.7});
  expect_value_and_grad(huber_loss(x, constant({1.0, 0.0, 0.0}), {.delta = 0.5}), x, (0.02 + 0.625 + 0.225) / 3,
                        {-0.2 / 3, 0.5 / 3, -0.5 / 3});
  // F.huber_loss(x, y, reduction='sum'), δ = 1: d = (0.5, -3) -> 0.125 + (3 - 0.5).
  Tensor x2 = leaf({0.5, -3.0});
  expect_value_and_grad(huber_loss(x2, constant({0.0, 0.0}), {Reduction::Sum}), x2, 2.625, {0.5, -1.0});
}

TEST(SmoothL1Loss, ReferenceValues) {
  // F.smooth_l1_loss(x, y, beta=0.5): d = (-0.2, 1.5, -0.7) -> ½·0.04/0.5, 1.5 - 0.25, 0.7 - 0.25;
  // gradient d/β inside, sign(d) outside, over 3.
  Tensor x = leaf({0.8, 1.5, -0.7});
  expect_value_and_grad(smooth_l1_loss(x, constant({1.0, 0.0, 0.0}), {.beta = 0.5}), x, (0.04 + 1.25 + 0.45) / 3,
                        {-0.4 / 3, 1.0 / 3, -1.0 / 3});
  // F.smooth_l1_loss(x, y, beta=0, reduction='sum') is Σ|d| with gradient sign(d), 0 at d = 0.
  Tensor x2 = leaf({0.5, -3.0, 1.0});
  expect_value_and_grad(smooth_l1_loss(x2, constant({0.0, 0.0, 1.0}), {.reduction = Reduction::Sum, .beta = 0.0}),
                        x2, 3.5, {1.0, -1.0, 0.0});
}

TEST(LogCoshLoss, ReferenceValues) {
  // mean of log cosh(d), d = (1, -2.5); gradient tanh(d)/2.
  Tensor x = leaf({1.0, -2.0});
  expect_value_and_grad(log_cosh_loss(x, constant({0.0, 0.5})), x,
                        (std::log(std::cosh(1.0)) + std::log(std::cosh(2.5))) / 2,
                        {std::tanh(1.0) / 2, std::tanh(-2.5) / 2});
  // sum at d = ±1e4, where cosh overflows: log cosh(d) = |d| - log 2 to double precision, gradient ±1.
  Tensor x2 = leaf({1e4, -1e4});
  expect_value_and_grad(log_cosh_loss(x2, constant({0.0, 0.0}), {Reduction::Sum}), x2,
                        2 * (1e4 - std::numbers::ln2), {1.0, -1.0});
}

TEST(QuantileLoss, ReferenceValues) {
  // τ = 0.9, d = y - x = (2, -1): max(1.8, -0.2) = 1.8, max(-0.9, 0.1) = 0.1; gradient -τ or 1 - τ, over 2.
  Tensor x = leaf({1.0, 1.0});
  expect_value_and_grad(quantile_loss(x, constant({3.0, 0.0}), {.tau = 0.9}), x, 0.95, {-0.45, 0.05});
  // τ = 0.25, sum, d = (1, -1, 2): 0.25 + 0.75 + 0.5.
  Tensor x2 = leaf({0.0, 2.0, -1.0});
  expect_value_and_grad(quantile_loss(x2, constant({1.0, 1.0, 1.0}), {.reduction = Reduction::Sum, .tau = 0.25}), x2,
                        1.5, {-0.25, 0.75, -0.25});
}

TEST(PoissonNllLoss, ReferenceValues) {
  const double e = std::numbers::e;
  // F.poisson_nll_loss(x, y): exp(x) - y·x with x = (0, 1, -1), y = (2, 0, 3); gradient (exp(x) - y)/3.
  Tensor x = leaf({0.0, 1.0, -1.0});
  expect_value_and_grad(poisson_nll_loss(x, constant({2.0, 0.0, 3.0})), x, (1 + e + (1 / e + 3)) / 3,
                        {(1 - 2) / 3.0, e / 3, (1 / e - 3) / 3});
  // F.poisson_nll_loss(x, y, log_input=False, full=True, reduction='sum'), x = (2, 0.5), y = (3, 1):
  // x - y·log(x + eps), plus Stirling 3·log 3 - 3 + ½·log(6π) for y = 3 only (y = 1 is masked out).
  const double eps = 1e-8;
  Tensor x2 = leaf({2.0, 0.5});
  double expected = (2 - 3 * std::log(2 + eps)) + (0.5 - std::log(0.5 + eps)) +
                    (3 * std::log(3.0) - 3 + 0.5 * std::log(6 * std::numbers::pi));
  expect_value_and_grad(
      poisson_nll_loss(x2, constant({3.0, 1.0}), {.log_input = false, .full = true, .reduction = Reduction::Sum}), x2,
      expected, {1 - 3 / (2 + eps), 1 - 1 / (0.5 + eps)});
}

TEST(GaussianNllLoss, ReferenceValues) {
  // F.gaussian_nll_loss(x, y, var): ½(log v + d²/v) with d = (-1, 0), v = (2, 0.5), mean over 2;
  // ∂/∂x = d/v / 2, ∂/∂v = ½(1/v - d²/v²) / 2.
  Tensor x = leaf({0.0, 1.0});
  Tensor var = leaf({2.0, 0.5});
  Tensor loss = gaussian_nll_loss(x, constant({1.0, 1.0}), var);
  expect_value_and_grad(loss, x, (0.5 * (std::log(2.0) + 0.5) + 0.5 * std::log(0.5)) / 2, {-0.25, 0.0});
  expect_all_near(var.grad().to_vector(), {0.5 * (0.5 - 0.25) / 2, 0.5 * 2.0 / 2}, 1e-10, "var gradient");

  // full=True, sum, input (2, 2) with var (2): one variance per row, v = (1, 4).
  // Row 0, d = (-1, 2): ½(0 + 1) + ½(0 + 4) = 2.5; row 1, d = (0, 2): ½ log 4 + ½(log 4 + 1).
  Tensor x2 = leaf({0, 1, 2, 2}, {2, 2});
  Tensor var2 = leaf({1.0, 4.0});
  Tensor loss2 = gaussian_nll_loss(x2, constant({1, -1, 2, 0}, {2, 2}), var2,
                                   {.full = true, .reduction = Reduction::Sum});
  expect_value_and_grad(loss2, x2, 2.5 + std::log(4.0) + 0.5 + 4 * 0.5 * std::log(2 * std::numbers::pi),
                        {-1, 2, 0, 0.5});
  // ∂/∂v summed over the row: ½(1 - 1) + ½(1 - 4) = -1.5 and ½(¼ - 0) + ½(¼ - 4/16) = 0.125.
  expect_all_near(var2.grad().to_vector(), {-1.5, 0.125}, 1e-10, "var gradient");
}

// ---- properties and edge cases ----

TEST(RegressionProperties, ZeroAtAPerfectPrediction) {
  Tensor y = constant({0.3, -1.2, 4.0, 1e4}, {2, 2});
  for (const std::string& name : std::vector<std::string>{"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
                                                          "log_cosh_loss", "quantile_loss"})
    for (Reduction r : kReductions) {
      Tensor x = y.clone().detach().requires_grad_();
      Tensor loss = find_loss(name).call({x, y}, {}, r);
      for (double v : loss.to_vector()) EXPECT_NEAR(v, 0.0, 1e-12) << name << " " << reduction_name(r);
      sum(loss).backward();
      // quantile_loss's kink at d = 0 takes the d ≥ 0 branch, whose gradient is -τ (a subgradient).
      double expected = name == "quantile_loss" ? -QuantileLossOptions{}.tau : 0.0;
      double scale = r == Reduction::Mean ? 1.0 / 4 : 1.0;
      for (double g : x.grad().to_vector()) EXPECT_EQ(g, expected * scale) << name << " " << reduction_name(r);
    }
}

// The NLL losses have no zero; their gradient vanishes at the maximum-likelihood prediction.
TEST(RegressionProperties, NllGradientVanishesAtTheLikelihoodMaximum) {
  // Poisson: ∂/∂x (exp(x) - y·x) = 0 at x = log y.
  Tensor y = constant({0.5, 2.0, 7.0});
  Tensor x = log(y).detach().requires_grad_();
  poisson_nll_loss(x, y).backward();
  expect_all_near(x.grad().to_vector(), {0, 0, 0}, 1e-12, "poisson gradient");
  // Gaussian: ∂/∂var = ½(1/var - d²/var²) = 0 at var = d².
  Tensor mu = constant({1.0, -2.0});
  Tensor var = leaf({0.25, 9.0});
  Tensor target = constant({1.5, 1.0});  // d² = (0.25, 9)
  gaussian_nll_loss(mu, target, var).backward();
  expect_all_near(var.grad().to_vector(), {0, 0}, 1e-12, "gaussian var gradient");
}

}  // namespace
