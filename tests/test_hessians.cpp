// The closed-form gradients and Hessian diagonals of losses/hessians.h against autograd, in
// float64: the gradient against the first derivative of the summed loss (written here directly
// with core ops), the Hessian diagonal against double backward (for each logit element k,
// d/dz_k of (dL/dz)_k through zg::grad with create_graph=true), to 1e-10. Also: the seed's Brier
// Hessian (corrected vs literal), negative Hessians next to their positive Gauss–Newton
// diagonals, finite values at ±1e4 logits, and argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "losses/hessians.h"
#include "tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;

constexpr double kTol = 1e-10;
constexpr DType F64 = DType::Float64;

Tensor f64(const std::vector<double>& v, const Shape& shape) { return tensor(v, shape, F64); }

using LossFn = std::function<Tensor(const Tensor& z)>;

struct Reference {
  std::vector<double> grad, hess;
};

// dL/dz of the summed loss, and the Hessian diagonal d/dz_k (dL/dz)_k by double backward.
Reference autograd_grad_hess(const LossFn& loss, const Tensor& logits) {
  Tensor z = logits.detach().clone();
  z.requires_grad_();
  Tensor total = loss(z);
  EXPECT_EQ(total.numel(), 1);
  Tensor g = grad({total}, {z}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  Tensor g_flat = reshape(g, {-1});
  Reference ref{g.detach().to_vector(), std::vector<double>(static_cast<std::size_t>(z.numel()))};
  for (std::int64_t k = 0; k < z.numel(); ++k) {
    Tensor gk = sum(slice(g_flat, 0, k, k + 1));
    Tensor row = grad({gk}, {z}, {}, /*retain_graph=*/true)[0];
    ref.hess[static_cast<std::size_t>(k)] = row.to_vector()[static_cast<std::size_t>(k)];
  }
  return ref;
}

// d(x)/dz elementwise for an elementwise map x(z): the diagonal of its Jacobian.
std::vector<double> elementwise_derivative(const std::function<Tensor(const Tensor&)>& f, const Tensor& at) {
  Tensor z = at.detach().clone();
  z.requires_grad_();
  return grad({sum(f(z))}, {z})[0].to_vector();
}

// Per-element second derivative of an elementwise map f at x (double backward).
std::vector<double> elementwise_second_derivative(const std::function<Tensor(const Tensor&)>& f, const Tensor& at) {
  Tensor x = at.detach().clone();
  x.requires_grad_();
  Tensor g = grad({sum(f(x))}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  return grad({sum(g)}, {x})[0].to_vector();  // elementwise: d/dx_k Σ_i f'(x_i) = f''(x_k)
}

void expect_near_all(const Tensor& actual, const std::vector<double>& expected, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.numel(), static_cast<std::int64_t>(expected.size())) << what;
  EXPECT_EQ(actual.dtype(), F64) << what;
  std::vector<double> a = actual.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], expected[i], kTol * std::max(1.0, std::abs(expected[i]))) << what << ", element " << i;
}

void expect_all_nonnegative(const Tensor& t, const std::string& what) {
  std::vector<double> v = t.to_vector();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_GE(v[i], 0.0) << what << ", element " << i;
}

void expect_all_finite(const Tensor& t, const std::string& what) {
  std::vector<double> v = t.to_vector();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_TRUE(std::isfinite(v[i])) << what << ", element " << i << " = " << v[i];
}

// Weight variants: none, one per sample (N), one per element (logits' shape).
enum class WeightKind { None, Sample, Element };
const char* weight_name(WeightKind k) { return k == WeightKind::None ? "none" : k == WeightKind::Sample ? "sample" : "element"; }
constexpr WeightKind kWeightKinds[] = {WeightKind::None, WeightKind::Sample, WeightKind::Element};

Tensor make_weight(WeightKind kind, const Shape& shape, Generator& gen) {
  switch (kind) {
    case WeightKind::None: return Tensor();
    case WeightKind::Sample: return rand({shape[0]}, F64, gen) * 1.5 + 0.25;
    case WeightKind::Element: return rand(shape, F64, gen) * 1.5 + 0.25;
  }
  return Tensor();
}

// The weight as the reference loss multiplies by it: 1, (N, 1, ..., 1) or elementwise.
Tensor broadcastable_weight(const Tensor& w, const Shape& shape) {
  if (!w.defined()) return scalar(1.0, F64);
  if (w.shape() == shape) return w;
  Shape s(shape.size(), 1);
  s[0] = shape[0];
  return reshape(w, s);
}

