#include "zoograd/losses/angular.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

#include "zoograd/losses/catalog.h"
#include "zoograd/losses/checks.h"
#include "zoograd/losses/classification.h"

namespace zg {

namespace {

// normalize()'s floor for a norm: a zero vector keeps finite values and gradients.
constexpr double kNormEps = 1e-12;
// Floor of 1 - cos²θ under ArcFace's square root, the same as core's acos gradient uses.
constexpr double kSinSquaredEps = 1e-12;

using checks::num;

void check_scale(const std::string& fn, double s) {
  if (!(s > 0) || !std::isfinite(s))
    throw std::invalid_argument(fn + ": s must be positive and finite, got " + num(s));
}

void check_nonnegative(const std::string& fn, const char* name, double v) {
  if (!(v >= 0) || !std::isfinite(v))
    throw std::invalid_argument(fn + ": " + name + " must be finite and >= 0, got " + num(v));
}

void check_floating(const std::string& fn, const Tensor& cos_theta) {
  if (!is_floating(cos_theta.dtype()))
    throw std::invalid_argument(fn + ": cos_theta must be float32 or float64, got " + dtype_name(cos_theta.dtype()));
}

void check_lsoftmax_m(const std::string& fn, std::int64_t m) {
  if (m < 1 || m > kMaxAngularMargin)
    throw std::invalid_argument(fn + ": m must be a whole number in [1, " + std::to_string(kMaxAngularMargin) +
                                "], got " + std::to_string(m));
}

void check_lambda(const std::string& fn, double lambda) {
  if (!(lambda >= 0) || !std::isfinite(lambda))
    throw std::invalid_argument(fn + ": lambda must be finite and >= 0, got " + num(lambda));
}

void check_arcface_margin(const std::string& fn, double m) {
  if (!(m >= 0 && m < std::numbers::pi))
    throw std::invalid_argument(fn + ": m must be an angle in [0, pi) radians, got " + num(m));
}

void check_combined_margins(const std::string& fn, double m1, double m2, double m3) {
  const auto most = static_cast<double>(kMaxAngularMargin);
  if (!(m1 > 0 && m1 <= most))
    throw std::invalid_argument(fn + ": m1 must be in (0, " + num(most) + "], got " + num(m1));
  if (!(m2 >= 0 && m2 <= most))
    throw std::invalid_argument(fn + ": m2 must be in [0, " + num(most) + "], got " + num(m2));
  check_nonnegative(fn, "m3", m3);
}

void check_schedule(const std::string& fn, std::int64_t iteration, double base, double gamma, double power,
                    double lambda_min) {
  if (iteration < 0) throw std::invalid_argument(fn + ": iteration must be >= 0, got " + std::to_string(iteration));
  check_nonnegative(fn, "base", base);
  check_nonnegative(fn, "gamma", gamma);
  check_nonnegative(fn, "power", power);
  check_nonnegative(fn, "lambda_min", lambda_min);
}

// x:(N, d), W:(C, d) of one floating dtype, y:(N) int64 in [0, C); a reduction F.cross_entropy has.
void check_inputs(const std::string& fn, const Tensor& x, const Tensor& w, const Tensor& y, Reduction reduction) {
  checks::check_reduction(reduction, fn);
  if (x.dim() != 2 || w.dim() != 2 || x.size(1) != w.size(1))
    throw std::invalid_argument(fn + ": expected embeddings (N, d) and weight (C, d) with the same d, got embeddings " +
                                to_string(x.shape()) + " and weight " + to_string(w.shape()));
  if (!is_floating(x.dtype()) || x.dtype() != w.dtype())
    throw std::invalid_argument(fn + ": embeddings and weight must share a floating dtype, got " +
                                dtype_name(x.dtype()) + " and " + dtype_name(w.dtype()));
  if (w.size(0) < 1) throw std::invalid_argument(fn + ": weight has no rows; it needs one per class");
  if (y.dim() != 1 || y.size(0) != x.size(0))
    throw std::invalid_argument(fn + ": expected target (N) with N = " + std::to_string(x.size(0)) +
                                " (one class index per embedding), got " + to_string(y.shape()));
  checks::check_class_indices(y, w.size(0), fn);  // weight has one row per class
}

// max(‖v_n‖, 1e-12) per row: (N, 1), with a zero gradient at v_n = 0 as in normalize().
Tensor row_norm(const Tensor& v) { return sqrt(clamp(sum(v * v, {1}, {.keepdim = true}), kNormEps * kNormEps)); }

Tensor target_column(const Tensor& m, const Tensor& y) { return gather(m, 1, unsqueeze(y, 1)); }  // (N, 1)

// F.cross_entropy(logits, y) with its defaults but the reduction.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& y, Reduction reduction) {
  CrossEntropyOptions options;
  options.reduction = reduction;
  return cross_entropy(logits, y, options);
}

// The family's one cross-entropy: the logits with their target column replaced by target_logit
// (N, 1), then -log softmax(z)[y] (F.cross_entropy: log_softmax gathered, stable for any logit size).
// The transform is evaluated on the target column only, so nothing non-finite can hide under where.
Tensor cross_entropy_with_target_logit(const Tensor& logits, const Tensor& target_logit, const Tensor& y,
                                       Reduction reduction) {
  Tensor is_target = one_hot(y, logits.size(1), logits.dtype());
  return softmax_cross_entropy(where(is_target, target_logit, logits), y, reduction);
}

// L-Softmax with weight w (SphereFace passes the normalized weight):
//   z = W·x, target entry ‖W_y‖‖x‖·(λ cos θ_y + ψ(θ_y))/(1 + λ)
Tensor large_margin_loss(const Tensor& x, const Tensor& w, const Tensor& y, std::int64_t m, double lambda,
                         Reduction reduction) {
  Tensor logits = mm(x, w, {.transpose_b = true});                         // ‖W_j‖‖x‖ cos θ_j
  Tensor norms = row_norm(x) * row_norm(index_select(w, 0, y));  // ‖x_n‖‖W_y‖
  Tensor cos_y = target_column(logits, y) / norms;
  return cross_entropy_with_target_logit(logits, norms * lsoftmax_target_logit(cos_y, m, lambda), y, reduction);
}

// sin θ given cos θ alone: √(1 - cos²θ), floored at √1e-12 = 1e-6 so that its gradient stays finite.
Tensor sin_from_cos(const Tensor& c) { return sqrt(clamp(1.0 - c * c, kSinSquaredEps)); }

// sin θ_ny from the vectors, as the length of the rejection of x̂_n from ŵ_{y_n}: ‖x̂ - (x̂·ŵ)ŵ‖.
// Unlike √(1 - cos²θ), which cancels to 0 below θ ≈ 1e-8 (and to ±1e-8 noise near π), it keeps
// its relative precision down to θ = 1e-12 and beyond. Floored at √(smallest normal number), so
// that at θ = 0 or π exactly its gradient is 0, not 0/0; a zero embedding, which normalize()
// leaves at 0 with cos θ = 0, gets sin θ = 1 (θ = π/2) to match.
Tensor target_sin(const Tensor& x, const Tensor& x_hat, const Tensor& w_hat_y, const Tensor& cos_y) {
  const Tensor rejection = x_hat - cos_y * w_hat_y;  // (N, d)
  const double tiny = x.dtype() == DType::Float32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
  const Tensor sin = sqrt(clamp(sum(rejection * rejection, {1}, {.keepdim = true}), tiny));
  return where(lt(sum(x * x, {1}, {.keepdim = true}), kNormEps * kNormEps), scalar(1.0, sin.dtype()), sin);
}

// z = s·cos θ with the target entry target_logit(cos θ_y, sin θ_y). In float64 sin θ_y comes from
// the rejection (target_sin); float32 passes it undefined, and the transforms take it from cos θ
// as they always have, so float32 training keeps its rounding bit for bit (as cross_entropy does,
// see target_nll in losses/classification.cpp).
template <class TargetLogit>
Tensor cosine_margin_loss(const Tensor& x, const Tensor& w, const Tensor& y, double s, Reduction reduction,
                          TargetLogit target_logit) {
  const Tensor x_hat = normalize(x, 2.0, 1, kNormEps), w_hat = normalize(w, 2.0, 1, kNormEps);
  const Tensor cos = mm(x_hat, w_hat, {.transpose_b = true}), cos_y = target_column(cos, y);
  const Tensor sin_y =
      x.dtype() == DType::Float64 ? target_sin(x, x_hat, index_select(w_hat, 0, y), cos_y) : Tensor();
  return cross_entropy_with_target_logit(s * cos, target_logit(cos_y, sin_y), y, reduction);
}

// s·(ψ(m1·θ + m2) - m3), ψ(t) = (-1)^k cos t - 2k on [kπ, (k+1)π) (see the header).
Tensor combined_margin_of_angle(const Tensor& theta, double s, double m1, double m2, double m3) {
  Tensor t = m1 * theta + m2;
  // Past t = π, cos t rises again and would reward a feature for pointing away from its class:
  // training then puts every feature opposite its class's weight, where the target logit
  // s·(cos(m1·π + m2) - m3) can beat the others' s·cos π = -s, and accuracy falls below chance.
  // As SphereFace's ψ, continue with (-1)^k cos t - 2k on [kπ, (k+1)π); k and the sign are
  // piecewise constant, so they carry no gradient.
  Tensor k = zeros_like(theta), sign = ones_like(theta);
  for (std::int64_t j = 1; static_cast<double>(j) * std::numbers::pi <= m1 * std::numbers::pi + m2; ++j) {
    Tensor passed = ge(t, static_cast<double>(j) * std::numbers::pi);
    k = k + passed;
    sign = sign * (1.0 - 2.0 * passed);
  }
  return s * (sign * cos(t) - 2.0 * k - m3);
}

}  // namespace

