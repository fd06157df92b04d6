#include "zoograd/train/loss/loss_facts.h"

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numbers>
#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/checks.h"
#include "zoograd/losses/classification.h"
#include "zoograd/losses/hessians.h"
#include "zoograd/losses/hinge.h"
#include "zoograd/losses/metric.h"
#include "zoograd/train/loss/loss_curves.h"

namespace zg {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kDegree = kPi / 180;

Tensor f64(const std::vector<double>& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
Tensor scalar64(double v) { return f64({v}, {1}); }

using checks::num;  // %g: "0.5", "1e-06"

// The x in [lo, hi] where `above` turns from true (at lo) to false (at hi), to the last bit.
double boundary(const std::function<bool(double)>& above, double lo, double hi) {
  for (int i = 0; i < 200; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    (above(mid) ? lo : hi) = mid;
  }
  return lo + (hi - lo) / 2;
}

void focal_facts(std::vector<LossFact>& out) {
  // Two classes with logits (log(p_t/(1 - p_t)), 0): softmax gives the true class exactly p_t.
  auto ratio = [](double p_t, double gamma) {
    const Tensor x = f64({std::log(p_t / (1 - p_t)), 0.0}, {1, 2}), y = zeros({1}, DType::Int64);
    return focal_loss(x, y, {.gamma = gamma}).item() / cross_entropy(x, y).item();
  };
  const std::string topic = "focal factor (1 - p_t)^γ = focal_loss / cross_entropy";
  const std::string source = "Lin et al. 2017 (focal loss), §3.2";
  for (double gamma : {0.5, 1.0, 2.0, 5.0}) {
    const bool printed = gamma == 2;
    out.push_back({topic, "p_t = 0.9, γ = " + num(gamma), ratio(0.9, gamma), std::pow(0.1, gamma),
                   printed ? std::optional(0.01) : std::nullopt, 1e-12,
                   printed ? "γ = 2, p_t = 0.9: 100× lower loss than CE" : "-", printed ? source : "-"});
  }
  out.push_back({topic, "p_t = 0.968, γ = 2", ratio(0.968, 2), 0.032 * 0.032, 0.001, 3e-5,
                 "p_t ≈ 0.968: 1000× lower loss", source});
}

// The lowest normface_loss C classes can reach at scale s: weights on a regular simplex, every
// feature on its own class's weight. Up to 512 classes through normface_loss on that simplex; above,
// through cross_entropy on its logits s·cos θ (1 for the own class, -1/(C - 1) for the others).
double normface_lowest(std::int64_t classes, double s) {
  if (classes <= 512) return normface_simplex_loss(classes, {s})[0];
  std::vector<double> logits(static_cast<std::size_t>(classes), -s / static_cast<double>(classes - 1));
  logits[0] = s;
  return cross_entropy(f64(logits, {1, classes}), zeros({1}, DType::Int64)).item();
}

void normface_facts(std::vector<LossFact>& out, std::int64_t classes) {
  const std::string topic = "NormFace: lowest reachable loss log(1 + (C - 1)·e^(-s·C/(C - 1))) against the scale s";
  const std::string c = "C = " + std::to_string(classes);
  for (double s : {1.0, 5.0, 10.0, 16.0, 32.0, 64.0})
    out.push_back({topic, c + ", s = " + num(s), normface_lowest(classes, s), normface_bound(classes, s),
                   std::nullopt, 0, "-", "-"});
  out.push_back({topic, "C = 10575 (CASIA-WebFace), s = ℓ² = 1", normface_lowest(10575, 1), normface_bound(10575, 1),
                 8.27, 0.005, "the bound is 8.27 (training loss 9.27 -> 8.50)", "Wang et al. 2017 (NormFace), §3.3"});
  // The smallest s at which the bound lets the true class reach p = 0.99 (loss -log 0.99).
  const double target = -std::log(0.99), cf = static_cast<double>(classes);
  out.push_back({topic, c + ": smallest s with lowest loss -log 0.99",
                 boundary([&](double s) { return normface_lowest(classes, s) > target; }, 0, 1000),
                 (cf - 1) / cf * std::log((cf - 1) * 0.99 / 0.01), std::nullopt, 0, "-",
                 "from Proposition 2 (docs/derivations.md)"});
}

void margin_facts(std::vector<LossFact>& out, std::int64_t classes, std::int64_t dim) {
  std::string how;
  const std::optional<double> phi = largest_smallest_angle(classes, dim, &how);
  if (!phi) return;
  const std::string topic = "largest feasible margin, C = " + std::to_string(classes) + " classes in d = " +
                            std::to_string(dim) + " (weights " + how + ", " + num(*phi / kDegree) + "° apart)";
  const double cos_phi = std::cos(*phi);
  // A feature on its own weight must still beat the nearest other weight (at φ) with the margin:
  // target logit(θ = 0) > cos φ. Largest m by bisection on the library's transforms.
  const double cosface = boundary(
      [&](double m) { return cosface_target_logit(scalar64(1.0), 1.0, m).item() > cos_phi; }, 0, 2);
  const bool simplex = classes <= dim + 1;
  const std::string cosface_paper = dim == 2 ? "m ≤ 1 - cos(2π/C)" : simplex ? "m ≤ C/(C - 1)" : "-";
  out.push_back({topic, "CosFace m (cosine margin)", cosface, 1 - cos_phi,
                 dim == 2 || simplex ? std::optional(dim == 2 ? 1 - std::cos(2 * kPi / static_cast<double>(classes))
                                                              : static_cast<double>(classes) / (static_cast<double>(classes) - 1.0))
                                     : std::nullopt,
                 1e-9, cosface_paper, dim == 2 || simplex ? "Wang et al. 2018 (CosFace), §3.4" : "-"});
  const double arcface = boundary(
      [&](double m) { return arcface_target_logit(scalar64(1.0), scalar64(0.0), 1.0, m).item() > cos_phi; }, 0,
      kPi - 1e-12);
  out.push_back({topic, "ArcFace m (angular margin, radians)", arcface, *phi, std::nullopt, 0, "-",
                 "the atlas's bound (docs/derivations.md)"});
  if (dim != 2) return;
  // SphereFace: a feature θ from its weight and Δ - θ from a neighbour's wins while ψ(θ) > cos(Δ - θ).
  const double delta = *phi;
  auto edge = [&](std::int64_t m, double apart, double side) {  // ψ(θ) = cos(apart + side·θ)
    return boundary([&](double t) {
      return lsoftmax_psi(scalar64(std::cos(t)), m).item() > std::cos(apart + side * t);
    }, 0, apart);
  };
  out.push_back({topic, "SphereFace m = 4: largest angle to the own weight that still wins (radians)",
                 edge(4, delta, -1), delta / 5, std::nullopt, 0, "-", "the atlas's bound (docs/derivations.md)"});
  // Smallest integer m with the largest intra-class angle (2θ_b) at most the smallest inter-class one (Δ - 2θ_b).
  std::int64_t m_multi = 1;
  while (m_multi < 32 && 2 * edge(m_multi, delta, -1) > delta - 2 * edge(m_multi, delta, -1) + 1e-9) ++m_multi;
  out.push_back({topic, "SphereFace: smallest m with max intra-class ≤ min inter-class angle", static_cast<double>(m_multi),
                 3.0, 3.0, 0, "m_min ≥ 3 (multi-class, Property 3)", "Liu et al. 2017 (SphereFace), §3.3"});
}

void binary_sphereface_fact(std::vector<LossFact>& out) {
  // Two weights θ12 = 60° apart: class 1 spans θ_in toward W2 (ψ(θ) = cos(θ12 - θ)) and θ_out away
  // from it (ψ(θ) = cos(θ12 + θ)); its largest intra-class angle θ_in + θ_out must not exceed the
  // gap θ12 - 2θ_in.
  const double apart = kPi / 3;
  auto edge = [&](std::int64_t m, double side) {
    return boundary([&](double t) {
      return lsoftmax_psi(scalar64(std::cos(t)), m).item() > std::cos(apart + side * t);
    }, 0, kPi - apart);
  };
  std::int64_t m = 2;
  while (m < 32 && edge(m, -1) + edge(m, 1) > apart - 2 * edge(m, -1)) ++m;
  out.push_back({"SphereFace, binary case (W1, W2 60° apart)", "smallest integer m with max intra-class ≤ min inter-class angle",
                 static_cast<double>(m), std::ceil(2 + std::sqrt(3.0)), std::nullopt, 0,
                 "m_min ≥ 2 + √3 ≈ 3.73 (Property 2), so m = 4", "Liu et al. 2017 (SphereFace), §3.3"});
}

void hessian_facts(std::vector<LossFact>& out, std::int64_t classes) {
  // Logits 1, 0.5, 0, -0.5, ... with the target 0: the exact diagonal p(1 - p) from losses/hessians.h.
  std::vector<double> z;
  for (std::int64_t c = 0; c < classes; ++c) z.push_back(1.0 - 0.5 * static_cast<double>(c));
  const Tensor logits = f64(z, {1, classes});
  const Tensor exact = softmax_cross_entropy_grad_hess(logits, one_hot(zeros({1}, DType::Int64), classes, DType::Float64)).hess;
  const double p = softmax(logits, 1).to_vector()[0], h = exact.to_vector()[0];
  Tensor x = logits.clone().requires_grad_();
  Tensor g = grad({cross_entropy(x, zeros({1}, DType::Int64), {Reduction::Sum})}, {x}, {}, {.retain_graph = true, .create_graph = true})[0];
  const double autograd = grad({slice(reshape(g, {-1}), 0, 0, 1)}, {x}, {}, {.retain_graph = true})[0].to_vector()[0];
  const std::string topic = "softmax cross-entropy: Hessian diagonal conventions (C = " + std::to_string(classes) + ")";
  out.push_back({topic, "exact ∂²L/∂z_0² = p(1 - p), p = " + num(p) + " (losses/hessians.h)", h, autograd,
                 std::nullopt, 0, "-", "autograd's double backward as the closed form's check"});
  out.push_back({topic, "XGBoost multi:softprob h / exact", std::max(2 * p * (1 - p), 1e-16) / h, 2.0, 2.0, 1e-12,
                 "h = max(2p(1 - p)·w, 1e-16)", "xgboost src/objective/multiclass_obj.cu"});
  const double k = static_cast<double>(classes);
  out.push_back({topic, "LightGBM multiclass h / exact", k / (k - 1) * p * (1 - p) / h, k / (k - 1), k / (k - 1), 1e-12,
                 "h = K/(K - 1)·p(1 - p) (Friedman's rescaling)", "LightGBM src/objective/multiclass_objective.hpp"});
}

void seed_facts(std::vector<LossFact>& out) {
  const std::string topic = "seed 000: from the hinge to cross-entropy";
  const Tensor z = f64({1, 2, 3, 0}, {1, 4}), y = zeros({1}, DType::Int64);
  out.push_back({topic, "Σ_{i≠y} max(z_i - z_y + 1, 0), z = (1, 2, 3, 0), y = 0 (divide_by_classes = 0)",
                 multi_margin_loss(z, y, {.divide_by_classes = false}).item(), 5.0, std::nullopt, 0,
                 "PyTorch's multi_margin_loss: 5/C = 1.25", "seed 000"});
  out.push_back({topic, "logsumexp_hinge_loss (T = 1) - cross_entropy, same z", 
                 logsumexp_hinge_loss(z, y).item() - cross_entropy(z, y).item(), 0.0, std::nullopt, 0,
                 "softplus(log Σ_{i≠y} e^{z_i} - z_y) = -log softmax(z)_y", "seed 000"});
  const Tensor sp = f64({0.8, 0.6}, {1, 2}), sn = f64({0.1, 0.3, -0.2}, {1, 3});
  out.push_back({topic, "unified_loss: double sum - factored form (γ = 16, m = 0.25)",
                 unified_loss(sp, sn, {.gamma = 16, .factored = false}).item() - unified_loss(sp, sn, {.gamma = 16}).item(),
                 0.0, std::nullopt, 0, "the two forms of L_u are equal", "seed 000"});
}

}  // namespace

std::optional<double> largest_smallest_angle(std::int64_t classes, std::int64_t dim, std::string* how) {
  auto named = [&](const char* name, double angle) {
    if (how) *how = name;
    return std::optional(angle);
  };
  if (dim == 2) return named("evenly spaced on the circle", 2 * kPi / static_cast<double>(classes));
  if (classes <= dim + 1) return named("on a regular simplex", std::acos(-1 / (static_cast<double>(classes) - 1)));
  if (dim != 3) return std::nullopt;
  // The Tammes problem on the sphere: proven optima (closed forms where they exist).
  static const std::map<std::int64_t, double> tammes = {
      {5, 90.0}, {6, 90.0}, {7, 77.8695}, {8, std::acos((2 * std::sqrt(2.0) - 1) / 7) / kDegree},
      {9, std::acos(1.0 / 3) / kDegree}, {10, 66.1468}, {11, std::acos(1 / std::sqrt(5.0)) / kDegree},
      {12, std::acos(1 / std::sqrt(5.0)) / kDegree}, {13, 57.1367}, {14, 55.6706}, {24, 43.6908}};
  auto it = tammes.find(classes);
  if (it == tammes.end()) return std::nullopt;
  return named("at the known optimum of the Tammes problem", it->second * kDegree);
}

std::vector<LossFact> loss_facts(std::int64_t classes, std::int64_t dim) {
  if (classes < 2 || classes > 100000)
    throw std::invalid_argument("--classes must be in [2, 100000], got " + std::to_string(classes));
  if (dim < 2 || dim > 100000) throw std::invalid_argument("--dim must be in [2, 100000], got " + std::to_string(dim));
  std::vector<LossFact> out;
  focal_facts(out);
  normface_facts(out, classes);
  margin_facts(out, classes, dim);
  binary_sphereface_fact(out);
  hessian_facts(out, classes);
  seed_facts(out);
  return out;
}

std::string loss_facts_text(const std::vector<LossFact>& facts, bool json) {
  auto optional_number = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  if (json) {
    nlohmann::json all = nlohmann::json::array();
    for (const LossFact& f : facts)
      all.push_back({{"topic", f.topic}, {"quantity", f.quantity}, {"computed", f.computed},
                     {"closed_form", optional_number(f.closed_form)}, {"published", optional_number(f.published)},
                     {"paper", f.paper}, {"source", f.source}});
    return all.dump(2) + "\n";
  }
  std::string text, topic;
  for (const LossFact& f : facts) {
    if (f.topic != topic) text += (topic.empty() ? "" : "\n") + (topic = f.topic) + "\n";
    text += "  " + f.quantity + "\n    computed " + num(f.computed) +
            (f.closed_form ? "   closed form " + num(*f.closed_form) : "") +
            (f.paper == "-" ? "" : "   paper: " + f.paper) + (f.source == "-" ? "" : "   [" + f.source + "]") + "\n";
  }
  return text;
}

}  // namespace zg