// Multi-class target variants: probability rows, one-hot rows, arbitrary non-negative rows (Σ ≠ 1).
enum class TargetKind { Probability, OneHot, Unnormalized };
const char* target_name(TargetKind k) {
  return k == TargetKind::Probability ? "probability" : k == TargetKind::OneHot ? "one-hot" : "unnormalized";
}
constexpr TargetKind kTargetKinds[] = {TargetKind::Probability, TargetKind::OneHot, TargetKind::Unnormalized};

Tensor make_multiclass_target(TargetKind kind, std::int64_t n, std::int64_t c, Generator& gen) {
  switch (kind) {
    case TargetKind::Probability: return softmax(randn({n, c}, F64, gen) * 1.5, 1);
    case TargetKind::OneHot: return one_hot(randint(0, c, {n}, gen), c, F64);
    case TargetKind::Unnormalized: return rand({n, c}, F64, gen) * 2.0;
  }
  return Tensor();
}

const std::vector<Shape> kMulticlassShapes = {{1, 3}, {4, 5}, {6, 2}, {3, 1}};
const std::vector<Shape> kBinaryShapes = {{1}, {7}, {3, 4}, {2, 3, 2}};

// Binary targets: hard 0/1 labels or soft values in (0, 1).
Tensor make_binary_target(bool hard, const Shape& shape, Generator& gen) {
  if (hard) return randint(0, 2, shape, gen).to(F64);
  return rand(shape, F64, gen) * 0.96 + 0.02;
}

std::string label(const Shape& shape, const std::string& rest) { return to_string(shape) + " " + rest; }

// log σ(z) without overflow.
Tensor log_sigmoid(const Tensor& z) { return -softplus(-z); }

}  // namespace

// ---- softmax cross-entropy ----

TEST(Hessians, SoftmaxCrossEntropyMatchesAutograd) {
  Generator gen(11);
  int cases = 0;
  for (const Shape& shape : kMulticlassShapes)
    for (TargetKind tk : kTargetKinds)
      for (WeightKind wk : kWeightKinds) {
        Tensor z = randn(shape, F64, gen) * 2.0;
        Tensor y = make_multiclass_target(tk, shape[0], shape[1], gen);
        Tensor w = make_weight(wk, shape, gen);
        Tensor wb = broadcastable_weight(w, shape);
        std::string what = label(shape, std::string(target_name(tk)) + " target, weight " + weight_name(wk));
        Reference ref = autograd_grad_hess([&](const Tensor& v) { return -sum(wb * y * log_softmax(v, 1)); }, z);
        GradHess gh = softmax_cross_entropy_grad_hess(z, y, w);
        ASSERT_EQ(gh.grad.shape(), shape);
        ASSERT_EQ(gh.hess.shape(), shape);
        expect_near_all(gh.grad, ref.grad, what + ": grad");
        expect_near_all(gh.hess, ref.hess, what + ": hess");
        expect_all_nonnegative(gh.hess, what + ": hess");
        ++cases;
      }
  EXPECT_EQ(cases, 36);
}

TEST(Hessians, SoftmaxCrossEntropyWithProbabilityTargetsIsSigmaMinusY) {
  // Σ_j y_j = 1 and no weight: grad = σ - y, hess = σ(1 - σ), by hand for one row.
  Tensor z = f64({0.3, -1.2, 2.0}, {1, 3});
  Tensor y = f64({0.2, 0.5, 0.3}, {1, 3});
  double e0 = std::exp(0.3), e1 = std::exp(-1.2), e2 = std::exp(2.0), t = e0 + e1 + e2;
  std::vector<double> sig{e0 / t, e1 / t, e2 / t}, yv{0.2, 0.5, 0.3};
  GradHess gh = softmax_cross_entropy_grad_hess(z, y);
  std::vector<double> g = gh.grad.to_vector(), h = gh.hess.to_vector();
  for (std::size_t l = 0; l < 3; ++l) {
    EXPECT_NEAR(g[l], sig[l] - yv[l], 1e-15);
    EXPECT_NEAR(h[l], sig[l] * (1 - sig[l]), 1e-15);
  }
  // With Σ_j y_j = 2 both scale: grad = 2σ - y, hess = 2σ(1 - σ).
  GradHess gh2 = softmax_cross_entropy_grad_hess(z, y * 2.0);
  for (std::size_t l = 0; l < 3; ++l) {
    EXPECT_NEAR(gh2.grad.to_vector()[l], 2 * sig[l] - 2 * yv[l], 1e-15);
    EXPECT_NEAR(gh2.hess.to_vector()[l], 2 * sig[l] * (1 - sig[l]), 1e-15);
  }
}

