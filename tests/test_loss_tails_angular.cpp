// Exact tails of the angular margins: ArcFace, CosFace and the combined margin keep a relative
// error of at most 1e-9 in value and gradient (normwise per tensor, see tests/test_loss_tails.cpp)
// for θ_y from 1e-12 to π - 1e-3, their values also up to π - 1e-12, and they stay finite at
// cos θ = ±1 exactly. The references are long double closed forms on the same float64 inputs: the
// class weights lie on the coordinate axes, so θ_y = atan2(‖x_⊥‖, x_1) and every derivative has a
// closed form in the coordinates.
//
// Near π the target's gradient is, for CosFace and ArcFace's fallback, cos θ's: (ŵ - cos θ·x̂)/‖x‖,
// a vector of length sin θ formed from unit vectors, so its normwise error is about 1e-16/sin θ
// (1.3e-8 at π - 1e-8), as in any implementation on cos θ; the combined margin takes θ from
// atan2(sin θ, cos θ) with sin θ from the rejection and is held to 1e-9 there too.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"

namespace {

using namespace zg;
using LD = long double;
using V = std::vector<double>;
constexpr LD kPi = std::numbers::pi_v<long double>;

// The target-logit curve g(θ) (per unit scale) and its derivative, in long double.
struct Curve {
  std::string name;
  double s;
  std::function<LD(LD)> g, dg;
  std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> loss;
  std::function<bool(LD)> near_a_switch;  // θ where the branch taken may differ by rounding
};

std::vector<Curve> curves() {
  const double s = 64;
  auto none = [](LD) { return false; };
  std::vector<Curve> all;
  all.push_back({"cosface", s, [](LD t) { return std::cos(t) - 0.35L; }, [](LD t) { return -std::sin(t); },
                 [s](const Tensor& x, const Tensor& w, const Tensor& y) {
                   return cosface_loss(x, w, y, {.s = s, .m = 0.35, .reduction = Reduction::Sum});
                 },
                 none});
  const LD m = 0.5L;
  all.push_back({"arcface", s, [m](LD t) { return t < kPi - m ? std::cos(t + m) : std::cos(t) - m * std::sin(m); },
                 [m](LD t) { return t < kPi - m ? -std::sin(t + m) : -std::sin(t); },
                 [s](const Tensor& x, const Tensor& w, const Tensor& y) {
                   return arcface_loss(x, w, y, {.s = s, .m = 0.5, .reduction = Reduction::Sum});
                 },
                 [m](LD t) { return std::fabs(t - (kPi - m)) < 1e-6L; }});
  const LD m1 = 0.9L, m2 = 0.4L, m3 = 0.15L;
  auto k_of = [=](LD t) { return std::floor((m1 * t + m2) / kPi); };
  all.push_back({"combined",
                 s,
                 [=](LD t) {
                   LD k = k_of(t), u = m1 * t + m2;
                   return (std::fmod(k, 2.0L) == 0 ? 1 : -1) * std::cos(u) - 2 * k - m3;
                 },
                 [=](LD t) { return (std::fmod(k_of(t), 2.0L) == 0 ? -1 : 1) * std::sin(m1 * t + m2) * m1; },
                 [s](const Tensor& x, const Tensor& w, const Tensor& y) {
                   return combined_margin_loss(x, w, y,
                                               {.s = s, .m1 = 0.9, .m2 = 0.4, .m3 = 0.15, .reduction = Reduction::Sum});
                 },
                 [=](LD t) { return std::fabs(std::remainder(m1 * t + m2, kPi)) < 1e-6L; }});
  return all;
}

// Class weights on the axes: W_0 = 2e1 (the target), W_1 = 0.5e2, W_2 = 1.5e3, W_3 = -0.75e1.
const V kW{2, 0, 0, 0, 0.5, 0, 0, 0, 1.5, -0.75, 0, 0};
const LD kNorm[4] = {2, 0.5L, 1.5L, 0.75L};
const int kAxis[4] = {0, 1, 2, 0};
const LD kSign[4] = {1, 1, 1, -1};

struct Reference {
  LD value;
  std::vector<LD> grad_x, grad_w;
};

// Cross-entropy of z_0 = s·g(θ), z_j = s·cos θ_j with every derivative in closed form.
Reference reference(const Curve& c, const V& x) {
  const LD x1 = x[0], x2 = x[1], x3 = x[2];
  const LD perp = std::sqrt(x2 * x2 + x3 * x3), norm2 = x1 * x1 + perp * perp, norm = std::sqrt(norm2);
  const LD theta = std::atan2(perp, x1), s = c.s;
  const LD xhat[3] = {x1 / norm, x2 / norm, x3 / norm};
  LD z[4], cosines[4];
  z[0] = s * c.g(theta);
  for (int j = 1; j < 4; ++j) {
    cosines[j] = kSign[j] * xhat[kAxis[j]];
    z[j] = s * cosines[j];
  }
  LD total = 0, e[4];
  for (int j = 1; j < 4; ++j) total += e[j] = std::exp(z[j] - z[0]);
  Reference r{std::log1p(total), std::vector<LD>(3, 0), std::vector<LD>(12, 0)};
  const LD dz0 = -total / (1 + total);  // ∂ℓ/∂z_0; ∂ℓ/∂z_j = e_j/(1 + S)
  // θ = atan2(‖x_⊥‖, x_1): ∂θ/∂x_1 = -‖x_⊥‖/‖x‖², ∂θ/∂x_k = x_1 x_k/(‖x_⊥‖ ‖x‖²); ∂θ/∂W_0 = -(0, x_2, x_3)/(2‖x_⊥‖).
  const LD dtheta_x[3] = {-perp / norm2, x1 * x2 / (perp * norm2), x1 * x3 / (perp * norm2)};
  const LD dg = s * c.dg(theta) * dz0;
  for (int k = 0; k < 3; ++k) r.grad_x[k] += dg * dtheta_x[k];
  r.grad_w[1] = -dg * x2 / (kNorm[0] * perp);
  r.grad_w[2] = -dg * x3 / (kNorm[0] * perp);
  for (int j = 1; j < 4; ++j) {
    const LD dzj = s * e[j] / (1 + total);
    LD w_hat[3] = {0, 0, 0};
    w_hat[kAxis[j]] = kSign[j];
    for (int k = 0; k < 3; ++k) {
      r.grad_x[k] += dzj * (w_hat[k] - cosines[j] * xhat[k]) / norm;  // ∂cos θ_j/∂x = (ŵ_j - cos θ_j x̂)/‖x‖
      r.grad_w[3 * j + k] = dzj * (xhat[k] - cosines[j] * w_hat[k]) / kNorm[j];  // ∂cos θ_j/∂W_j
    }
  }
  return r;
}

double normwise(const V& got, const std::vector<LD>& want) {
  LD err = 0, scale = 0;
  for (std::size_t k = 0; k < want.size(); ++k) {
    err = std::max(err, std::fabs(static_cast<LD>(got[k]) - want[k]));
    scale = std::max(scale, std::fabs(want[k]));
  }
  return static_cast<double>(err / scale);
}

struct Result {
  double value;
  V grad_x, grad_w;
};

Result run(const Curve& c, const V& x, DType dtype) {
  Tensor xt = tensor(x, {1, 3}, dtype).requires_grad_(), wt = tensor(kW, {4, 3}, dtype).requires_grad_();
  Tensor loss = c.loss(xt, wt, zeros({1}, DType::Int64));
  loss.backward();
  return {loss.item(), xt.grad().to_vector(), wt.grad().to_vector()};
}

V embedding(double theta) {
  const double rho = 3, phi = 0.7;
  return {rho * std::cos(theta), rho * std::sin(theta) * std::cos(phi), rho * std::sin(theta) * std::sin(phi)};
}

TEST(LossTailsAngular, ExactDownToThetaOneInATrillion) {
  const V thetas{1e-12, 1e-10, 1e-8, 1e-7, 1e-6, 1e-4, 1e-2, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 2.9,
                 3.1, std::numbers::pi - 1e-4, std::numbers::pi - 1e-8, std::numbers::pi - 1e-12};
  for (const Curve& c : curves())
    for (double theta : thetas) {
      const V x = embedding(theta);
      const LD exact_theta = std::atan2(std::hypot(static_cast<LD>(x[1]), static_cast<LD>(x[2])), static_cast<LD>(x[0]));
      if (c.near_a_switch(exact_theta)) continue;
      const Reference want = reference(c, x);
      const Result got = run(c, x, DType::Float64);
      const std::string at = c.name + " θ = " + std::to_string(theta) + " (π - θ = " + std::to_string(std::numbers::pi - theta) + ")";
      EXPECT_LE(std::fabs(static_cast<LD>(got.value) - want.value) / want.value, 1e-9) << at;
      if (theta > std::numbers::pi - 1e-3 && c.name != "combined") continue;
      EXPECT_LE(normwise(got.grad_x, want.grad_x), 1e-9) << at << " (embedding gradient)";
      EXPECT_LE(normwise(got.grad_w, want.grad_w), 1e-9) << at << " (weight gradient)";
    }
}

TEST(LossTailsAngular, FiniteAtCosineExactlyPlusAndMinusOne) {
  for (const Curve& c : curves())
    for (DType dtype : {DType::Float64, DType::Float32})
      for (const V& x : {V{3, 0, 0}, V{-3, 0, 0}, V{0, 0, 0}}) {
        const Result got = run(c, x, dtype);
        EXPECT_TRUE(std::isfinite(got.value)) << c.name << " x = (" << x[0] << ", 0, 0)";
        for (const V* g : {&got.grad_x, &got.grad_w})
          for (double v : *g) EXPECT_TRUE(std::isfinite(v)) << c.name << " x = (" << x[0] << ", 0, 0)";
        if (x[0] == 0 || dtype == DType::Float32) continue;
        // θ = 0 or π exactly: the value is the curve's there.
        const Reference want = reference(c, V{x[0], 0, 1e-300});
        EXPECT_LE(std::fabs(static_cast<LD>(got.value) - want.value) / want.value, 1e-12) << c.name << " x_1 = " << x[0];
      }
}

TEST(LossTailsAngular, Float32StaysFiniteDownToTinyAngles) {
  for (const Curve& c : curves())
    for (double theta : {1e-12, 1e-7, 1.0, std::numbers::pi - 1e-7}) {
      const Result got = run(c, embedding(theta), DType::Float32);
      EXPECT_TRUE(std::isfinite(got.value)) << c.name << " " << theta;
      for (double v : got.grad_x) EXPECT_TRUE(std::isfinite(v)) << c.name << " " << theta;
      for (double v : got.grad_w) EXPECT_TRUE(std::isfinite(v)) << c.name << " " << theta;
    }
}

}  // namespace
