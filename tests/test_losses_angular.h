#pragma once
// The helpers shared by tests/test_losses_angular.cpp and tests/test_losses_angular_properties.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/classification.h"
#include "zoograd/tests/test_util.h"

namespace {

using namespace zg;
using zg_tests::error_of;
using Vec = std::vector<double>;
constexpr double kPi = std::numbers::pi;

const std::vector<Reduction> kReductions{Reduction::None, Reduction::Mean, Reduction::Sum};

// ---- small vector algebra for the reference ----

inline double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
inline double norm(const Vec& a) { return std::sqrt(dot(a, a)); }
inline Vec scaled(const Vec& a, double k) {
  Vec r = a;
  for (double& v : r) v *= k;
  return r;
}
inline Vec plus(const Vec& a, const Vec& b) {
  Vec r = a;
  for (std::size_t i = 0; i < a.size(); ++i) r[i] += b[i];
  return r;
}
inline Vec row_of(const Vec& m, std::size_t i, std::size_t d) { return Vec(m.begin() + i * d, m.begin() + (i + 1) * d); }

// ---- inputs at chosen angles ----

const Vec kWeight{0.9, -0.2, 0.4, -0.5, 0.8, 0.3, 0.1, 0.4, -1.2, 0.7, 0.7, 0.1};  // (4, 3)

// An embedding of norm r at angle θ from w: r·(cos θ ŵ + sin θ u), u ⊥ w a unit vector.
inline Vec at_angle(const Vec& w, double theta, double r) {
  Vec w_hat = scaled(w, 1 / norm(w));
  Vec u = plus(Vec{0.3, -0.8, 0.5}, scaled(w_hat, -dot(Vec{0.3, -0.8, 0.5}, w_hat)));
  u = scaled(u, 1 / norm(u));
  return scaled(plus(scaled(w_hat, std::cos(theta)), scaled(u, std::sin(theta))), r);
}

struct Problem {
  Tensor x, w, y;
};

// Sample n has target n mod 4 and sits at angle thetas[n] from it with norm norms[n].
inline Problem problem(const Vec& thetas, const Vec& norms, DType dtype = DType::Float64) {
  Vec x, labels;
  for (std::size_t n = 0; n < thetas.size(); ++n) {
    std::size_t y = n % 4;
    Vec e = at_angle(row_of(kWeight, y, 3), thetas[n], norms[n]);
    x.insert(x.end(), e.begin(), e.end());
    labels.push_back(static_cast<double>(y));
  }
  auto n = static_cast<std::int64_t>(thetas.size());
  return {tensor(x, {n, 3}, dtype).requires_grad_(), tensor(kWeight, {4, 3}, dtype).requires_grad_(),
          tensor(labels, {n}, DType::Int64)};
}

// ---- the reference: softmax cross-entropy written out, with per-logit gradients ----

struct Logit {
  double value;
  Vec d_x, d_w;  // ∂z/∂x_n and ∂z/∂W_j
};
using LogitModel = std::function<Logit(const Vec& x, const Vec& w)>;
// g(cos θ) and dg/dcos θ.
using CosTransform = std::function<std::pair<double, double>(double c)>;

// z = g(c), c = x̂·ŵ:  ∂z/∂x = g'(c)(ŵ - c x̂)/‖x‖,  ∂z/∂w = g'(c)(x̂ - c ŵ)/‖w‖
inline LogitModel cosine_logit(CosTransform g) {
  return [g](const Vec& x, const Vec& w) {
    Vec x_hat = scaled(x, 1 / norm(x)), w_hat = scaled(w, 1 / norm(w));
    double c = dot(x_hat, w_hat);
    auto [value, slope] = g(c);
    return Logit{value, scaled(plus(w_hat, scaled(x_hat, -c)), slope / norm(x)),
                 scaled(plus(x_hat, scaled(w_hat, -c)), slope / norm(w))};
  };
}

inline CosTransform scaled_cos(double s) {
  return [s](double c) { return std::pair{s * c, s}; };
}

// z = x·ŵ = ‖x‖ cos θ:  ∂z/∂x = ŵ,  ∂z/∂w = (x - (x·ŵ)ŵ)/‖w‖
inline Logit modified_logit(const Vec& x, const Vec& w) {
  Vec w_hat = scaled(w, 1 / norm(w));
  return {dot(x, w_hat), w_hat, scaled(plus(x, scaled(w_hat, -dot(x, w_hat))), 1 / norm(w))};
}

// z = W·x
inline Logit linear_logit(const Vec& x, const Vec& w) { return {dot(x, w), w, x}; }

// ψ(θ) = (-1)^k cos(mθ) - 2k, k = ⌊mθ/π⌋, from θ itself; dψ/dcos θ = (-1)^k m sin(mθ)/sin θ.
inline std::pair<double, double> psi_from_theta(double theta, int m) {
  int k = std::min(m - 1, static_cast<int>(std::floor(m * theta / kPi)));
  double sign = k % 2 == 0 ? 1.0 : -1.0;
  return {sign * std::cos(m * theta) - 2.0 * k, sign * m * std::sin(m * theta) / std::sin(theta)};
}

// L-Softmax's z = a‖x‖h(c), h = (λc + ψ)/(1 + λ), with a = ‖w‖ (L-Softmax) or 1 (SphereFace,
// which normalizes w).
inline LogitModel large_margin_logit(int m, double lambda, bool normalized_weight) {
  return [=](const Vec& x, const Vec& w) {
    Vec x_hat = scaled(x, 1 / norm(x)), w_hat = scaled(w, 1 / norm(w));
    double c = dot(x_hat, w_hat);
    auto [psi, psi_slope] = psi_from_theta(std::acos(c), m);
    double h = (lambda * c + psi) / (1 + lambda), h_slope = (lambda + psi_slope) / (1 + lambda);
    Vec dc_dir_x = plus(w_hat, scaled(x_hat, -c)), dc_dir_w = plus(x_hat, scaled(w_hat, -c));
    if (normalized_weight)
      return Logit{norm(x) * h, plus(scaled(x_hat, h), scaled(dc_dir_x, h_slope)),
                   scaled(dc_dir_w, norm(x) * h_slope / norm(w))};
    return Logit{norm(w) * norm(x) * h, scaled(plus(scaled(x_hat, h), scaled(dc_dir_x, h_slope)), norm(w)),
                 scaled(plus(scaled(w_hat, h), scaled(dc_dir_w, h_slope)), norm(x))};
  };
}

struct Expected {
  Vec losses;    // ℓ_n = logsumexp(z_n) - z_ny
  Vec d_x, d_w;  // gradients of mean_n ℓ_n
};

// ∂ℓ_n/∂z_nj = softmax(z_n)_j - [j = y_n].
inline Expected reference(const Problem& p, const LogitModel& target, const LogitModel& other) {
  Vec x = p.x.to_vector(), w = p.w.to_vector(), y = p.y.to_vector();
  std::size_t n_rows = y.size(), classes = w.size() / 3;
  Expected e{{}, Vec(x.size(), 0.0), Vec(w.size(), 0.0)};
  for (std::size_t n = 0; n < n_rows; ++n) {
    Vec xn = row_of(x, n, 3);
    std::vector<Logit> z;
    double top = -INFINITY;
    for (std::size_t j = 0; j < classes; ++j) {
      z.push_back((j == static_cast<std::size_t>(y[n]) ? target : other)(xn, row_of(w, j, 3)));
      top = std::max(top, z.back().value);
    }
    double total = 0;
    for (const Logit& l : z) total += std::exp(l.value - top);
    e.losses.push_back(top + std::log(total) - z[static_cast<std::size_t>(y[n])].value);
    for (std::size_t j = 0; j < classes; ++j) {
      double delta = (std::exp(z[j].value - top) / total - (j == static_cast<std::size_t>(y[n]) ? 1.0 : 0.0)) /
                     static_cast<double>(n_rows);
      for (std::size_t i = 0; i < 3; ++i) {
        e.d_x[n * 3 + i] += delta * z[j].d_x[i];
        e.d_w[j * 3 + i] += delta * z[j].d_w[i];
      }
    }
  }
  return e;
}

using LossCall = std::function<Tensor(const Problem&, Reduction)>;

inline void expect_all_near(const Vec& actual, const Vec& expected, double tol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << what << " element " << i;
}

// Checks the per-sample values and the gradients of the mean against the reference to 1e-10, and
// gradchecks the same inputs (which sit in the branches the case is about) under every reduction.
inline void expect_matches(const Problem& p, const LossCall& loss, const Expected& e) {
  expect_all_near(loss(p, Reduction::None).to_vector(), e.losses, 1e-10, "values");
  loss(p, Reduction::Mean).backward();
  expect_all_near(p.x.grad().to_vector(), e.d_x, 1e-10, "d/d embeddings");
  expect_all_near(p.w.grad().to_vector(), e.d_w, 1e-10, "d/d weight");
  for (Reduction r : kReductions) {
    GradcheckResult g = gradcheck(
        [&](const std::vector<Tensor>& in) {
          return loss({in[0], in[1], p.y}, r);
        },
        {p.x, p.w});
    EXPECT_TRUE(g.ok) << reduction_name(r) << ": " << g.message;
  }
}

inline bool all_finite(const Vec& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// ---- 1. gradcheck of every catalog row under every reduction, from its samples ----

inline Vec grid(double lo, double hi, int points) {
  Vec v;
  for (int i = 0; i < points; ++i) v.push_back(lo + (hi - lo) * i / (points - 1));
  return v;
}

inline Vec cosines(const Vec& thetas) {
  Vec c;
  for (double t : thetas) c.push_back(std::cos(t));
  return c;
}

// The values and both gradients of two losses of (x, W, y), to tol.
inline void expect_same_loss(const Problem& p, const LossCall& a, const LossCall& b, double tol, const std::string& what) {
  for (Reduction r : kReductions) {
    Tensor x = p.x.detach().clone().requires_grad_(), w = p.w.detach().clone().requires_grad_();
    Tensor x2 = p.x.detach().clone().requires_grad_(), w2 = p.w.detach().clone().requires_grad_();
    Tensor la = a({x, w, p.y}, r), lb = b({x2, w2, p.y}, r);
    expect_all_near(la.to_vector(), lb.to_vector(), tol, what + " value " + reduction_name(r));
    sum(la).backward();
    sum(lb).backward();
    expect_all_near(x.grad().to_vector(), x2.grad().to_vector(), tol, what + " d/d embeddings " + reduction_name(r));
    expect_all_near(w.grad().to_vector(), w2.grad().to_vector(), tol, what + " d/d weight " + reduction_name(r));
  }
}

// F.cross_entropy(x @ W.T, y, reduction=r)
inline Tensor plain_softmax_loss(const Tensor& x, const Tensor& w, const Tensor& y, Reduction r) {
  CrossEntropyOptions options;
  options.reduction = r;
  return cross_entropy(mm(x, w, {.transpose_b = true}), y, options);
}

inline Problem sample_problem(std::uint64_t seed, DType dtype = DType::Float64) {
  Generator gen(seed);
  std::vector<Tensor> in = find_loss("cosface_loss").sample(dtype, gen);
  return {in[0], in[1], in[2]};
}

}  // namespace