// ---- multi-class Brier score ----

TEST(Hessians, BrierScoreMatchesAutograd) {
  Generator gen(12);
  int cases = 0;
  for (const Shape& shape : kMulticlassShapes)
    for (TargetKind tk : kTargetKinds)
      for (WeightKind wk : kWeightKinds) {
        Tensor z = randn(shape, F64, gen) * 2.0;
        Tensor y = make_multiclass_target(tk, shape[0], shape[1], gen);
        Tensor w = make_weight(wk, shape, gen);
        Tensor wb = broadcastable_weight(w, shape);
        std::string what = label(shape, std::string(target_name(tk)) + " target, weight " + weight_name(wk));
        Reference ref = autograd_grad_hess(
            [&](const Tensor& v) {
              Tensor d = softmax(v, 1) - y;
              return sum(wb * d * d);
            },
            z);
        GradHessGN gh = brier_score_grad_hess(z, y, w);
        expect_near_all(gh.grad, ref.grad, what + ": grad");
        expect_near_all(gh.hess, ref.hess, what + ": hess");

        // Gauss–Newton: 2 Σ_j w_j (∂σ_j/∂z_l)², the softmax Jacobian taken from autograd.
        const std::int64_t n = shape[0], c = shape[1];
        Tensor wfull = broadcast_to(wb, shape);
        std::vector<double> wv = wfull.to_vector(), gn(static_cast<std::size_t>(n * c), 0.0);
        Tensor zl = z.detach().clone();
        zl.requires_grad_();
        Tensor sig = softmax(zl, 1);
        for (std::int64_t j = 0; j < c; ++j) {
          // Row i of this gradient holds ∂σ_ij/∂z_il for every l (rows do not interact).
          std::vector<double> jac = grad({sum(slice(sig, 1, j, j + 1))}, {zl}, {}, /*retain_graph=*/true)[0].to_vector();
          for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t l = 0; l < c; ++l) {
              auto il = static_cast<std::size_t>(i * c + l), ij = static_cast<std::size_t>(i * c + j);
              gn[il] += 2.0 * wv[ij] * jac[il] * jac[il];
            }
        }
        expect_near_all(gh.gauss_newton, gn, what + ": gauss_newton");
        expect_all_nonnegative(gh.gauss_newton, what + ": gauss_newton");
        ++cases;
      }
  EXPECT_EQ(cases, 36);
}

TEST(Hessians, BrierScoreSeedHessianCorrectedNotLiteral) {
  // One row, C = 4, per-element weights. The seed's own long form with slip (d)/(e) corrected,
  //   2σ_l(1-σ_l)(r_l - A) + 2σ_l² w_l(1-σ_l) - 2σ_l²[w_l(2σ_l - y_l) - Σ_j w_j σ_j(2σ_j - y_j)],
  // equals the function's simplified form and autograd; the literal last line,
  //   ... - 2σ_l σ_l[w_l(2σ_l - y_l) - σ_l Σ_j w_j(2σ_j - y_j)],
  // does not.
  std::vector<double> zv{0.4, -1.1, 1.7, 0.2}, yv{0.1, 0.6, 0.2, 0.1}, wv{1.0, 0.5, 2.0, 1.5};
  Tensor z = f64(zv, {1, 4}), y = f64(yv, {1, 4}), w = f64(wv, {1, 4});
  double total = 0;
  for (double v : zv) total += std::exp(v);
  std::vector<double> sig(4);
  for (std::size_t j = 0; j < 4; ++j) sig[j] = std::exp(zv[j]) / total;
  double a = 0, b = 0, b_literal = 0;
  for (std::size_t j = 0; j < 4; ++j) {
    double r = wv[j] * (sig[j] - yv[j]);
    a += sig[j] * r;
    b += wv[j] * sig[j] * (2 * sig[j] - yv[j]);
    b_literal += wv[j] * (2 * sig[j] - yv[j]);
  }
  Reference ref = autograd_grad_hess(
      [&](const Tensor& v) {
        Tensor d = softmax(v, 1) - y;
        return sum(w * d * d);
      },
      z);
  GradHessGN gh = brier_score_grad_hess(z, y, w);
  std::vector<double> corrected(4), literal(4), seed_grad(4);
  double max_literal_error = 0;
  for (std::size_t l = 0; l < 4; ++l) {
    double s = sig[l], r = wv[l] * (s - yv[l]);
    double head = 2 * s * (1 - s) * (r - a) + 2 * s * wv[l] * s * (1 - s);
    corrected[l] = head - 2 * s * s * (wv[l] * (2 * s - yv[l]) - b);
    literal[l] = head - 2 * s * s * (wv[l] * (2 * s - yv[l]) - s * b_literal);
    seed_grad[l] = 2 * s * (r - a);  // the seed's gradient, as written
    max_literal_error = std::max(max_literal_error, std::abs(literal[l] - ref.hess[l]));
  }
  expect_near_all(gh.hess, corrected, "function vs corrected seed Hessian");
  expect_near_all(f64(corrected, {1, 4}), ref.hess, "corrected seed Hessian vs autograd");
  expect_near_all(gh.grad, seed_grad, "function vs seed gradient");
  expect_near_all(f64(seed_grad, {1, 4}), ref.grad, "seed gradient vs autograd");
  EXPECT_GT(max_literal_error, 1e-2) << "the seed's literal last line should disagree with autograd";
}