// ---- transforms ----

Tensor cos_theta(const Tensor& embeddings, const Tensor& weight) {
  return mm(normalize(embeddings, 2.0, 1, kNormEps), normalize(weight, 2.0, 1, kNormEps), {.transpose_b = true});
}

Tensor lsoftmax_psi(const Tensor& c, std::int64_t m) {
  check_floating("lsoftmax_psi", c);
  check_lsoftmax_m("lsoftmax_psi", m);
  // cos(mθ) = T_m(cos θ): T_0 = 1, T_1 = c, T_{n+1} = 2c·T_n - T_{n-1}.
  Tensor t_previous = ones_like(c), t = c;
  for (std::int64_t n = 1; n < m; ++n) {
    Tensor t_next = 2.0 * c * t - t_previous;
    t_previous = t;
    t = t_next;
  }
  // θ ≥ jπ/m ⇔ cos θ ≤ cos(jπ/m): k counts the thresholds passed; (-1)^k is the product of a -1
  // per threshold passed. Both are piecewise constant, so they carry no gradient.
  Tensor k = zeros_like(c), sign = ones_like(c);
  for (std::int64_t j = 1; j < m; ++j) {
    Tensor passed = le(c, std::cos(static_cast<double>(j) * std::numbers::pi / static_cast<double>(m)));
    k = k + passed;
    sign = sign * (1.0 - 2.0 * passed);
  }
  return sign * t - 2.0 * k;
}

