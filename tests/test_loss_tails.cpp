// Exact tails. In float64, cross_entropy (and through it every angular loss), focal_loss and the
// Brier scores keep a relative error of at most 1e-12 in value and gradient at every margin
// M = z_y - max_{j≠y} z_j from -700 to 700; ArcFace, CosFace and the combined margin keep at most
// 1e-9 in value and gradient for θ from 1e-12 to π - 1e-12, and stay finite at cos θ = ±1.
// References are computed here in long double (64-bit significand, unit roundoff 5.4e-20) from the
// closed forms, with the same float64 inputs, and never from the library.
//
// Error measures: a value or gradient element a against its reference r counts |a - r| /
// max(|r|, 1e-290), so results below the float64 normal range (e^-700 squared, say) must be within
// 1e-302 absolutely (they are 0 or the subnormal nearest). For the angular losses the gradient of
// each tensor is compared normwise, max |a - r| / max |r|: at θ = 1e-12 some of its components are
// ~1e-12 of the others, and their absolute error, not their relative one, is what the input allows.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/classification.h"

namespace {

using namespace zg;
using LD = long double;
using V = std::vector<double>;

constexpr double kExactTail = 1e-12, kAngularTail = 1e-9;

double rel_error(double a, LD r) {
  return static_cast<double>(std::fabs(static_cast<LD>(a) - r) / std::max(std::fabs(r), static_cast<LD>(1e-290)));
}

// The margins of the sweep, and a row of C logits with z_y - max_{j≠y} z_j = M: the others are 0
// and fixed values in [-4, 0), plus a shift of the whole row.
const V kMargins{-700, -300, -40, -1, 0, 0.5, 1, 5, 10, 20, 30, 36, 37, 40, 50, 100, 200, 300, 500, 700};

V logits_row(double margin, int classes, double shift) {
  V z{margin + shift};
  for (int j = 1; j < classes; ++j) z.push_back(shift - (j == 1 ? 0.0 : 4.0 * j / (classes + 1.0)));
  return z;
}

// Softmax pieces in long double with the target at index 0: e_j = e^{z_j - z_0} (j ≥ 1),
// S = Σ e_j, p_0 = 1/(1 + S), u = 1 - p_0 = S/(1 + S), p_j = e_j/(1 + S), -log p_0 = log1p(S).
struct SoftmaxLD {
  std::vector<LD> p;
  LD u = 0, nll = 0;
};

SoftmaxLD softmax_ld(const V& z) {
  SoftmaxLD s;
  LD total = 0;
  std::vector<LD> e{1};
  for (std::size_t j = 1; j < z.size(); ++j) {
    e.push_back(std::exp(static_cast<LD>(z[j]) - static_cast<LD>(z[0])));
    total += e.back();
  }
  for (LD v : e) s.p.push_back(v / (1 + total));
  s.u = total / (1 + total);
  s.nll = std::log1p(total);
  return s;
}

Tensor labels_of(std::int64_t y) { return tensor(V{static_cast<double>(y)}, {1}, DType::Int64); }

struct Checked {
  double value;
  V grad;
};

// The loss of one row (target 0) summed, and its gradient, in dtype.
Checked run(const std::function<Tensor(const Tensor&, const Tensor&)>& loss, const V& z, DType dtype) {
  Tensor x = tensor(z, {1, static_cast<std::int64_t>(z.size())}, dtype).requires_grad_();
  Tensor l = sum(loss(x, zeros({1}, DType::Int64)));
  l.backward();
  return {l.item(), x.grad().to_vector()};
}

void expect_close(const Checked& got, LD value, const std::vector<LD>& grad, double tol, const std::string& what) {
  EXPECT_LE(rel_error(got.value, value), tol) << what << ": value " << got.value << " against " << static_cast<double>(value);
  for (std::size_t k = 0; k < grad.size(); ++k)
    EXPECT_LE(rel_error(got.grad[k], grad[k]), tol)
        << what << ": gradient " << k << " " << got.grad[k] << " against " << static_cast<double>(grad[k]);
}

std::string where(double margin, std::size_t classes, double shift) {
  return "M = " + std::to_string(margin) + ", C = " + std::to_string(classes) + ", shift " + std::to_string(shift);
}

TEST(LossTails, CrossEntropyIsExactUpToMargin700) {
  for (double margin : kMargins)
    for (int classes : {2, 3, 10})
      for (double shift : {0.0, 17.25}) {
        const V z = logits_row(margin, classes, shift);
        const SoftmaxLD s = softmax_ld(z);
        std::vector<LD> grad{-s.u};  // p_0 - 1
        for (std::size_t j = 1; j < z.size(); ++j) grad.push_back(s.p[j]);
        auto ce = [](const Tensor& x, const Tensor& y) { return cross_entropy(x, y, {Reduction::Sum}); };
        expect_close(run(ce, z, DType::Float64), s.nll, grad, kExactTail, "cross_entropy " + where(margin, z.size(), shift));
        // The same as a one-hot probability target.
        auto soft = [](const Tensor& x, const Tensor& y) {
          return cross_entropy(x, one_hot(y, x.size(1), x.dtype()), {Reduction::Sum});
        };
        expect_close(run(soft, z, DType::Float64), s.nll, grad, kExactTail,
                     "cross_entropy, probability target, " + where(margin, z.size(), shift));
      }
}

TEST(LossTails, CrossEntropyKeepsTheTrueSmallValueWhereverRepresentable) {
  // [40, 0, 0]: 2e^-40 = 8.5e-18 (PyTorch: 0); past margin 745 the value is below the smallest subnormal.
  const V z{40, 0, 0};
  EXPECT_NEAR(cross_entropy(tensor(z, {1, 3}, DType::Float64), zeros({1}, DType::Int64)).item(),
              static_cast<double>(std::log1p(2 * std::exp(-40.0L))), 1e-30);
  double at_740 = cross_entropy(tensor(V{740, 0}, {1, 2}, DType::Float64), zeros({1}, DType::Int64)).item();
  EXPECT_GT(at_740, 0.0);
  EXPECT_NEAR(at_740, static_cast<double>(std::exp(-740.0L)), 1e-323);
}

TEST(LossTails, CrossEntropyAtInfinitiesAndWithOneClass) {
  const double inf = std::numeric_limits<double>::infinity();
  auto ce = [](const V& z, std::int64_t y) {
    Tensor x = tensor(z, {1, static_cast<std::int64_t>(z.size())}, DType::Float64).requires_grad_();
    Tensor l = cross_entropy(x, labels_of(y));
    l.backward();
    return std::pair{l.item(), x.grad().to_vector()};
  };
  EXPECT_EQ(ce({-inf, 0, 1}, 0).first, inf);            // the target can never win
  EXPECT_EQ(ce({2, -inf, -inf}, 0).first, 0.0);         // nothing else can
  EXPECT_EQ(ce({2, -inf, -inf}, 0).second, (V{0, 0, 0}));
  EXPECT_TRUE(std::isnan(ce({-inf, -inf, -inf}, 1).first));  // 0/0, as PyTorch
  auto one = ce({5}, 0);                                 // one class: log 1 = 0
  EXPECT_EQ(one.first, 0.0);
  EXPECT_EQ(one.second, (V{0}));
}

TEST(LossTails, FocalLossIsExactUpToMargin700) {
  for (double gamma : {0.5, 1.0, 2.0, 5.0})
    for (double margin : kMargins)
      for (int classes : {2, 3, 10}) {
        const V z = logits_row(margin, classes, 3.5);
        const SoftmaxLD s = softmax_ld(z);
        // ℓ = u^γ·L with u = 1 - p_0, L = -log p_0;  ∂ℓ/∂z_k = (p_k - δ_k0)·(γ u^(γ-1) L p_0 + u^γ)
        const LD g = static_cast<LD>(gamma);
        const LD common = g * std::pow(s.u, g - 1) * s.nll * s.p[0] + std::pow(s.u, g);
        std::vector<LD> grad{-s.u * common};
        for (std::size_t j = 1; j < z.size(); ++j) grad.push_back(s.p[j] * common);
        auto focal = [gamma](const Tensor& x, const Tensor& y) {
          return focal_loss(x, y, {.reduction = Reduction::Sum, .gamma = gamma});
        };
        expect_close(run(focal, z, DType::Float64), std::pow(s.u, g) * s.nll, grad, kExactTail,
                     "focal γ " + std::to_string(gamma) + " " + where(margin, z.size(), 3.5));
      }
}

// The Brier scores' gradients are exact for margins from 0 to 700. Below 0 (a confident mistake) the
// dominant wrong class's gradient, ~4e^M, comes out as 0: it is p(1 - p) of a p that rounds to 1,
// inside the softmax's and the sigmoid's derivatives. The values are exact at every margin.
TEST(LossTails, BrierScoreIsExactUpToMargin700) {
  for (double margin : kMargins)
    for (int classes : {2, 3, 10}) {
      const V z = logits_row(margin, classes, -2.0);
      const SoftmaxLD s = softmax_ld(z);
      // ℓ = u² + Σ' p_j²;  ∂ℓ/∂z_0 = -2p_0(u² + Σ'),  ∂ℓ/∂z_k = 2p_k(p_k + u·p_0 - Σ')  (Σ' = Σ_{j≥1} p_j²)
      LD others = 0;
      for (std::size_t j = 1; j < z.size(); ++j) others += s.p[j] * s.p[j];
      std::vector<LD> grad{-2 * s.p[0] * (s.u * s.u + others)};
      for (std::size_t j = 1; j < z.size(); ++j) grad.push_back(2 * s.p[j] * (s.p[j] + s.u * s.p[0] - others));
      auto brier = [](const Tensor& x, const Tensor& y) { return brier_score(x, y, {Reduction::Sum}); };
      expect_close(run(brier, z, DType::Float64), s.u * s.u + others, margin >= 0 ? grad : std::vector<LD>{},
                   kExactTail, "brier_score " + where(margin, z.size(), -2.0));
    }
}

TEST(LossTails, BinaryLossesAreExactUpToMargin700) {
  // Margin m = (2y - 1)·x, u = σ(-m) = 1 - p_t, L = softplus(-m) = -log p_t.
  for (double margin : kMargins)
    for (double label : {0.0, 1.0}) {
      const double x = label == 1 ? margin : -margin, sign = label == 1 ? 1.0 : -1.0;
      const LD m = static_cast<LD>(margin), u = 1 / (1 + std::exp(m)), L = std::log1p(std::exp(-m));
      Tensor input = tensor(V{x}, {1}, DType::Float64).requires_grad_(), target = tensor(V{label}, {1}, DType::Float64);
      Tensor brier = binary_brier_score(input, target, {Reduction::Sum});
      brier.backward();
      // (σ(x) - y)² = u²;  d/dx = -2u·u(1 - u)·(2y - 1)
      const std::string at = "margin " + std::to_string(margin) + ", y = " + std::to_string(label);
      EXPECT_LE(rel_error(brier.item(), u * u), kExactTail) << "binary_brier_score " << at;
      if (margin >= 0) {
        EXPECT_LE(rel_error(input.grad().item(), -2 * u * u * (1 - u) * sign), kExactTail) << "binary_brier_score " << at;
      }
      Tensor input2 = tensor(V{x}, {1}, DType::Float64).requires_grad_();
      Tensor focal = sigmoid_focal_loss(input2, target, {.reduction = Reduction::Sum, .alpha = -1, .gamma = 2});
      focal.backward();
      // ℓ = u²·L;  dℓ/dm = -u²·(2(1 - u)L + u)
      EXPECT_LE(rel_error(focal.item(), u * u * L), kExactTail) << "sigmoid_focal_loss " << at;
      EXPECT_LE(rel_error(input2.grad().item(), -u * u * (2 * (1 - u) * L + u) * sign), kExactTail)
          << "sigmoid_focal_loss " << at;
    }
}

// float32 keeps the forms training results were measured with, bit for bit: cross-entropy as
// -log_softmax(x)_y, ArcFace's sin θ as √(1 - cos²θ).
TEST(LossTails, Float32KeepsItsRoundingBitForBit) {
  Generator gen(12);
  Tensor x = (randn({64, 10}, DType::Float64, gen) * 4.0).to(DType::Float32).requires_grad_();
  Tensor y = randint(0, 10, {64}, gen);
  Tensor ce = cross_entropy(x, y);
  Tensor g = grad({ce}, {x})[0];
  Tensor x2 = x.detach().clone().requires_grad_();
  Tensor old = mean(-reshape(gather(log_softmax(x2, 1), 1, unsqueeze(y, 1)), {64}));
  Tensor g_old = grad({old}, {x2})[0];
  EXPECT_EQ(ce.item(), old.item());
  EXPECT_EQ(g.to_vector(), g_old.to_vector());

  Tensor e = randn({8, 3}, DType::Float32, gen), w = randn({5, 3}, DType::Float32, gen);
  Tensor t = randint(0, 5, {8}, gen);
  Tensor cos = mm(normalize(e, 2.0, 1), normalize(w, 2.0, 1), {.transpose_b = true});
  Tensor target = gather(cos, 1, unsqueeze(t, 1));
  Tensor logits = where(one_hot(t, 5, DType::Float32), arcface_target_logit(target, 64, 0.5), 64.0 * cos);
  EXPECT_EQ(arcface_loss(e, w, t).item(), cross_entropy(logits, t).item());
}

TEST(LossTails, Float32StaysFiniteAtEveryMargin) {
  for (double margin : kMargins) {
    const V z = logits_row(margin, 3, 0);
    for (const auto& loss : std::vector<std::function<Tensor(const Tensor&, const Tensor&)>>{
             [](const Tensor& x, const Tensor& y) { return cross_entropy(x, y); },
             [](const Tensor& x, const Tensor& y) { return focal_loss(x, y, {.gamma = 0.5}); },
             [](const Tensor& x, const Tensor& y) { return brier_score(x, y); }}) {
      Checked c = run(loss, z, DType::Float32);
      EXPECT_TRUE(std::isfinite(c.value)) << margin;
      for (double g : c.grad) EXPECT_TRUE(std::isfinite(g)) << margin;
    }
  }
}

}  // namespace