TEST(Hessians, BrierScoreHessianCanBeNegativeGaussNewtonCannot) {
  // A confidently wrong row: the true class 0 has σ_0 ≈ 0.0025.
  Tensor z = f64({-3.0, 3.0, 0.0}, {1, 3});
  Tensor y = f64({1.0, 0.0, 0.0}, {1, 3});
  GradHessGN gh = brier_score_grad_hess(z, y);
  Reference ref = autograd_grad_hess(
      [&](const Tensor& v) {
        Tensor d = softmax(v, 1) - y;
        return sum(d * d);
      },
      z);
  expect_near_all(gh.hess, ref.hess, "hess");
  std::vector<double> h = gh.hess.to_vector(), gn = gh.gauss_newton.to_vector();
  EXPECT_LT(h[0], -1e-3);
  EXPECT_LT(ref.hess[0], -1e-3);  // autograd agrees that the curvature is negative
  EXPECT_GT(gn[0], 0.0);
  for (double v : gn) EXPECT_GT(v, 0.0);
  // The exact diagonal is the Gauss–Newton one plus 2σ_l(1 - 2σ_l)(r_l - A).
  std::vector<double> g = gh.grad.to_vector(), sig = softmax(z, 1).to_vector();
  for (std::size_t l = 0; l < 3; ++l) {
    double r_minus_a = g[l] / (2 * sig[l]);
    EXPECT_NEAR(h[l], gn[l] + 2 * sig[l] * (1 - 2 * sig[l]) * r_minus_a, 1e-14);
  }
}

// ---- binary Brier score ----

TEST(Hessians, BinaryBrierScoreMatchesAutograd) {
  Generator gen(13);
  int cases = 0;
  for (const Shape& shape : kBinaryShapes)
    for (bool hard : {true, false})
      for (WeightKind wk : kWeightKinds) {
        Tensor z = randn(shape, F64, gen) * 2.0;
        Tensor y = make_binary_target(hard, shape, gen);
        Tensor w = make_weight(wk, shape, gen);
        Tensor wb = broadcastable_weight(w, shape);
        std::string what = label(shape, std::string(hard ? "hard" : "soft") + " target, weight " + weight_name(wk));
        Reference ref = autograd_grad_hess(
            [&](const Tensor& v) {
              Tensor d = sigmoid(v) - y;
              return sum(wb * d * d);
            },
            z);
        GradHessGN gh = binary_brier_score_grad_hess(z, y, w);
        ASSERT_EQ(gh.grad.shape(), shape);
        expect_near_all(gh.grad, ref.grad, what + ": grad");
        expect_near_all(gh.hess, ref.hess, what + ": hess");
        std::vector<double> ds = elementwise_derivative([](const Tensor& v) { return sigmoid(v); }, z);
        std::vector<double> wv = broadcast_to(wb, shape).to_vector(), gn(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) gn[i] = 2 * wv[i] * ds[i] * ds[i];
        expect_near_all(gh.gauss_newton, gn, what + ": gauss_newton");
        expect_all_nonnegative(gh.gauss_newton, what + ": gauss_newton");
        ++cases;
      }
  EXPECT_EQ(cases, 24);
}