Tensor lsoftmax_target_logit(const Tensor& c, std::int64_t m, double lambda) {
  check_lambda("lsoftmax_target_logit", lambda);
  return (lambda * c + lsoftmax_psi(c, m)) / (1.0 + lambda);
}

double lsoftmax_lambda(std::int64_t iteration, double base, double gamma, double power, double lambda_min) {
  check_schedule("lsoftmax_lambda", iteration, base, gamma, power, lambda_min);
  return std::max(lambda_min, base * std::pow(1.0 + gamma * static_cast<double>(iteration), -power));
}

Tensor cosface_target_logit(const Tensor& c, double s, double m) {
  check_floating("cosface_target_logit", c);
  check_scale("cosface_target_logit", s);
  check_nonnegative("cosface_target_logit", "m", m);
  return s * (c - m);
}

Tensor arcface_target_logit(const Tensor& c, double s, double m, bool easy_margin) {
  check_floating("arcface_target_logit", c);
  return arcface_target_logit(c, sin_from_cos(c), s, m, easy_margin);
}

Tensor arcface_target_logit(const Tensor& c, const Tensor& sin_theta, double s, double m, bool easy_margin) {
  check_floating("arcface_target_logit", c);
  check_scale("arcface_target_logit", s);
  check_arcface_margin("arcface_target_logit", m);
  Tensor cos_theta_plus_m = c * std::cos(m) - sin_theta * std::sin(m);
  if (easy_margin) return s * where(gt(c, 0.0), cos_theta_plus_m, c);
  // insightface: th = cos(π - m), mm = sin(π - m)·m.
  Tensor margin_applies = gt(c, std::cos(std::numbers::pi - m));
  return s * where(margin_applies, cos_theta_plus_m, c - m * std::sin(m));
}

