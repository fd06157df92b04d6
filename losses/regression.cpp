#include "zoograd/losses/regression.h"

#include <cmath>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>

#include "zoograd/losses/catalog.h"
#include "zoograd/losses/checks.h"

namespace zg {

namespace {

using checks::check_reduction;
using checks::num;

void check_floating(const std::string& loss, const std::string& name, const Tensor& t) {
  if (!is_floating(t.dtype()))
    throw std::invalid_argument(loss + ": " + name + " must be float32 or float64, got " + dtype_name(t.dtype()) +
                                "; convert it with to(DType::Float32)");
}

// Same shape, not broadcast: PyTorch's broadcast of (N) against (N, 1) makes an (N, N) loss that
// trains, badly, without an error.
void check_pair(const std::string& loss, const Tensor& input, const Tensor& target, Reduction r) {
  check_reduction(r, loss);
  check_floating(loss, "input", input);
  check_floating(loss, "target", target);
  if (input.shape() != target.shape())
    throw std::invalid_argument(loss + ": input " + to_string(input.shape()) + " and target " +
                                to_string(target.shape()) + " must have the same shape; reshape target to " +
                                to_string(input.shape()));
}

void check_positive(const std::string& loss, const std::string& name, double v, const std::string& why) {
  if (!(v > 0) || !std::isfinite(v))
    throw std::invalid_argument(loss + ": " + name + " must be positive and finite, got " + num(v) + "; " + why);
}

struct Negative {
  std::int64_t index;
  double value;
};

// The first element of t below zero, if any: counts, rates and variances cannot be negative.
std::optional<Negative> first_negative(const Tensor& t) {
  return dispatch_float(t.dtype(), "first_negative", [&]<class T>() -> std::optional<Negative> {
    const T* p = t.data<T>();
    for (std::int64_t i = 0; i < t.numel(); ++i)
      if (p[i] < 0) return Negative{i, static_cast<double>(p[i])};
    return std::nullopt;
  });
}

void check_nonnegative(const std::string& loss, const std::string& what, const Tensor& t, const std::string& fix) {
  if (auto bad = first_negative(t))
    throw std::invalid_argument(loss + ": " + what + " must be >= 0, got " + num(bad->value) + " at position " +
                                std::to_string(bad->index) + "; " + fix);
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, const MseLossOptions& options) {
  check_pair("mse_loss", input, target, options.reduction);
  Tensor squared = pow(input - target, 2.0);
  return reduce(options.half ? 0.5 * squared : squared, options.reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options) {
  check_pair("l1_loss", input, target, options.reduction);
  return reduce(abs(input - target), options.reduction);
}

Tensor rmse_loss(const Tensor& input, const Tensor& target, const RmseLossOptions& options) {
  check_pair("rmse_loss", input, target, options.reduction);
  check_positive("rmse_loss", "eps", options.eps, "it keeps the gradient finite at zero error (default 1e-12)");
  Tensor squared = pow(input - target, 2.0);
  if (!options.per_sample) return reduce(sqrt(mean(squared) + options.eps), options.reduction);
  Tensor per_sample = input.dim() >= 2 ? mean(flatten(squared, 1), {1}) : squared;
  return reduce(sqrt(per_sample + options.eps), options.reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options) {
  check_pair("huber_loss", input, target, options.reduction);
  const double delta = options.delta;
  check_positive("huber_loss", "delta", delta, "it is the error size where the square turns into a line");
  Tensor d = input - target;
  Tensor a = abs(d);
  return reduce(where(lt(a, delta), 0.5 * pow(d, 2.0), delta * (a - 0.5 * delta)), options.reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& options) {
  check_pair("smooth_l1_loss", input, target, options.reduction);
  const double beta = options.beta;
  if (!(beta >= 0) || !std::isfinite(beta))
    throw std::invalid_argument("smooth_l1_loss: beta must be >= 0 and finite, got " + num(beta) +
                                "; beta = 0 gives l1_loss");
  Tensor d = input - target;
  Tensor a = abs(d);
  // At β = 0 the quadratic piece ½d²/β divides by zero even where it is not selected (its gradient
  // would be NaN); the loss there is exactly |d|, and PyTorch switches to L1 the same way.
  if (beta == 0) return reduce(a, options.reduction);
  return reduce(where(lt(a, beta), 0.5 * pow(d, 2.0) / beta, a - 0.5 * beta), options.reduction);
}

Tensor log_cosh_loss(const Tensor& input, const Tensor& target, const LogCoshLossOptions& options) {
  check_pair("log_cosh_loss", input, target, options.reduction);
  // log cosh d = log((e^|d| + e^-|d|)/2) = |d| + log(1 + e^(-2|d|)) - log 2: no exp of a large number.
  Tensor a = abs(input - target);
  return reduce(a + softplus(-2.0 * a) - std::numbers::ln2, options.reduction);
}

Tensor quantile_loss(const Tensor& input, const Tensor& target, const QuantileLossOptions& options) {
  check_pair("quantile_loss", input, target, options.reduction);
  const double tau = options.tau;
  if (!(tau > 0 && tau < 1))
    throw std::invalid_argument("quantile_loss: tau must lie in (0, 1), got " + num(tau) +
                                "; it is the quantile the prediction estimates (0.5: the median)");
  Tensor d = target - input;
  // max(τd, (τ - 1)d) is τd for d ≥ 0 and (τ - 1)d for d < 0.
  return reduce(where(ge(d, 0.0), tau * d, (tau - 1) * d), options.reduction);
}

Tensor poisson_nll_loss(const Tensor& input, const Tensor& target, const PoissonNllLossOptions& options) {
  const std::string name = "poisson_nll_loss";
  check_pair(name, input, target, options.reduction);
  if (!(options.eps >= 0) || !std::isfinite(options.eps))
    throw std::invalid_argument(name + ": eps must be >= 0 and finite, got " + num(options.eps) +
                                "; it keeps log(input + eps) finite at a zero rate (default 1e-8)");
  check_nonnegative(name, "target", target, "it is a Poisson count");
  Tensor loss;
  if (options.log_input) {
    loss = exp(input) - target * input;
  } else {
    check_nonnegative(name, "input (a rate, since log_input = false)", input,
                      "pass log-rates with log_input = true, or make the rate positive (softplus, exp)");
    loss = input - target * log(input + options.eps);
  }
  if (options.full) {
    // Stirling's log(y!) ≈ y·log y - y + ½·log(2πy), added where y > 1 (PyTorch's mask). The clamp
    // keeps the masked-out entries' logs finite, so their zero gradient stays zero, not NaN.
    Tensor y = clamp(target, 1.0);
    Tensor stirling = y * log(y) - y + 0.5 * log(2 * std::numbers::pi * y);
    loss = loss + where(gt(target, 1.0), stirling, scalar(0.0, stirling.dtype()));
  }
  return reduce(loss, options.reduction);
}

namespace {

// var as it broadcasts against input, by PyTorch's rule: input's shape, or input's shape with the
// last dim 1 or dropped (then unsqueezed back), the variance shared along the last dim.
Tensor fitted_var(const Tensor& input, const Tensor& var) {
  const Shape& in = input.shape();
  const Shape& v = var.shape();
  if (v == in) return var;
  std::string expected = to_string(in) + " (one variance per element)";
  if (!in.empty()) {
    Shape rows(in.begin(), in.end() - 1);
    if (v == rows) return unsqueeze(var, -1);
    Shape rows_1 = rows;
    rows_1.push_back(1);
    if (v == rows_1) return var;
    expected += ", " + to_string(rows_1) + " or " + to_string(rows) + " (one per row, shared along the last dim)";
  }
  throw std::invalid_argument("gaussian_nll_loss: var " + to_string(v) + " does not fit input " + to_string(in) +
                              "; expected " + expected);
}

}  // namespace

Tensor gaussian_nll_loss(const Tensor& input, const Tensor& target, const Tensor& var,
                         const GaussianNllLossOptions& options) {
  const std::string name = "gaussian_nll_loss";
  check_pair(name, input, target, options.reduction);
  check_floating(name, "var", var);
  check_positive(name, "eps", options.eps, "var is clamped to at least eps (default 1e-6)");
  Tensor v = fitted_var(input, var);
  check_nonnegative(name, "var", v, "predict it through softplus or exp to keep it positive");
  // max(var, eps) in value only, as PyTorch (it clamps a clone under no_grad): where var < eps the
  // gradient still reaches var, evaluated at eps, so a collapsing variance keeps being pushed up.
  Tensor clamped = v - v.detach() + clamp(v.detach(), options.eps);
  Tensor loss = 0.5 * (log(clamped) + pow(input - target, 2.0) / clamped);
  if (options.full) loss = loss + 0.5 * std::log(2 * std::numbers::pi);
  return reduce(loss, options.reduction);
}

// ---- catalog rows ----

namespace {

constexpr std::int64_t kRows = 4, kCols = 3;

// kRows×kCols values of draw(), as a tensor of dtype.
template <class Draw>
Tensor sample_matrix(DType dtype, Draw draw) {
  std::vector<double> values(kRows * kCols);
  for (double& v : values) v = draw();
  return tensor(values, {kRows, kCols}, dtype);
}

// (input, target) with target ~ N(0, 1) and errors d = input - target of random sign whose sizes
// alternate between [0.2, 0.8] and [1.2, 1.8]: both sides of the kinks at d = 0 (l1, quantile) and
// |d| = 1 (huber, smooth_l1 at their defaults) are sampled, each at least 0.2 away.
std::vector<Tensor> error_pair(DType dtype, Generator& gen) {
  std::vector<double> input(kRows * kCols), target(kRows * kCols);
  for (std::size_t i = 0; i < input.size(); ++i) {
    target[i] = gen.normal();
    double size = (i % 2 == 0 ? 0.2 : 1.2) + 0.6 * gen.uniform();
    double sign = gen.uniform() < 0.5 ? -1.0 : 1.0;
    input[i] = target[i] + sign * size;
  }
  return {tensor(input, {kRows, kCols}, dtype), tensor(target, {kRows, kCols}, dtype)};
}

// Log-rates (or rates) in [0.3, 1.5] and counts in [0, 2.5], on both sides of full's y > 1 mask.
std::vector<Tensor> poisson_sample(DType dtype, Generator& gen) {
  Tensor input = sample_matrix(dtype, [&] { return 0.3 + 1.2 * gen.uniform(); });
  Tensor target = sample_matrix(dtype, [&] { return 2.5 * gen.uniform(); });
  return {input, target};
}

// Means and targets ~ N(0, 1), variances in [1.5, 3]: well above eps, and log var ≥ 0.4, so no
// loss element is near 0 (float32 against float64 compares relative errors).
std::vector<Tensor> gaussian_sample(DType dtype, Generator& gen) {
  Tensor input = sample_matrix(dtype, [&] { return gen.normal(); });
  Tensor target = sample_matrix(dtype, [&] { return gen.normal(); });
  Tensor var = sample_matrix(dtype, [&] { return 1.5 + 1.5 * gen.uniform(); });
  return {input, target, var};
}


}  // namespace

std::vector<LossSpec> regression_losses() {
  const LossInput input{"input", "(N, *)", DType::Float32, true};
  const LossInput target{"target", "same as input", DType::Float32, true};
  const std::vector<Reduction> reductions{Reduction::None, Reduction::Mean, Reduction::Sum};
  using Inputs = std::vector<Tensor>;
  const RmseLossOptions rmse;
  const HuberLossOptions huber;
  const SmoothL1LossOptions smooth_l1;
  const QuantileLossOptions quantile;
  const PoissonNllLossOptions poisson;
  const GaussianNllLossOptions gaussian;
  std::vector<LossSpec> rows;
  rows.push_back({"mse_loss", "regression", "(x - y)²  (half = 1: ½(x - y)², seed 001's L2)", {input, target},
    {{"half", 0.0, "1: ½(x - y)², whose gradient is x - y (seed 001)", ValueRange::boolean()}}, reductions, error_pair,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return mse_loss(in[0], in[1], {.reduction = r, .half = switch_param("mse_loss", p, "half")});
    }});
  rows.back().gradcheck_variants = {{{"half", 1}}};
  rows.push_back({"l1_loss", "regression", "|x - y|", {input, target}, {}, reductions, error_pair,
    [](const Inputs& in, const LossParams&, Reduction r) { return l1_loss(in[0], in[1], {r}); }});
  rows.push_back({"rmse_loss", "regression",
    "√(mean_j (x_nj - y_nj)² + eps), one per sample n (over its non-batch dims); per_sample = 0: one "
    "√(mean (x - y)² + eps) over the whole batch (seed 002)",
    {input, target},
    {{"eps", rmse.eps, "added under the root: keeps the gradient finite at zero error"},
     {"per_sample", 1.0, "0: one RMSE over every element, seed 002's √((1/m)·Σ (y - ŷ)²)",
      ValueRange::boolean()}},
    reductions, error_pair,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return rmse_loss(in[0], in[1],
                       {.reduction = r, .eps = p.at("eps"), .per_sample = switch_param("rmse_loss", p, "per_sample")});
    }});
  rows.back().gradcheck_variants = {{{"eps", 1e-6}}, {{"per_sample", 0}}};
  rows.push_back({"huber_loss", "regression", "½d² if |d| < δ else δ(|d| - ½δ),  d = x - y", {input, target},
    {{"delta", huber.delta, "error size where the square turns into a line of slope delta"}},
    reductions, error_pair,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return huber_loss(in[0], in[1], {.reduction = r, .delta = p.at("delta")});
    }});
  // Every sampled error on the line, then every one on the square (the errors lie in [0.2, 0.8] ∪ [1.2, 1.8]).
  rows.back().gradcheck_variants = {{{"delta", 0.1}}, {{"delta", 2.5}}};
  rows.push_back({"smooth_l1_loss", "regression", "½d²/β if |d| < β else |d| - ½β,  d = x - y  (β = 0: |d|)",
    {input, target},
    {{"beta", smooth_l1.beta, "error size where the square turns into |d|; 0 gives l1_loss"}},
    reductions, error_pair,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return smooth_l1_loss(in[0], in[1], {.reduction = r, .beta = p.at("beta")});
    }});
  rows.back().gradcheck_variants = {{{"beta", 0.0}}, {{"beta", 0.1}}, {{"beta", 2.5}}};  // l1_loss, the line, the square
  rows.push_back({"log_cosh_loss", "regression", "log cosh(x - y) = |d| + softplus(-2|d|) - log 2", {input, target}, {},
    reductions, error_pair,
    [](const Inputs& in, const LossParams&, Reduction r) { return log_cosh_loss(in[0], in[1], {r}); }});
  rows.push_back({"quantile_loss", "regression", "max(τd, (τ - 1)d),  d = y - x", {input, target},
    {{"tau", quantile.tau, "the quantile to predict, in (0, 1); 0.5 is half the L1 loss", {.min = 0, .max = 1, .open_min = true, .open_max = true}}},
    reductions, error_pair,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return quantile_loss(in[0], in[1], {.reduction = r, .tau = p.at("tau")});
    }});
  rows.back().gradcheck_variants = {{{"tau", 0.1}}, {{"tau", 0.9}}};
  rows.push_back({"poisson_nll_loss", "regression",
    "exp(x) - y·x  (log_input) or x - y·log(x + eps);  full: + y·log y - y + ½log(2πy) where y > 1",
    {input, {"target", "same as input, counts >= 0", DType::Float32, false}},
    {{"log_input", poisson.log_input ? 1.0 : 0.0, "1: input is log λ; 0: input is the rate λ >= 0", ValueRange::boolean()},
     {"full", poisson.full ? 1.0 : 0.0, "1: add Stirling's approximation of log(y!)", ValueRange::boolean()},
     {"eps", poisson.eps, "added to the rate under the log when log_input = 0"}},
    reductions, poisson_sample,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return poisson_nll_loss(in[0], in[1],
                              {.log_input = p.at("log_input") != 0,
                               .full = p.at("full") != 0,
                               .eps = p.at("eps"),
                               .reduction = r});
    }});
  rows.back().gradcheck_variants = {{{"full", 1}}, {{"log_input", 0}}, {{"log_input", 0}, {"full", 1}}};
  rows.push_back({"gaussian_nll_loss", "regression", "½(log max(var, eps) + (x - y)²/max(var, eps));  full: + ½log 2π",
    {input, target, {"var", "same as input, or its last dim 1 or dropped", DType::Float32, true}},
    {{"full", gaussian.full ? 1.0 : 0.0, "1: add the constant ½log 2π", ValueRange::boolean()},
     {"eps", gaussian.eps, "var is clamped (in value) to at least eps"}},
    reductions, gaussian_sample,
    [](const Inputs& in, const LossParams& p, Reduction r) {
      return gaussian_nll_loss(in[0], in[1], in[2],
                               {.full = p.at("full") != 0,
                                .eps = p.at("eps"),
                                .reduction = r});
    }});
  rows.back().gradcheck_variants = {{{"full", 1}}};
  return rows;
}

}  // namespace zg