TEST(Hessians, BinaryBrierScoreHessianCanBeNegative) {
  // y = 1, z = -3: h = 2σ(1-σ)[σ(1-σ) + (σ-1)(1-2σ)] ≈ -0.0738, Gauss–Newton 2σ²(1-σ)² ≈ 0.0041.
  Tensor z = f64({-3.0, 3.0}, {2});
  Tensor y = f64({1.0, 1.0}, {2});
  GradHessGN gh = binary_brier_score_grad_hess(z, y);
  Reference ref = autograd_grad_hess(
      [&](const Tensor& v) {
        Tensor d = sigmoid(v) - y;
        return sum(d * d);
      },
      z);
  expect_near_all(gh.hess, ref.hess, "hess");
  EXPECT_NEAR(gh.hess.to_vector()[0], -0.0738226508851999, 1e-12);
  EXPECT_NEAR(gh.gauss_newton.to_vector()[0], 0.0040818611688852365, 1e-12);
  EXPECT_GT(gh.hess.to_vector()[1], 0.0);  // the right, confident prediction curves upwards
}

// ---- binary cross-entropy with logits ----

TEST(Hessians, BinaryCrossEntropyWithLogitsMatchesAutograd) {
  Generator gen(14);
  int cases = 0;
  for (const Shape& shape : kBinaryShapes)
    for (bool hard : {true, false})
      for (WeightKind wk : kWeightKinds)
        for (bool with_pos_weight : {false, true}) {
          Tensor z = randn(shape, F64, gen) * 2.0;
          Tensor y = make_binary_target(hard, shape, gen);
          Tensor w = make_weight(wk, shape, gen);
          Tensor wb = broadcastable_weight(w, shape);
          // pos_weight per last-dimension entry, as PyTorch's (C) for (N, C).
          Tensor pw = with_pos_weight ? rand({shape.back()}, F64, gen) * 3.0 + 0.1 : Tensor();
          Tensor pwb = with_pos_weight ? pw : scalar(1.0, F64);
          std::string what = label(shape, std::string(hard ? "hard" : "soft") + " target, weight " + weight_name(wk) +
                                              (with_pos_weight ? ", pos_weight" : ""));
          Reference ref = autograd_grad_hess(
              [&](const Tensor& v) { return -sum(wb * (pwb * y * log_sigmoid(v) + (1.0 - y) * log_sigmoid(-v))); }, z);
          GradHess gh = binary_cross_entropy_with_logits_grad_hess(z, y, w, pw);
          expect_near_all(gh.grad, ref.grad, what + ": grad");
          expect_near_all(gh.hess, ref.hess, what + ": hess");
          expect_all_nonnegative(gh.hess, what + ": hess");
          ++cases;
        }
  EXPECT_EQ(cases, 48);
}

TEST(Hessians, BinaryCrossEntropyIsPMinusY) {
  std::vector<double> zv{-2.0, 0.0, 1.5}, yv{1.0, 0.3, 0.0};
  GradHess gh = binary_cross_entropy_with_logits_grad_hess(f64(zv, {3}), f64(yv, {3}));
  for (std::size_t i = 0; i < 3; ++i) {
    double p = 1 / (1 + std::exp(-zv[i]));
    EXPECT_NEAR(gh.grad.to_vector()[i], p - yv[i], 1e-15);
    EXPECT_NEAR(gh.hess.to_vector()[i], p * (1 - p), 1e-15);
  }
}

// ---- focal loss ----

namespace {

// torchvision.ops.sigmoid_focal_loss, elementwise, times the weight.
Tensor focal_reference(const Tensor& z, const Tensor& y, const Tensor& wb, double alpha, double gamma) {
  Tensor p = sigmoid(z);
  Tensor ce = y * softplus(-z) + (1.0 - y) * softplus(z);  // binary_cross_entropy_with_logits
  Tensor p_t = p * y + (1.0 - p) * (1.0 - y);
  Tensor loss = ce * pow(1.0 - p_t, gamma);
  if (alpha >= 0) loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss;
  return wb * loss;
}

}  // namespace