Tensor combined_margin_target_logit(const Tensor& c, double s, double m1, double m2, double m3) {
  check_floating("combined_margin_target_logit", c);
  check_scale("combined_margin_target_logit", s);
  check_combined_margins("combined_margin_target_logit", m1, m2, m3);
  // Rounding can put cos θ a hair outside [-1, 1], where acos is NaN.
  return combined_margin_of_angle(acos(clamp(c, -1.0, 1.0)), s, m1, m2, m3);
}

Tensor combined_margin_target_logit(const Tensor& c, const Tensor& sin_theta, double s, double m1, double m2, double m3) {
  check_floating("combined_margin_target_logit", c);
  check_scale("combined_margin_target_logit", s);
  check_combined_margins("combined_margin_target_logit", m1, m2, m3);
  return combined_margin_of_angle(atan2(sin_theta, c), s, m1, m2, m3);  // θ ∈ [0, π], exact at both ends
}

// ---- losses ----

Tensor modified_softmax_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                             const ModifiedSoftmaxOptions& options) {
  check_inputs("modified_softmax_loss", embeddings, weight, target, options.reduction);
  Tensor logits = mm(embeddings, normalize(weight, 2.0, 1, kNormEps), {.transpose_b = true});  // ‖x‖ cos θ_j
  return softmax_cross_entropy(logits, target, options.reduction);
}

Tensor normface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                     const NormFaceOptions& options) {
  check_inputs("normface_loss", embeddings, weight, target, options.reduction);
  check_scale("normface_loss", options.s);
  return softmax_cross_entropy(options.s * cos_theta(embeddings, weight), target, options.reduction);
}

Tensor lsoftmax_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                     const LSoftmaxOptions& options) {
  check_inputs("lsoftmax_loss", embeddings, weight, target, options.reduction);
  check_lsoftmax_m("lsoftmax_loss", options.m);
  check_lambda("lsoftmax_loss", options.lambda);
  return large_margin_loss(embeddings, weight, target, options.m, options.lambda, options.reduction);
}

Tensor sphereface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                       const SphereFaceOptions& options) {
  check_inputs("sphereface_loss", embeddings, weight, target, options.reduction);
  check_lsoftmax_m("sphereface_loss", options.m);
  check_schedule("sphereface_loss", options.iteration, options.base, options.gamma, options.power, options.lambda_min);
  return large_margin_loss(embeddings, normalize(weight, 2.0, 1, kNormEps), target, options.m, options.lambda(),
                           options.reduction);
}

Tensor cosface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                    const CosFaceOptions& options) {
  check_inputs("cosface_loss", embeddings, weight, target, options.reduction);
  check_scale("cosface_loss", options.s);
  check_nonnegative("cosface_loss", "m", options.m);
  return cosine_margin_loss(embeddings, weight, target, options.s, options.reduction,
                            [&](const Tensor& c, const Tensor&) { return cosface_target_logit(c, options.s, options.m); });
}

Tensor arcface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                    const ArcFaceOptions& options) {
  check_inputs("arcface_loss", embeddings, weight, target, options.reduction);
  check_scale("arcface_loss", options.s);
  check_arcface_margin("arcface_loss", options.m);
  return cosine_margin_loss(embeddings, weight, target, options.s, options.reduction,
                            [&](const Tensor& c, const Tensor& sin_theta) {
                              return sin_theta.defined()
                                         ? arcface_target_logit(c, sin_theta, options.s, options.m, options.easy_margin)
                                         : arcface_target_logit(c, options.s, options.m, options.easy_margin);
                            });
}

