#include "zoograd/train/loss/loss_curves.h"

#include <cmath>
#include <stdexcept>

#include "zoograd/core/autograd.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/checks.h"
#include "zoograd/losses/classification.h"
#include "zoograd/losses/metric.h"
#include "zoograd/losses/regression.h"

namespace zg {

namespace {

Tensor f64(const std::vector<double>& values, const Shape& shape) { return tensor(values, shape, DType::Float64); }

Tensor vector_tensor(const std::vector<double>& values) {
  return f64(values, {static_cast<std::int64_t>(values.size())});
}

Tensor cosines(const std::vector<double>& theta) {
  std::vector<double> c;
  for (double t : theta) c.push_back(std::cos(t));
  return vector_tensor(c);
}

using checks::num;  // %g: "0.5", "1e-06"

}  // namespace

std::vector<double> linspace(double lo, double hi, int n) {
  if (n < 2) throw std::invalid_argument("linspace: n = " + std::to_string(n) + " is below 2");
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(lo + (hi - lo) * (static_cast<double>(i) / (n - 1)));
  return v;
}

std::vector<LossCurve> regression_curves(const std::vector<double>& errors, const RegressionSettings& s) {
  using Loss = std::function<Tensor(const Tensor&, const Tensor&)>;
  constexpr Reduction none = Reduction::None;
  const std::vector<std::pair<std::string, Loss>> losses = {
      {"MSE", [](const Tensor& x, const Tensor& y) { return mse_loss(x, y, {.reduction = none}); }},
      {"L1", [](const Tensor& x, const Tensor& y) { return l1_loss(x, y, {.reduction = none}); }},
      {"Huber δ = " + num(s.delta),
       [&](const Tensor& x, const Tensor& y) { return huber_loss(x, y, {.reduction = none, .delta = s.delta}); }},
      {"smooth L1 β = " + num(s.beta),
       [&](const Tensor& x, const Tensor& y) { return smooth_l1_loss(x, y, {.reduction = none, .beta = s.beta}); }},
      {"log-cosh", [](const Tensor& x, const Tensor& y) { return log_cosh_loss(x, y, {.reduction = none}); }},
      {"quantile τ = " + num(s.tau),
       [&](const Tensor& x, const Tensor& y) { return quantile_loss(x, y, {.reduction = none, .tau = s.tau}); }},
  };
  const Shape shape{static_cast<std::int64_t>(errors.size())};
  std::vector<LossCurve> curves;
  for (const auto& [label, loss] : losses) {
    Tensor prediction = f64(errors, shape);
    prediction.requires_grad_();
    Tensor value = loss(prediction, zeros(shape, DType::Float64));
    // Each ℓ_i depends on prediction_i alone, so the gradient of the sum holds every dℓ_i/dx_i.
    sum(value).backward();
    curves.push_back({label, value.to_vector(), prediction.grad().to_vector()});
  }
  return curves;
}

std::vector<double> focal_loss_at(const std::vector<double>& p_t, double gamma) {
  std::vector<double> logits;
  for (double p : p_t) logits.push_back(std::log(p) - std::log1p(-p));
  const Shape shape{static_cast<std::int64_t>(logits.size())};
  return sigmoid_focal_loss(f64(logits, shape), ones(shape, DType::Float64),
                            {.reduction = Reduction::None, .alpha = -1, .gamma = gamma})
      .to_vector();
}

TrueLogitGradients true_logit_gradients(const std::vector<double>& z_y) {
  const auto n = static_cast<std::int64_t>(z_y.size());
  std::vector<double> logits;
  for (double z : z_y) logits.insert(logits.end(), {z, 0.0, 0.0});
  const Tensor target = zeros({n}, DType::Int64);
  auto on_true_logit = [&](const std::function<Tensor(const Tensor&)>& loss) {
    Tensor x = f64(logits, {n, 3});
    x.requires_grad_();
    sum(loss(x)).backward();
    std::vector<double> all = x.grad().to_vector(), first;
    for (std::size_t i = 0; i < all.size(); i += 3) first.push_back(all[i]);
    return first;
  };
  return {on_true_logit([&](const Tensor& x) { return cross_entropy(x, target, {.reduction = Reduction::None}); }),
          on_true_logit([&](const Tensor& x) { return brier_score(x, target, {.reduction = Reduction::None}); })};
}

std::vector<AngularTargetLogit> angular_target_logits(const AngularSettings& s) {
  if (s.sphereface_m != std::round(s.sphereface_m) || s.sphereface_m < 1)
    throw std::invalid_argument("SphereFace's m must be a whole number >= 1, got " + num(s.sphereface_m));
  const auto m = static_cast<std::int64_t>(s.sphereface_m);
  std::vector<AngularTargetLogit> losses = {
      {"modified softmax", "cos θ1 = cos θ2", [](const Tensor& c) { return c; }},
      {"SphereFace m = " + num(s.sphereface_m) + (s.sphereface_lambda > 0 ? ", λ = " + num(s.sphereface_lambda) : ""),
       s.sphereface_lambda > 0 ? "(λ cos θ1 + ψ(θ1))/(1 + λ) = cos θ2" : "ψ(θ1) = cos θ2",
       [m, lambda = s.sphereface_lambda](const Tensor& c) { return lsoftmax_target_logit(c, m, lambda); }},
      {"CosFace m = " + num(s.cosface_m), "cos θ1 − " + num(s.cosface_m) + " = cos θ2",
       [m3 = s.cosface_m](const Tensor& c) { return cosface_target_logit(c, 1.0, m3); }},
      {"ArcFace m = " + num(s.arcface_m), "θ1 + " + num(s.arcface_m) + " = θ2",
       [m2 = s.arcface_m](const Tensor& c) { return arcface_target_logit(c, 1.0, m2); }},
      {"combined " + num(s.m1) + ", " + num(s.m2) + ", " + num(s.m3),
       "cos(" + num(s.m1) + "θ1 + " + num(s.m2) + ") − " + num(s.m3) + " = cos θ2",
       [s](const Tensor& c) { return combined_margin_target_logit(c, 1.0, s.m1, s.m2, s.m3); }},
  };
  const Tensor probe = vector_tensor({1.0, 0.0, -1.0});
  for (const AngularTargetLogit& loss : losses) loss.of(probe);  // the transforms check their settings
  return losses;
}

std::vector<double> target_logit_at(const AngularTargetLogit& loss, const std::vector<double>& theta) {
  return loss.of(cosines(theta)).to_vector();
}

std::vector<double> class1_boundary(const AngularTargetLogit& loss, const std::vector<double>& theta1) {
  // cos falls monotonically on [0, π], so cos θ2 = t has exactly one solution there for t ∈ [-1, 1].
  std::vector<double> theta2 = target_logit_at(loss, theta1);
  for (double& t : theta2) t = t >= -1 ? std::acos(std::min(t, 1.0)) : NAN;
  return theta2;
}

std::vector<int> margin_regions(const AngularTargetLogit& loss, const std::vector<double>& a,
                                const std::vector<double>& b, bool cosines_given) {
  if (a.size() != b.size())
    throw std::invalid_argument("margin_regions: " + std::to_string(a.size()) + " first and " +
                                std::to_string(b.size()) + " second coordinates");
  const Tensor c1 = cosines_given ? vector_tensor(a) : cosines(a), c2 = cosines_given ? vector_tensor(b) : cosines(b);
  const std::vector<double> t1 = loss.of(c1).to_vector(), t2 = loss.of(c2).to_vector();
  const std::vector<double> plain1 = c1.to_vector(), plain2 = c2.to_vector();
  std::vector<int> region(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) region[i] = t1[i] > plain2[i] ? 1 : t2[i] > plain1[i] ? 2 : 0;
  return region;
}

std::vector<double> softmax_bias_boundary(const std::vector<double>& theta1, double w1, double w2, double bias_gap) {
  std::vector<double> theta2;
  for (double t : theta1) {
    const double c = (w1 * std::cos(t) + bias_gap) / w2;
    theta2.push_back(c >= -1 && c <= 1 ? std::acos(c) : NAN);
  }
  return theta2;
}

std::vector<double> normface_simplex_loss(std::int64_t classes, const std::vector<double>& s) {
  if (classes < 2 || classes > 100000)
    throw std::invalid_argument("NormFace's bound needs 2 to 100000 classes, got " + std::to_string(classes));
  // On a regular simplex every class's sample has the same loss, so class 0's stands for all. The
  // loss sees only the cosines between that feature (= W_0) and the weights, 1 and -1/(C - 1), so
  // W_0 = (1, 0) and C - 1 weights at cosine -1/(C - 1) to it give the simplex's loss without its
  // C x C matrix, for any C.
  const auto c = static_cast<double>(classes);
  const std::int64_t dim = 2;
  const double off = -1 / (c - 1);
  std::vector<double> w = {1, 0};
  for (std::int64_t j = 1; j < classes; ++j) w.insert(w.end(), {off, std::sqrt(1 - off * off)});
  const Tensor weight = f64(w, {classes, dim});
  const Tensor feature = slice(weight, 0, 0, 1);
  const Tensor target = zeros({1}, DType::Int64);
  std::vector<double> loss;
  for (double scale : s) loss.push_back(normface_loss(feature, weight, target, {.s = scale}).item());
  return loss;
}

double normface_bound(std::int64_t classes, double s) {
  const auto c = static_cast<double>(classes);
  return std::log1p((c - 1) * std::exp(-s * c / (c - 1)));
}

std::vector<double> circle_boundary(const std::vector<double>& s_n, double m) {
  // circle_loss = softplus(γ·B) with the bracket B = α_n(s_n - Δ_n) - α_p(s_p - Δ_p), so the loss is
  // above log 2 exactly where B > 0. On s_p ∈ [0, 1], B falls as s_p rises: bisection finds B = 0.
  const std::size_t n = s_n.size();
  const Shape shape{static_cast<std::int64_t>(n), 1};
  const Tensor negative = f64(s_n, shape);
  const CircleLossOptions options{.m = m, .reduction = Reduction::None};
  auto positive_bracket = [&](const std::vector<double>& s_p) {
    std::vector<bool> positive;
    for (double loss : circle_loss(f64(s_p, shape), negative, options).to_vector()) positive.push_back(loss > std::log(2.0));
    return positive;
  };
  std::vector<double> lo(n, 0.0), hi(n, 1.0), mid(n);
  const std::vector<bool> at_lo = positive_bracket(lo), at_hi = positive_bracket(hi);
  for (int step = 0; step < 60; ++step) {
    for (std::size_t i = 0; i < n; ++i) mid[i] = (lo[i] + hi[i]) / 2;
    const std::vector<bool> positive = positive_bracket(mid);
    for (std::size_t i = 0; i < n; ++i) (positive[i] ? lo[i] : hi[i]) = mid[i];
  }
  for (std::size_t i = 0; i < n; ++i) mid[i] = at_lo[i] && !at_hi[i] ? (lo[i] + hi[i]) / 2 : NAN;
  return mid;
}

PairGradients pair_gradients(const std::vector<double>& s_n, const std::vector<double>& s_p, double m, double gamma,
                             bool circle) {
  if (s_n.size() != s_p.size())
    throw std::invalid_argument("pair_gradients: " + std::to_string(s_n.size()) + " s_n and " +
                                std::to_string(s_p.size()) + " s_p");
  const Shape shape{static_cast<std::int64_t>(s_n.size()), 1};
  Tensor sn = f64(s_n, shape), sp = f64(s_p, shape);
  sn.requires_grad_(), sp.requires_grad_();
  const Tensor loss = circle ? circle_loss(sp, sn, {.m = m, .gamma = gamma, .reduction = Reduction::None})
                             : softplus(gamma * (sn - sp + m));
  // Each loss depends on its own pair only, so the gradient of the sum holds every pair's.
  sum(loss).backward();
  return {sn.grad().to_vector(), sp.grad().to_vector()};
}

}  // namespace zg