TEST(Hessians, FocalLossMatchesAutograd) {
  Generator gen(15);
  int cases = 0;
  for (const Shape& shape : kBinaryShapes)
    for (bool hard : {true, false})
      for (double alpha : {0.25, -1.0, 0.8})
        for (double gamma : {0.0, 0.5, 1.0, 2.0, 3.7}) {
          WeightKind wk = kWeightKinds[static_cast<std::size_t>(cases) % 3];
          Tensor z = randn(shape, F64, gen) * 2.0;
          Tensor y = make_binary_target(hard, shape, gen);
          Tensor w = make_weight(wk, shape, gen);
          Tensor wb = broadcastable_weight(w, shape);
          std::string what = label(shape, std::string(hard ? "hard" : "soft") + " target, alpha " + std::to_string(alpha) +
                                              ", gamma " + std::to_string(gamma) + ", weight " + weight_name(wk));
          Reference ref = autograd_grad_hess([&](const Tensor& v) { return sum(focal_reference(v, y, wb, alpha, gamma)); }, z);
          GradHessGN gh = sigmoid_focal_loss_grad_hess(z, y, alpha, gamma, w);
          ASSERT_EQ(gh.hess.shape(), shape);
          expect_near_all(gh.grad, ref.grad, what + ": grad");
          expect_near_all(gh.hess, ref.hess, what + ": hess");

          // Gauss–Newton: w·α_t·max(0, ℓ''(p))·(dp/dz)², ℓ(p) = ce(p)·m(p)^γ as a function of the
          // probability, ℓ'' by double backward and dp/dz by autograd.
          Tensor p = sigmoid(z);
          std::vector<double> l2 = elementwise_second_derivative(
              [&](const Tensor& pv) {
                Tensor ce = -(y * log(pv) + (1.0 - y) * log(1.0 - pv));
                return ce * pow(y * (1.0 - pv) + (1.0 - y) * pv, gamma);
              },
              p);
          std::vector<double> ds = elementwise_derivative([](const Tensor& v) { return sigmoid(v); }, z);
          Tensor at = alpha >= 0 ? alpha * y + (1.0 - alpha) * (1.0 - y) : ones(shape, F64);
          std::vector<double> c = (broadcast_to(wb, shape) * at).to_vector(), gn(ds.size());
          for (std::size_t i = 0; i < ds.size(); ++i) {
            EXPECT_GE(l2[i], 0.0) << what << ": ℓ''(p) at element " << i;  // convex in p here
            gn[i] = c[i] * std::max(0.0, l2[i]) * ds[i] * ds[i];
          }
          // ℓ'' comes from autograd through log(1 - p), so the reference is a little less exact.
          std::vector<double> actual_gn = gh.gauss_newton.to_vector();
          for (std::size_t i = 0; i < gn.size(); ++i)
            EXPECT_NEAR(actual_gn[i], gn[i], 1e-10 * std::max(1.0, std::abs(gn[i]))) << what << ": gauss_newton " << i;
          expect_all_nonnegative(gh.gauss_newton, what + ": gauss_newton");
          ++cases;
        }
  EXPECT_EQ(cases, 120);
}

TEST(Hessians, FocalLossHardLabelClosedFormInPt) {
  // The header's p_t form for hard labels, evaluated with scalars.
  const double alpha = 0.25, gamma = 2.0;
  std::vector<double> zv{-2.5, -0.3, 0.0, 1.2, 3.1}, yv{1.0, 0.0, 1.0, 0.0, 1.0};
  GradHessGN gh = sigmoid_focal_loss_grad_hess(f64(zv, {5}), f64(yv, {5}), alpha, gamma);
  for (std::size_t i = 0; i < zv.size(); ++i) {
    double p = 1 / (1 + std::exp(-zv[i]));
    double pt = yv[i] == 1.0 ? p : 1 - p, at = yv[i] == 1.0 ? alpha : 1 - alpha;
    double sign = yv[i] == 1.0 ? -1.0 : 1.0;
    double g = sign * at * std::pow(1 - pt, gamma) * ((1 - pt) - gamma * pt * std::log(pt));
    double h = at * pt * std::pow(1 - pt, gamma) *
               ((1 + 2 * gamma) * (1 - pt) + gamma * (1 - (gamma + 1) * pt) * std::log(pt));
    EXPECT_NEAR(gh.grad.to_vector()[i], g, 1e-14) << i;
    EXPECT_NEAR(gh.hess.to_vector()[i], h, 1e-14) << i;
  }
}