Tensor combined_margin_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                            const CombinedMarginOptions& options) {
  check_inputs("combined_margin_loss", embeddings, weight, target, options.reduction);
  check_scale("combined_margin_loss", options.s);
  check_combined_margins("combined_margin_loss", options.m1, options.m2, options.m3);
  return cosine_margin_loss(embeddings, weight, target, options.s, options.reduction,
                            [&](const Tensor& c, const Tensor& sin_theta) {
                              const CombinedMarginOptions& o = options;
                              return sin_theta.defined() ? combined_margin_target_logit(c, sin_theta, o.s, o.m1, o.m2, o.m3)
                                                         : combined_margin_target_logit(c, o.s, o.m1, o.m2, o.m3);
                            });
}

// ---- catalog rows ----

namespace {

std::int64_t whole(const std::string& fn, const char* name, double v) {
  if (!std::isfinite(v) || v != std::floor(v) || std::abs(v) > 1e15)
    throw std::invalid_argument(fn + ": " + name + " must be a whole number, got " + num(v));
  return static_cast<std::int64_t>(v);
}

const std::vector<LossInput> kInputs = {
    {"embeddings", "(N, d)", DType::Float32, true},
    {"weight", "(C, d)", DType::Float32, true},
    {"target", "(N) in [0, C)", DType::Int64, false},
};

const std::vector<Reduction> kReductions = {Reduction::None, Reduction::Mean, Reduction::Sum};

// 6 embeddings of dimension 3, 5 classes: drawn in float64 and rounded, so float32 and float64
// samples from equal generators hold the same numbers. With the tests' generators the target
// cosines stay > 1e-5 from every kink (the tests check it).
std::vector<Tensor> sample_inputs(DType dtype, Generator& gen) {
  Tensor x = randn({6, 3}, DType::Float64, gen).to(dtype);
  Tensor w = randn({5, 3}, DType::Float64, gen).to(dtype);
  return {x, w, randint(0, 5, {6}, gen)};
}

// Every angular loss but L-Softmax normalizes the class weights, so a cosine head predicts its class.
LossSpec row(std::string name, std::string formula, std::vector<LossParam> params,
             std::function<Tensor(const std::vector<Tensor>&, const LossParams&, Reduction)> call) {
  ScoresAs head = name == "lsoftmax_loss" ? ScoresAs::LinearHead : ScoresAs::CosineHead;
  return {std::move(name), "angular",     std::move(formula), kInputs, std::move(params), kReductions,
          sample_inputs,   std::move(call), ClassifierUse{head, LabelsAs::Index}};
}

}  // namespace