TEST(Hessians, FocalLossHessianCanBeNegativeGaussNewtonCannot) {
  // y = 1, γ = 2, p = 0.02 (confidently wrong): h = α·(-0.04714801922993597).
  const double alpha = 0.25, gamma = 2.0;
  Tensor z = f64({std::log(0.02 / 0.98)}, {1});
  Tensor y = f64({1.0}, {1});
  GradHessGN gh = sigmoid_focal_loss_grad_hess(z, y, alpha, gamma);
  Reference ref = autograd_grad_hess([&](const Tensor& v) { return sum(focal_reference(v, y, scalar(1.0, F64), alpha, gamma)); }, z);
  expect_near_all(gh.hess, ref.hess, "hess");
  EXPECT_NEAR(gh.hess.item(), alpha * -0.04714801922993597, 1e-12);
  EXPECT_LT(ref.hess[0], 0.0);
  EXPECT_GT(gh.gauss_newton.item(), 0.0);
}

TEST(Hessians, FocalLossWithGammaZeroAndNoAlphaIsBce) {
  Generator gen(16);
  Tensor z = randn({4, 3}, F64, gen) * 3.0;
  Tensor y = rand({4, 3}, F64, gen);
  Tensor w = rand({4}, F64, gen) + 0.5;
  GradHessGN focal = sigmoid_focal_loss_grad_hess(z, y, -1.0, 0.0, w);
  GradHess bce = binary_cross_entropy_with_logits_grad_hess(z, y, w);
  expect_near_all(focal.grad, bce.grad.to_vector(), "grad");
  expect_near_all(focal.hess, bce.hess.to_vector(), "hess");
}

// ---- extreme logits ----

TEST(Hessians, FiniteAtExtremeLogits) {
  // Under anomaly mode every op inside the functions is checked for NaN/Inf as well.
  DetectAnomalyGuard anomaly;
  for (DType dt : {DType::Float64, DType::Float32}) {
    std::string what = dtype_name(dt);
    Tensor z = tensor({1e4, -1e4, -1e4, 1e4, 40.0, -40.0, 0.0, 1e3}, {4, 2}, dt);
    Tensor y_hard = tensor({1, 0, 1, 0, 0, 1, 1, 0}, {4, 2}, dt);
    Tensor y_soft = tensor({0.7, 0.3, 0.5, 0.5, 0.1, 0.9, 0.4, 0.6}, {4, 2}, dt);
    for (const Tensor& y : {y_hard, y_soft}) {
      GradHess ce = softmax_cross_entropy_grad_hess(z, y);
      GradHessGN brier = brier_score_grad_hess(z, y);
      GradHessGN bbrier = binary_brier_score_grad_hess(z, y);
      GradHess bce = binary_cross_entropy_with_logits_grad_hess(z, y, Tensor(), tensor({2.0, 0.5}, dt));
      for (const Tensor& t : {ce.grad, ce.hess, brier.grad, brier.hess, brier.gauss_newton, bbrier.grad, bbrier.hess,
                              bbrier.gauss_newton, bce.grad, bce.hess})
        expect_all_finite(t, what);
      for (double gamma : {0.0, 0.5, 2.0}) {
        GradHessGN focal = sigmoid_focal_loss_grad_hess(z, y, 0.25, gamma);
        for (const Tensor& t : {focal.grad, focal.hess, focal.gauss_newton}) expect_all_finite(t, what);
        EXPECT_EQ(focal.grad.dtype(), dt);
      }
    }
  }
}