std::vector<LossSpec> angular_losses() {
  const NormFaceOptions normface;
  const LSoftmaxOptions lsoftmax;
  const SphereFaceOptions sphereface;
  const CosFaceOptions cosface;
  const ArcFaceOptions arcface;
  const CombinedMarginOptions combined;
  return {
      row("modified_softmax_loss", "-log softmax(z)_y,  z_j = ‖x‖ cos θ_j = x·W_j/‖W_j‖", {},
          [](const std::vector<Tensor>& in, const LossParams&, Reduction r) {
            return modified_softmax_loss(in[0], in[1], in[2], {.reduction = r});
          }),
      row("normface_loss", "-log softmax(z)_y,  z_j = s cos θ_j", {{"s", normface.s, "scale of the cosine logits"}},
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            NormFaceOptions o;
            o.s = p.at("s");
            o.reduction = r;
            return normface_loss(in[0], in[1], in[2], o);
          }),
      row("lsoftmax_loss",
          "-log softmax(z)_y,  z_y = ‖W_y‖‖x‖(λ cos θ_y + ψ(θ_y))/(1+λ),  ψ(θ) = (-1)^k cos(mθ) - 2k on "
          "[kπ/m, (k+1)π/m],  z_j = W_j·x",
          {{"m", static_cast<double>(lsoftmax.m), "integer angular margin, >= 1 (1: plain softmax)",
            ValueRange::whole(1, kMaxAngularMargin)},
           {"lambda", lsoftmax.lambda, "weight of the plain logit λ cos θ; 0 is the paper's loss"}},
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            LSoftmaxOptions o;
            o.m = whole("lsoftmax_loss", "m", p.at("m"));
            o.lambda = p.at("lambda");
            o.reduction = r;
            return lsoftmax_loss(in[0], in[1], in[2], o);
          }),
      row("sphereface_loss",
          "-log softmax(z)_y,  z_y = ‖x‖(λ cos θ_y + ψ(θ_y))/(1+λ),  z_j = ‖x‖ cos θ_j,  "
          "λ = max(λ_min, base·(1+γ·iteration)^-power)",
          {{"m", static_cast<double>(sphereface.m), "integer angular margin, >= 1", ValueRange::whole(1, kMaxAngularMargin)},
           {"iteration", static_cast<double>(sphereface.iteration), "training iteration, drives λ",
            ValueRange::whole(0, 9007199254740992.0)},
           {"base", sphereface.base, "λ at iteration 0"},
           {"gamma", sphereface.gamma, "decay rate of λ"},
           {"power", sphereface.power, "decay exponent of λ"},
           {"lambda_min", sphereface.lambda_min, "floor of λ"}},
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            SphereFaceOptions o;
            o.m = whole("sphereface_loss", "m", p.at("m"));
            o.iteration =
                whole("sphereface_loss", "iteration", p.at("iteration"));
            o.base = p.at("base");
            o.gamma = p.at("gamma");
            o.power = p.at("power");
            o.lambda_min = p.at("lambda_min");
            o.reduction = r;
            return sphereface_loss(in[0], in[1], in[2], o);
          }),
      row("cosface_loss", "-log softmax(z)_y,  z_y = s(cos θ_y - m),  z_j = s cos θ_j",
          {{"s", cosface.s, "scale of the cosine logits"}, {"m", cosface.m, "additive cosine margin, >= 0"}},
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            CosFaceOptions o;
            o.s = p.at("s");
            o.m = p.at("m");
            o.reduction = r;
            return cosface_loss(in[0], in[1], in[2], o);
          }),
      row("arcface_loss",
          "-log softmax(z)_y,  z_y = s cos(θ_y + m) (s(cos θ_y - m sin m) once θ_y ≥ π - m),  z_j = s cos θ_j",
          {{"s", arcface.s, "scale of the cosine logits"},
           {"m", arcface.m, "additive angular margin in radians, [0, π)"},
           {"easy_margin", arcface.easy_margin ? 1.0 : 0.0, "1: apply the margin only where cos θ_y > 0",
            ValueRange::boolean()}},
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            ArcFaceOptions o;
            o.s = p.at("s");
            o.m = p.at("m");
            o.easy_margin = switch_param("arcface_loss", p, "easy_margin");
            o.reduction = r;
            return arcface_loss(in[0], in[1], in[2], o);
          }),
      row("combined_margin_loss",
          "-log softmax(z)_y,  z_y = s(ψ(m1 θ_y + m2) - m3),  ψ(t) = (-1)^k cos t - 2k on [kπ, (k+1)π) (cos t up to π),  "
          "z_j = s cos θ_j",
          {{"s", combined.s, "scale of the cosine logits"},
           {"m1", combined.m1, "multiplicative angular margin (SphereFace-like), > 0",
            ValueRange::positive(kMaxAngularMargin)},
           {"m2", combined.m2, "additive angular margin in radians (ArcFace-like), >= 0",
            ValueRange::non_negative(kMaxAngularMargin)},
           {"m3", combined.m3, "additive cosine margin (CosFace-like), >= 0"}},
          [](const std::vector<Tensor>& in, const LossParams& p, Reduction r) {
            CombinedMarginOptions o;
            o.s = p.at("s");
            o.m1 = p.at("m1");
            o.m2 = p.at("m2");
            o.m3 = p.at("m3");
            o.reduction = r;
            return combined_margin_loss(in[0], in[1], in[2], o);
          }),
  };
}

}  // namespace zg