TEST(Hessians, LimitsAtExtremeLogits) {
  Tensor z = f64({1e4, -1e4}, {1, 2});
  // Softmax CE: right and saturated -> 0; wrong and saturated -> grad σ - y = (1, -1), hess 0.
  GradHess right = softmax_cross_entropy_grad_hess(z, f64({1, 0}, {1, 2}));
  GradHess wrong = softmax_cross_entropy_grad_hess(z, f64({0, 1}, {1, 2}));
  EXPECT_EQ(right.grad.to_vector(), (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(right.hess.to_vector(), (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(wrong.grad.to_vector(), (std::vector<double>{1.0, -1.0}));
  EXPECT_EQ(wrong.hess.to_vector(), (std::vector<double>{0.0, 0.0}));
  // Binary, per element: z = 1e4, -1e4 with y = 0 and 1.
  Tensor zb = f64({1e4, -1e4, 1e4, -1e4}, {4});
  Tensor yb = f64({0, 1, 1, 0}, {4});
  GradHess bce = binary_cross_entropy_with_logits_grad_hess(zb, yb);
  EXPECT_EQ(bce.grad.to_vector(), (std::vector<double>{1.0, -1.0, 0.0, 0.0}));
  EXPECT_EQ(bce.hess.to_vector(), (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
  // Focal (α = 0.25, γ = 2): a saturated wrong prediction has gradient ±α_t (like BCE's ±1 times
  // α_t, as (1 - p_t)^γ = 1), a saturated right one 0; the exact curvature vanishes. The
  // Gauss–Newton diagonal of a saturated wrong prediction tends to α_t, not 0: through σ,
  // ℓ''(p)·s² → (1-y)p²/q²·q² = 1 (for y = 0) while s → 0.
  GradHessGN focal = sigmoid_focal_loss_grad_hess(zb, yb, 0.25, 2.0);
  EXPECT_EQ(focal.grad.to_vector(), (std::vector<double>{0.75, -0.25, 0.0, 0.0}));
  EXPECT_EQ(focal.hess.to_vector(), (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
  EXPECT_EQ(focal.gauss_newton.to_vector(), (std::vector<double>{0.75, 0.25, 0.0, 0.0}));
  // γ < 1 at a perfect prediction: m = 0, r takes its limit p_t instead of 0/0.
  GradHessGN focal_half = sigmoid_focal_loss_grad_hess(zb, yb, 0.25, 0.5);
  EXPECT_EQ(focal_half.grad.to_vector(), (std::vector<double>{0.75, -0.25, 0.0, 0.0}));
  EXPECT_EQ(focal_half.hess.to_vector(), (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
}

// ---- dtypes, shapes, history and argument checks ----

TEST(Hessians, Float32InFloat32OutAndNoHistory) {
  Tensor z = tensor({0.5, -1.0, 2.0, 0.1, 0.2, -0.3}, {2, 3});
  z.requires_grad_();
  Tensor y = tensor({0, 1, 0, 0, 0, 1}, {2, 3}, F64);  // converted to the logits' dtype
  GradHessGN gh = brier_score_grad_hess(z, y);
  EXPECT_EQ(gh.grad.dtype(), DType::Float32);
  EXPECT_EQ(gh.hess.dtype(), DType::Float32);
  EXPECT_EQ(gh.gauss_newton.dtype(), DType::Float32);
  EXPECT_FALSE(gh.grad.requires_grad());
  EXPECT_FALSE(gh.hess.requires_grad());
  // Same numbers as in float64, to float32 precision.
  GradHessGN gh64 = brier_score_grad_hess(z.detach().to(F64), y);
  std::vector<double> a = gh.hess.to_vector(), b = gh64.hess.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(Hessians, ArgumentChecks) {
  Tensor z = f64({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {2, 3});
  Tensor y = f64({0, 1, 0, 1, 0, 0}, {2, 3});
  EXPECT_CONTAINS(error_of([&] { softmax_cross_entropy_grad_hess(reshape(z, {6}), reshape(y, {6})); }), "(N, C)");
  EXPECT_CONTAINS(error_of([&] { brier_score_grad_hess(z, reshape(y, {3, 2})); }), "target must have the logits' shape");
  EXPECT_CONTAINS(error_of([&] { softmax_cross_entropy_grad_hess(z, y, f64({1, 2, 3}, {3})); }), "weight must have shape");
  EXPECT_CONTAINS(error_of([&] { binary_brier_score_grad_hess(z, y, f64({1, 2}, {1, 2})); }), "[1, 2]");
  EXPECT_CONTAINS(error_of([&] { binary_cross_entropy_with_logits_grad_hess(z, y, Tensor(), f64({1, 2}, {2})); }),
                  "pos_weight");
  EXPECT_CONTAINS(error_of([&] { sigmoid_focal_loss_grad_hess(z, y, 0.25, -1.0); }), "gamma");
  EXPECT_CONTAINS(error_of([&] { sigmoid_focal_loss_grad_hess(z, y, 1.5, 2.0); }), "alpha");
  EXPECT_CONTAINS(error_of([&] { sigmoid_focal_loss_grad_hess(z, y * 2.0, 0.25, 2.0); }), "[0, 1]");
  EXPECT_CONTAINS(error_of([&] { binary_brier_score_grad_hess(tensor({1, 2}, DType::Int64), y); }), "float32 or float64");
  // (N) weights are accepted by every function and act per sample.
  Tensor w = f64({2.0, 0.5}, {2});
  GradHess weighted = softmax_cross_entropy_grad_hess(z, y, w), plain = softmax_cross_entropy_grad_hess(z, y);
  std::vector<double> gw = weighted.grad.to_vector(), gp = plain.grad.to_vector();
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(gw[i], (i < 3 ? 2.0 : 0.5) * gp[i], 1e-15);
}
