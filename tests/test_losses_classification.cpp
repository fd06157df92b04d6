// The classification losses (losses/classification.h), three ways: gradcheck of every catalog row
// under every reduction (and of the options the rows leave at their defaults), reference values and
// gradients computed from each loss's formula, and properties and edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/generator.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "losses/catalog.h"
#include "losses/classification.h"
#include "tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using V = std::vector<double>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<Reduction> kAll{Reduction::None, Reduction::Mean, Reduction::Sum};

Tensor f64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
Tensor i64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Int64); }
Tensor leaf(const V& v, const Shape& shape) { return f64(v, shape).requires_grad_(); }

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

void expect_values(const Tensor& t, const V& expected, double tol, const std::string& what) {
  V got = t.to_vector();
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << what << " [" << i << "]";
}

// Backpropagates the scalar `loss` and checks it and each leaf's gradient to 1e-10.
void expect_value_and_grads(const Tensor& loss, double value, const std::vector<std::pair<Tensor, V>>& grads) {
  ASSERT_EQ(loss.numel(), 1);
  EXPECT_NEAR(loss.item(), value, 1e-10);
  loss.backward();
  for (const auto& [x, g] : grads) expect_values(x.grad(), g, 1e-10, "gradient");
}

// The row's sample inputs in dtype; the differentiable ones require grad when `grad` is set.
std::vector<Tensor> sample(const LossSpec& s, DType dtype, bool grad, std::uint64_t seed = 11) {
  Generator gen(seed);
  std::vector<Tensor> in = s.sample(dtype, gen);
  for (std::size_t i = 0; i < in.size(); ++i)
    if (grad && s.inputs[i].differentiable) in[i].requires_grad_();
  return in;
}

void expect_gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const std::string& what) {
  GradcheckResult g = gradcheck(f, inputs);
  EXPECT_TRUE(g.ok) << what << ": " << g.message;
}

// ---- the formulas, in plain doubles ----

double sigmoid_of(double x) { return 1 / (1 + std::exp(-x)); }
double softplus_of(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

V softmax_of(const V& x) {
  double m = x[0], total = 0;
  for (double v : x) m = std::max(m, v);
  V p;
  for (double v : x) p.push_back(std::exp(v - m));
  for (double v : p) total += v;
  for (double& v : p) v /= total;
  return p;
}

V row_of(const V& m, std::size_t n, std::size_t c) {
  return V(m.begin() + static_cast<std::ptrdiff_t>(n * c), m.begin() + static_cast<std::ptrdiff_t>((n + 1) * c));
}

}  // namespace

// ---- 1. gradcheck ----

TEST(ClassificationLosses, CatalogHasTheFamilysRows) {
  std::vector<std::string> names;
  for (const LossSpec& s : losses_of_family("classification")) {
    names.push_back(s.name);
    EXPECT_EQ(s.family, "classification");
    EXPECT_FALSE(s.formula.empty()) << s.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"cross_entropy", "nll_loss", "binary_cross_entropy",
                                             "binary_cross_entropy_with_logits", "sigmoid_focal_loss", "focal_loss",
                                             "kl_div", "brier_score", "binary_brier_score"}));
}

TEST(ClassificationLosses, EveryRowPassesGradcheckUnderEveryReduction) {
  for (const LossSpec& s : losses_of_family("classification"))
    for (Reduction r : s.reductions)
      expect_gradcheck([&](const std::vector<Tensor>& in) { return s.call(in, {}, r); },
                       sample(s, DType::Float64, true), s.name + " " + reduction_name(r));
}

TEST(ClassificationLosses, RowsPassGradcheckWithNonDefaultParameters) {
  const std::vector<std::pair<std::string, LossParams>> cases{
      {"cross_entropy", {{"label_smoothing", 0.3}}},
      {"binary_cross_entropy_with_logits", {{"pos_weight", 2.5}}},
      {"sigmoid_focal_loss", {{"gamma", 0.5}, {"alpha", 0.7}}},
      {"sigmoid_focal_loss", {{"gamma", 0}, {"alpha", -1}}},
      {"focal_loss", {{"gamma", 0.5}}},
      {"focal_loss", {{"gamma", 5}}},
      {"kl_div", {{"log_target", 1}}}};
  for (const auto& [name, params] : cases) {
    const LossSpec& s = find_loss(name);
    for (Reduction r : s.reductions)
      expect_gradcheck([&](const std::vector<Tensor>& in) { return s.call(in, params, r); },
                       sample(s, DType::Float64, true), name + " " + reduction_name(r));
  }
}

TEST(ClassificationLosses, GradcheckWithWeightsIgnoredTargetsAndExtraDims) {
  Generator gen(3);
  Tensor w = f64({0.5, 2.0, 1.5}, {3});
  Tensor x = randn({5, 3}, DType::Float64, gen).requires_grad_();
  Tensor y = i64({2, -100, 0, 1, 0}, {5});
  Tensor q = softmax(randn({5, 3}, DType::Float64, gen), 1).detach().requires_grad_();
  Tensor x4 = randn({2, 3, 2, 2}, DType::Float64, gen).requires_grad_();
  Tensor y4 = randint(0, 3, {2, 2, 2}, gen);
  Tensor p = sigmoid(randn({4, 3}, DType::Float64, gen)).detach().requires_grad_();
  Tensor t = rand({4, 3}, DType::Float64, gen).requires_grad_();
  Tensor logits = randn({4, 3}, DType::Float64, gen).requires_grad_();
  Tensor row_weight = f64({1.0, 0.5, 2.0, 0.25}, {4, 1});
  for (Reduction r : kAll) {
    std::string red = reduction_name(r);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], y, {.reduction = r, .weight = w, .label_smoothing = 0.2});
        },
        {x}, "cross_entropy weight+ignore+smoothing " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], in[1], {.reduction = r, .weight = w, .label_smoothing = 0.1});
        },
        {x, q}, "cross_entropy probabilities " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], y4, {.reduction = r, .weight = w}); }, {x4},
        "cross_entropy (N, C, d1, d2) " + red);
    expect_gradcheck([&](const std::vector<Tensor>& in) { return nll_loss(in[0], y, {.reduction = r, .weight = w}); },
                     {x}, "nll_loss weight+ignore " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return focal_loss(in[0], y4, {.reduction = r, .gamma = 1, .alpha = w}); },
        {x4}, "focal_loss alpha (N, C, d1, d2) " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy(in[0], in[1], {.reduction = r, .weight = w});
        },
        {p, t}, "binary_cross_entropy weight " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy_with_logits(in[0], in[1],
                                                  {.reduction = r, .weight = row_weight, .pos_weight = w});
        },
        {logits, t}, "binary_cross_entropy_with_logits weight+pos_weight " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return brier_score(in[0], in[1], {.reduction = r, .weight = row_weight * w});
        },
        {logits, slice(q.detach(), 0, 0, 4)}, "brier_score probabilities+weight " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return binary_brier_score(in[0], in[1], {.reduction = r, .weight = w}); },
        {logits, t}, "binary_brier_score weight " + red);
  }
}

// ---- 2. reference values and gradients from the formulas ----

// F.cross_entropy(x, y): mean of logsumexp(x_n) - x_{n,y_n}; d/dx_n = (softmax(x_n) - onehot(y_n)) / N.
TEST(ClassificationLosses, CrossEntropyReferenceClassIndices) {
  const V xs{1, 2, 0.5, 0.1, -1, 3};
  const std::vector<std::size_t> ys{1, 2};
  Tensor x = leaf(xs, {2, 3});
  double value = 0;
  V grad;
  for (std::size_t n = 0; n < 2; ++n) {
    V p = softmax_of(row_of(xs, n, 3));
    value += -std::log(p[ys[n]]) / 2;
    for (std::size_t c = 0; c < 3; ++c) grad.push_back((p[c] - (c == ys[n])) / 2);
  }
  expect_value_and_grads(cross_entropy(x, i64({1, 2}, {2})), value, {{x, grad}});
}

// F.cross_entropy(x, y, weight=w, ignore_index=-100, label_smoothing=0.1): for kept rows
// ℓ_n = (1-ε)·w_y·(-log p_y) + (ε/C)·Σ_c w_c·(-log p_c), mean = Σ ℓ_n / Σ_kept w_y;
// dℓ_n/dx_c = (1-ε)·w_y·(p_c - δ_cy) + (ε/C)·(W·p_c - w_c), W = Σ_c w_c.
TEST(ClassificationLosses, CrossEntropyReferenceWeightsSmoothingAndIgnoredRow) {
  const V xs{0.3, -1.2, 2.0, 1.0, 0.0, -1.0, -0.5, 0.7, 0.1}, w{0.2, 1.0, 3.0};
  const std::vector<int> ys{2, -100, 0};
  const double eps = 0.1, C = 3, W = 4.2;
  double total = 0, den = 0;
  V grad(9, 0.0);
  for (std::size_t n = 0; n < 3; ++n) {
    if (ys[n] < 0) continue;
    auto y = static_cast<std::size_t>(ys[n]);
    V p = softmax_of(row_of(xs, n, 3));
    total += (1 - eps) * w[y] * -std::log(p[y]);
    for (std::size_t c = 0; c < 3; ++c) {
      total += eps / C * w[c] * -std::log(p[c]);
      grad[n * 3 + c] = (1 - eps) * w[y] * (p[c] - (c == y)) + eps / C * (W * p[c] - w[c]);
    }
    den += w[y];
  }
  for (double& g : grad) g /= den;
  Tensor x = leaf(xs, {3, 3});
  expect_value_and_grads(cross_entropy(x, i64({2, -100, 0}, {3}), {.weight = f64(w, {3}), .label_smoothing = eps}),
                         total / den, {{x, grad}});
}

// F.cross_entropy(x, q, weight=w, label_smoothing=0.2, reduction='sum') with probabilities q:
// ℓ_n = -Σ_c w_c·q'_c·log p_c, q' = 0.8·q + 0.2/3;  dℓ/dx_c = p_c·Σ_j w_j q'_j - w_c q'_c;  dℓ/dq_c = -0.8·w_c·log p_c.
TEST(ClassificationLosses, CrossEntropyReferenceProbabilityTargets) {
  const V xs{0.5, -0.25, 1.5, 2.0, 0.0, -2.0}, qs{0.1, 0.6, 0.3, 1.0, 0.0, 0.0}, w{1.0, 0.5, 2.0};
  double value = 0;
  V gx, gq;
  for (std::size_t n = 0; n < 2; ++n) {
    V p = softmax_of(row_of(xs, n, 3));
    double wq = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      double q = 0.8 * qs[n * 3 + c] + 0.2 / 3;
      value += -w[c] * q * std::log(p[c]);
      wq += w[c] * q;
    }
    for (std::size_t c = 0; c < 3; ++c) {
      gx.push_back(p[c] * wq - w[c] * (0.8 * qs[n * 3 + c] + 0.2 / 3));
      gq.push_back(-0.8 * w[c] * std::log(p[c]));
    }
  }
  Tensor x = leaf(xs, {2, 3}), q = leaf(qs, {2, 3});
  expect_value_and_grads(
      cross_entropy(x, q, {.reduction = Reduction::Sum, .weight = f64(w, {3}), .label_smoothing = 0.2}), value,
      {{x, gx}, {q, gq}});
}

// F.nll_loss(x, y): mean of -x_{n,y_n}; then with weight=w, ignore_index=1: Σ -w_y x_y / Σ_kept w_y.
TEST(ClassificationLosses, NllLossReference) {
  Tensor x = leaf({-0.5, -1.2, -2.0, -0.1, -3.0, -2.5}, {2, 3});
  expect_value_and_grads(nll_loss(x, i64({2, 0}, {2})), (2.0 + 0.1) / 2, {{x, {0, 0, -0.5, -0.5, 0, 0}}});

  Tensor z = leaf({-0.5, -1.2, -2.0, -0.1, -3.0, -2.5, -1.0, -0.7, -0.9}, {3, 3});
  // rows: y = 1 (ignored), y = 0 (w 2), y = 2 (w 0.5): (2·0.1 + 0.5·0.9) / 2.5
  expect_value_and_grads(nll_loss(z, i64({1, 0, 2}, {3}), {.weight = f64({2, 1, 0.5}, {3}), .ignore_index = 1}),
                         (2 * 0.1 + 0.5 * 0.9) / 2.5, {{z, {0, 0, 0, -2 / 2.5, 0, 0, 0, 0, -0.5 / 2.5}}});
}

// F.binary_cross_entropy(p, y): ℓ = -[y log p + (1-y) log(1-p)]; dℓ/dp = -(y/p - (1-y)/(1-p)); dℓ/dy = -(log p -
// log(1-p)).
TEST(ClassificationLosses, BinaryCrossEntropyReference) {
  const V ps{0.2, 0.9, 0.5}, ys{0.0, 1.0, 0.3};
  double value = 0;
  V gp, gy;
  for (std::size_t i = 0; i < 3; ++i) {
    double p = ps[i], y = ys[i];
    value += -(y * std::log(p) + (1 - y) * std::log(1 - p)) / 3;
    gp.push_back(-(y / p - (1 - y) / (1 - p)) / 3);
    gy.push_back(-(std::log(p) - std::log(1 - p)) / 3);
  }
  Tensor p = leaf(ps, {3}), y = leaf(ys, {3});
  expect_value_and_grads(binary_cross_entropy(p, y), value, {{p, gp}, {y, gy}});
}

// F.binary_cross_entropy(p, y, weight=w, reduction='sum') at p = 0 and p = 1, where PyTorch clamps
// each log at -100: p = 1, y = 0 costs w·100; p = 0, y = 0 costs nothing. A clamped log passes no gradient.
TEST(ClassificationLosses, BinaryCrossEntropyReferenceAtTheClamp) {
  Tensor p = leaf({0.0, 1.0, 0.25, 1.0}, {2, 2}), y = leaf({0.0, 0.0, 1.0, 1.0}, {2, 2});
  Tensor w = f64({2.0, 0.5}, {2});
  double value = 0 + 0.5 * 100 + 2 * -std::log(0.25) + 0;
  V gp{2 * 1.0, 0.0, 2 * -1 / 0.25, 0.5 * -1.0};  // w·(1-y)/(1-p) at p = 0; -w·y/p elsewhere
  V gy{2 * -(-100 - 0.0), 0.5 * -(0.0 - -100), 2 * -(std::log(0.25) - std::log(0.75)), 0.5 * -(0.0 - -100)};
  expect_value_and_grads(binary_cross_entropy(p, y, {.reduction = Reduction::Sum, .weight = w}), value,
                         {{p, gp}, {y, gy}});
}

// F.binary_cross_entropy_with_logits(x, y): ℓ = (1-y)x + softplus(-x), dℓ/dx = σ(x) - y; then with
// pos_weight pw and weight w (reduction='sum'): ℓ = w[(1-y)x + (1+(pw-1)y)·softplus(-x)],
// dℓ/dx = w[(1-y) - (1+(pw-1)y)σ(-x)], dℓ/dy = w[-x + (pw-1)·softplus(-x)].
TEST(ClassificationLosses, BinaryCrossEntropyWithLogitsReference) {
  const V xs{-1.5, 0.3, 2.0}, ys{0.0, 1.0, 0.25};
  double value = 0;
  V gx;
  for (std::size_t i = 0; i < 3; ++i) {
    value += ((1 - ys[i]) * xs[i] + softplus_of(-xs[i])) / 3;
    gx.push_back((sigmoid_of(xs[i]) - ys[i]) / 3);
  }
  Tensor x = leaf(xs, {3});
  expect_value_and_grads(binary_cross_entropy_with_logits(x, f64(ys, {3})), value, {{x, gx}});

  const V xs2{-1.0, 0.5, 3.0, -0.2}, ys2{1.0, 0.0, 0.5, 1.0}, pw{3.0, 0.5}, w{1.0, 2.0};  // w per row, pw per column
  value = 0;
  V gx2, gy2;
  for (std::size_t i = 0; i < 4; ++i) {
    double xi = xs2[i], yi = ys2[i], pwi = pw[i % 2], wi = w[i / 2], lw = 1 + (pwi - 1) * yi;
    value += wi * ((1 - yi) * xi + lw * softplus_of(-xi));
    gx2.push_back(wi * ((1 - yi) - lw * sigmoid_of(-xi)));
    gy2.push_back(wi * (-xi + (pwi - 1) * softplus_of(-xi)));
  }
  Tensor x2 = leaf(xs2, {2, 2}), y2 = leaf(ys2, {2, 2});
  expect_value_and_grads(
      binary_cross_entropy_with_logits(
          x2, y2, {.reduction = Reduction::Sum, .weight = f64(w, {2, 1}), .pos_weight = f64(pw, {2})}),
      value, {{x2, gx2}, {y2, gy2}});
}

// torchvision.ops.sigmoid_focal_loss(x, y, alpha, gamma, reduction): p = σ(x), ce = BCE-with-logits,
// p_t = p·y + (1-p)(1-y), ℓ = α_t·ce·(1-p_t)^γ. With u = 1 - p_t, du/dx = p(1-p)(1-2y), dce/dx = p - y:
// dℓ/dx = α_t·(γ·u^(γ-1)·du/dx·ce + u^γ·(p - y)).
TEST(ClassificationLosses, SigmoidFocalLossReference) {
  struct Case {
    double alpha, gamma;
    Reduction reduction;
    V xs, ys;
  };
  for (const Case& k : {Case{0.25, 2.0, Reduction::Sum, {-1.0, 0.5, 2.5, -3.0}, {0, 1, 1, 0}},
                        Case{-1, 0.5, Reduction::Mean, {0.7, -0.4, 1.2}, {0.3, 1.0, 0.0}}}) {
    const double n = k.reduction == Reduction::Mean ? static_cast<double>(k.xs.size()) : 1.0;
    double value = 0;
    V grad;
    for (std::size_t i = 0; i < k.xs.size(); ++i) {
      double x = k.xs[i], y = k.ys[i], p = sigmoid_of(x);
      double ce = -(y * std::log(p) + (1 - y) * std::log(1 - p));
      double u = 1 - (p * y + (1 - p) * (1 - y));
      double alpha_t = k.alpha >= 0 ? k.alpha * y + (1 - k.alpha) * (1 - y) : 1.0;
      value += alpha_t * ce * std::pow(u, k.gamma) / n;
      double du = p * (1 - p) * (1 - 2 * y);
      grad.push_back(alpha_t * (k.gamma * std::pow(u, k.gamma - 1) * du * ce + std::pow(u, k.gamma) * (p - y)) / n);
    }
    Tensor x = leaf(k.xs, {static_cast<std::int64_t>(k.xs.size())});
    expect_value_and_grads(sigmoid_focal_loss(x, f64(k.ys, {static_cast<std::int64_t>(k.ys.size())}),
                                              {.reduction = k.reduction, .alpha = k.alpha, .gamma = k.gamma}),
                           value, {{x, grad}});
  }
}

// Multi-class focal loss: ℓ_n = -α_y·(1-p_y)^γ·log p_y, p = softmax(x_n). With u = 1 - p_y,
// du/dx_c = -p_y(δ_cy - p_c) and d(-log p_y)/dx_c = p_c - δ_cy:
// dℓ/dx_c = α_y·(γ·u^(γ-1)·du/dx_c·(-log p_y) + u^γ·(p_c - δ_cy)).
TEST(ClassificationLosses, FocalLossReference) {
  struct Case {
    double gamma;
    V alpha;
    Reduction reduction;
  };
  const V xs{0.2, 1.5, -0.3, -1.0, 0.4, 2.2};
  const std::vector<std::size_t> ys{1, 0};
  for (const Case& k : {Case{2.0, {}, Reduction::Mean}, Case{0.5, {0.25, 0.5, 1.0}, Reduction::Sum}}) {
    const double n = k.reduction == Reduction::Mean ? 2.0 : 1.0;
    double value = 0;
    V grad;
    for (std::size_t r = 0; r < 2; ++r) {
      V p = softmax_of(row_of(xs, r, 3));
      std::size_t y = ys[r];
      double a = k.alpha.empty() ? 1.0 : k.alpha[y], u = 1 - p[y], nll = -std::log(p[y]);
      value += a * std::pow(u, k.gamma) * nll / n;
      for (std::size_t c = 0; c < 3; ++c) {
        double d = c == y ? 1.0 : 0.0, du = -p[y] * (d - p[c]);
        grad.push_back(a * (k.gamma * std::pow(u, k.gamma - 1) * du * nll + std::pow(u, k.gamma) * (p[c] - d)) / n);
      }
    }
    Tensor x = leaf(xs, {2, 3});
    FocalLossOptions o{.reduction = k.reduction, .gamma = k.gamma};
    if (!k.alpha.empty()) o.alpha = f64(k.alpha, {3});
    expect_value_and_grads(focal_loss(x, i64({1, 0}, {2}), o), value, {{x, grad}});
  }
}

// F.kl_div(x, p, reduction='batchmean'): Σ p(log p - x) / N, 0 where p = 0; dℓ/dx = -p/N;
// dℓ/dp = (log p + 1 - x)/N where p > 0 and 0 where p = 0 (PyTorch's masked gradient).
// F.kl_div(x, t, log_target=True, reduction='mean'): Σ e^t(t - x) / numel; dℓ/dx = -e^t/numel,
// dℓ/dt = e^t(t - x + 1)/numel.
TEST(ClassificationLosses, KlDivReference) {
  const V xs{std::log(0.2), std::log(0.5), std::log(0.3), std::log(0.6), std::log(0.1), std::log(0.3)};
  const V ps{0.5, 0.5, 0.0, 0.1, 0.2, 0.7};
  double value = 0;
  V gx, gp;
  for (std::size_t i = 0; i < 6; ++i) {
    value += ps[i] > 0 ? ps[i] * (std::log(ps[i]) - xs[i]) / 2 : 0.0;
    gx.push_back(-ps[i] / 2);
    gp.push_back(ps[i] > 0 ? (std::log(ps[i]) + 1 - xs[i]) / 2 : 0.0);
  }
  Tensor x = leaf(xs, {2, 3}), p = leaf(ps, {2, 3});
  expect_value_and_grads(kl_div(x, p, {.reduction = Reduction::BatchMean}), value, {{x, gx}, {p, gp}});

  const V ts{-0.5, -1.5, -2.0, -0.1};
  value = 0;
  V gx2, gt2;
  for (std::size_t i = 0; i < 4; ++i) {
    value += std::exp(ts[i]) * (ts[i] - xs[i]) / 4;
    gx2.push_back(-std::exp(ts[i]) / 4);
    gt2.push_back(std::exp(ts[i]) * (ts[i] - xs[i] + 1) / 4);
  }
  Tensor x2 = leaf(V(xs.begin(), xs.begin() + 4), {2, 2}), t2 = leaf(ts, {2, 2});
  expect_value_and_grads(kl_div(x2, t2, {.log_target = true}), value, {{x2, gx2}, {t2, gt2}});
}

// Brier score on softmax: ℓ_n = Σ_c w_c (p_c - y_c)², and seed 003's gradient
// dℓ/dx_l = 2 p_l ((p_l - y_l) w_l - Σ_j p_j (p_j - y_j) w_j).
TEST(ClassificationLosses, BrierScoreReference) {
  const V xs{0.1, 1.2, -0.7, 2.0, -1.0, 0.3};
  const V onehot{0, 1, 0, 0, 0, 1}, soft{0.2, 0.5, 0.3, 0.6, 0.0, 0.4}, weights{1.0, 2.0, 0.5, 0.25, 1.0, 3.0};
  struct Case {
    V y, w;
    Reduction reduction;
  };
  for (const Case& k : {Case{onehot, V(6, 1.0), Reduction::Mean}, Case{soft, weights, Reduction::Sum}}) {
    const double n = k.reduction == Reduction::Mean ? 2.0 : 1.0;
    double value = 0;
    V grad;
    for (std::size_t r = 0; r < 2; ++r) {
      V p = softmax_of(row_of(xs, r, 3)), y = row_of(k.y, r, 3), w = row_of(k.w, r, 3);
      double inner = 0;
      for (std::size_t j = 0; j < 3; ++j) {
        value += w[j] * (p[j] - y[j]) * (p[j] - y[j]) / n;
        inner += p[j] * (p[j] - y[j]) * w[j];
      }
      for (std::size_t l = 0; l < 3; ++l) grad.push_back(2 * p[l] * ((p[l] - y[l]) * w[l] - inner) / n);
    }
    Tensor x = leaf(xs, {2, 3});
    Tensor target = k.reduction == Reduction::Mean ? i64({1, 2}, {2}) : f64(k.y, {2, 3});
    Tensor weight = k.reduction == Reduction::Mean ? Tensor() : f64(k.w, {2, 3});
    expect_value_and_grads(brier_score(x, target, {.reduction = k.reduction, .weight = weight}), value, {{x, grad}});
  }
}

// Binary Brier score: ℓ = w(σ(x) - y)², dℓ/dx = 2w(σ(x) - y)σ(x)(1 - σ(x)).
TEST(ClassificationLosses, BinaryBrierScoreReference) {
  const V xs{-2.0, 0.0, 1.5, 0.4}, ys{0.0, 1.0, 1.0, 0.3};
  for (bool with_weight : {false, true}) {
    const V w = with_weight ? V{2.0, 0.5, 2.0, 0.5} : V(4, 1.0);
    const double n = with_weight ? 1.0 : 4.0;  // sum with weights, mean without
    double value = 0;
    V grad;
    for (std::size_t i = 0; i < 4; ++i) {
      double s = sigmoid_of(xs[i]);
      value += w[i] * (s - ys[i]) * (s - ys[i]) / n;
      grad.push_back(2 * w[i] * (s - ys[i]) * s * (1 - s) / n);
    }
    Tensor x = leaf(xs, {2, 2});
    BinaryBrierScoreOptions o;
    if (with_weight) o = {.reduction = Reduction::Sum, .weight = f64({2.0, 0.5}, {2})};
    expect_value_and_grads(binary_brier_score(x, f64(ys, {2, 2}), o), value, {{x, grad}});
  }
}

// ---- 3. properties and edge cases ----

TEST(ClassificationLosses, SumIsMeanTimesCountAndNoneHasTheSampleShape) {
  for (const LossSpec& s : losses_of_family("classification")) {
    std::vector<Tensor> in = sample(s, DType::Float64, false);
    Tensor none = s.call(in, {}, Reduction::None);
    bool per_sample = s.inputs[1].dtype == DType::Int64;  // class-index losses give one value per row
    EXPECT_EQ(none.shape(), per_sample ? Shape{in[0].size(0)} : in[0].shape()) << s.name;
    double sum_v = s.call(in, {}, Reduction::Sum).item(), mean_v = s.call(in, {}, Reduction::Mean).item();
    EXPECT_NEAR(sum_v, mean_v * static_cast<double>(none.numel()), 1e-12) << s.name;
    EXPECT_NEAR(sum_v, sum(none).item(), 1e-12) << s.name;
  }
  std::vector<Tensor> in = sample(find_loss("kl_div"), DType::Float64, false);
  double total = kl_div(in[0], in[1], {.reduction = Reduction::Sum}).item();
  EXPECT_NEAR(kl_div(in[0], in[1], {.reduction = Reduction::BatchMean}).item(), total / 4, 1e-15);
  EXPECT_NEAR(kl_div(in[0], in[1]).item(), total / 12, 1e-15);  // PyTorch's mean: / numel, not / N
}

TEST(ClassificationLosses, WeightedMeanDividesByTheWeightOfTheKeptTargets) {
  Generator gen(5);
  Tensor x = randn({4, 3}, DType::Float64, gen), y = i64({0, 2, -100, 2}, {4}), w = f64({0.5, 1, 4}, {3});
  for (double eps : {0.0, 0.25}) {
    CrossEntropyOptions o{.weight = w, .label_smoothing = eps};
    double mean_v = cross_entropy(x, y, o).item();
    o.reduction = Reduction::Sum;
    EXPECT_NEAR(cross_entropy(x, y, o).item(), mean_v * (0.5 + 4 + 4), 1e-12) << eps;
  }
  Tensor lp = log_softmax(x, 1);
  EXPECT_NEAR(nll_loss(lp, y, {.reduction = Reduction::Sum, .weight = w}).item(),
              nll_loss(lp, y, {.weight = w}).item() * 8.5, 1e-12);
}

TEST(ClassificationLosses, ExtraDimsAndUnbatchedInputAsPyTorch) {
  Generator gen(9);
  Tensor x = randn({2, 3, 2, 2}, DType::Float64, gen), y = randint(0, 3, {2, 2, 2}, gen);
  Tensor flat_x = reshape(permute(x, {0, 2, 3, 1}), {8, 3}), flat_y = reshape(y, {8});
  Tensor w = f64({1, 2, 0.5}, {3});
  Tensor none = cross_entropy(x, y, {.reduction = Reduction::None, .weight = w, .label_smoothing = 0.1});
  EXPECT_EQ(none.shape(), (Shape{2, 2, 2}));
  expect_values(
      none,
      cross_entropy(flat_x, flat_y, {.reduction = Reduction::None, .weight = w, .label_smoothing = 0.1}).to_vector(),
      1e-14, "ce (N,C,d1,d2)");
  EXPECT_NEAR(cross_entropy(x, y, {.weight = w}).item(), cross_entropy(flat_x, flat_y, {.weight = w}).item(), 1e-14);
  EXPECT_EQ(focal_loss(x, y, {.reduction = Reduction::None}).shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(nll_loss(x, y, {.reduction = Reduction::None}).shape(), (Shape{2, 2, 2}));
  Tensor q = softmax(randn({2, 3, 2, 2}, DType::Float64, gen), 1);
  EXPECT_NEAR(cross_entropy(x, q).item(), cross_entropy(flat_x, reshape(permute(q, {0, 2, 3, 1}), {8, 3})).item(),
              1e-14);

  Tensor one = f64({0.5, -1.0, 2.0}, {3});
  Tensor unbatched = cross_entropy(one, scalar(2, DType::Int64), {.reduction = Reduction::None});
  EXPECT_EQ(unbatched.shape(), Shape{});
  EXPECT_NEAR(unbatched.item(), cross_entropy(reshape(one, {1, 3}), i64({2}, {1})).item(), 1e-15);
}

TEST(ClassificationLosses, Float32MatchesFloat64OnTheSamples) {
  for (const LossSpec& s : losses_of_family("classification"))
    for (Reduction r : s.reductions) {
      std::vector<Tensor> in64 = sample(s, DType::Float64, true), in32;
      for (std::size_t i = 0; i < in64.size(); ++i) {
        Tensor t = is_floating(in64[i].dtype()) ? in64[i].detach().to(DType::Float32) : in64[i];
        if (s.inputs[i].differentiable) t.requires_grad_();
        in32.push_back(t);
      }
      Tensor l64 = sum(s.call(in64, {}, r)), l32 = sum(s.call(in32, {}, r));
      EXPECT_EQ(l32.dtype(), DType::Float32) << s.name;
      EXPECT_NEAR(l32.item(), l64.item(), 1e-5 * std::abs(l64.item()) + 1e-7) << s.name << " " << reduction_name(r);
      l64.backward();
      l32.backward();
      for (std::size_t i = 0; i < in64.size(); ++i) {
        if (!s.inputs[i].differentiable) continue;
        V g64 = in64[i].grad().to_vector(), g32 = in32[i].grad().to_vector();
        for (std::size_t k = 0; k < g64.size(); ++k)
          EXPECT_NEAR(g32[k], g64[k], 1e-5 * std::abs(g64[k]) + 1e-7) << s.name << " gradient " << i;
      }
    }
}

TEST(ClassificationLosses, ZeroAtAPerfectPrediction) {
  const double big = 1e4;
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor logits = tensor({big, -big, -big, -big, -big, big}, {2, 3}, dt);
    Tensor y = i64({0, 2}, {2});
    EXPECT_EQ(cross_entropy(logits, y).item(), 0.0);
    EXPECT_EQ(nll_loss(tensor({0, -1, -2, -3, -4, 0}, {2, 3}, dt), y).item(), 0.0);
    EXPECT_EQ(focal_loss(logits, y).item(), 0.0);
    EXPECT_EQ(brier_score(logits, y).item(), 0.0);
    Tensor labels = tensor({1, 0, 0, 0, 0, 1}, {2, 3}, dt);
    EXPECT_EQ(binary_cross_entropy(labels, labels).item(), 0.0);
    EXPECT_EQ(binary_cross_entropy_with_logits(logits, labels).item(), 0.0);
    EXPECT_EQ(sigmoid_focal_loss(logits, labels, {.reduction = Reduction::Sum}).item(), 0.0);
    EXPECT_EQ(binary_brier_score(logits, labels).item(), 0.0);
    Tensor p = tensor({0.25, 0.75, 0.0, 1.0}, {2, 2}, dt);
    EXPECT_NEAR(kl_div(log(where(gt(p, 0.0), p, scalar(1.0, dt))), p).item(), 0.0, 1e-7);
  }
}

TEST(ClassificationLosses, FiniteLossAndGradientAtLogitsOf1e4) {
  for (DType dt : {DType::Float64, DType::Float32})
    for (double gamma : {0.0, 0.5, 1.0, 2.0, 5.0}) {
      // right and wrong saturated predictions, and a saturated row with a soft target
      auto logits = [&] { return tensor({1e4, -1e4, 0, -1e4, 1e4, -1e4}, {2, 3}, dt).requires_grad_(); };
      Tensor y = i64({0, 2}, {2}), labels = tensor({1, 0, 1, 1, 0.5, 0}, {2, 3}, dt);
      std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> losses{
          {"cross_entropy", [&](const Tensor& x) { return cross_entropy(x, y, {.label_smoothing = 0.1}); }},
          {"nll_loss", [&](const Tensor& x) { return nll_loss(log_softmax(x, 1), y); }},
          {"focal_loss", [&](const Tensor& x) { return focal_loss(x, y, {.gamma = gamma}); }},
          {"sigmoid_focal_loss",
           [&](const Tensor& x) {
             return sigmoid_focal_loss(x, labels, {.reduction = Reduction::Mean, .gamma = gamma});
           }},
          {"bce_with_logits", [&](const Tensor& x) { return binary_cross_entropy_with_logits(x, labels); }},
          {"brier_score", [&](const Tensor& x) { return brier_score(x, y); }},
          {"binary_brier_score", [&](const Tensor& x) { return binary_brier_score(x, labels); }}};
      for (const auto& [name, f] : losses) {
        Tensor x = logits();
        Tensor l = f(x);
        l.backward();
        std::string what = name + " gamma " + std::to_string(gamma) + " " + dtype_name(dt);
        EXPECT_TRUE(all_finite(l)) << what << ": " << l.item();
        EXPECT_TRUE(all_finite(x.grad())) << what;
      }
    }
}

// The guard of (1 - p_t)^γ for γ < 1: at an exactly saturated right prediction the gradient is the
// limit 0 (torchvision's formula gives 0·∞ = NaN there), and just before saturation it is untouched.
TEST(ClassificationLosses, FocalGradientGuardGivesTheLimitAndLeavesOtherValuesAlone) {
  for (double gamma : {0.5, 0.1}) {
    Tensor x = f64({800, -800}, {2}).requires_grad_();  // σ(-800) underflows to 0: 1 - p_t = 0 exactly
    sigmoid_focal_loss(x, f64({1, 0}, {2}), {.reduction = Reduction::Sum, .gamma = gamma}).backward();
    expect_values(x.grad(), {0, 0}, 0, "saturated binary");

    Tensor z = f64({0, 800, 0}, {1, 3}).requires_grad_();
    focal_loss(z, i64({1}, {1}), {.gamma = gamma}).backward();
    expect_values(z.grad(), {0, 0, 0}, 0, "saturated softmax");
  }
  // x = 30, y = 1: u = 1 - p = σ(-30) ≈ 9.4e-14 (far above the clamp);
  // dℓ/dx = α·(γ u^(γ-1)·du·ce + u^γ·(p - 1)) with du = -p(1-p) = -p·u, p - 1 = -u, ce = softplus(-30).
  const double xv = 30, gamma = 0.5, p = sigmoid_of(xv), u = sigmoid_of(-xv), ce = softplus_of(-xv);
  Tensor x = f64({xv}, {1}).requires_grad_();
  sigmoid_focal_loss(x, f64({1}, {1}), {.reduction = Reduction::Sum, .gamma = gamma}).backward();
  double expected = 0.25 * (gamma * std::pow(u, gamma - 1) * -p * u * ce + std::pow(u, gamma) * -u);
  EXPECT_NEAR(x.grad().item(), expected, 1e-12 * std::abs(expected));
}

TEST(ClassificationLosses, BinaryCrossEntropyAtProbabilitiesZeroAndOne) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor p = tensor({0, 1, 0, 1}, {4}, dt).requires_grad_(), y = tensor({0, 0, 1, 1}, {4}, dt).requires_grad_();
    Tensor l = binary_cross_entropy(p, y, {.reduction = Reduction::None});
    expect_values(l, {0, 100, 100, 0}, 0, dtype_name(dt));  // -log clamped at 100, as PyTorch
    sum(l).backward();
    EXPECT_TRUE(all_finite(p.grad())) << dtype_name(dt);
    EXPECT_TRUE(all_finite(y.grad())) << dtype_name(dt);
  }
}

TEST(ClassificationLosses, KlDivWithZeroTargetsIsFinite) {
  Tensor x = f64({std::log(0.5), std::log(0.5), -1e4, 0.0}, {2, 2}).requires_grad_();
  Tensor p = f64({1, 0, 0, 1}, {2, 2}).requires_grad_();
  Tensor l = kl_div(x, p, {.reduction = Reduction::BatchMean});
  EXPECT_NEAR(l.item(), std::log(2.0) / 2, 1e-15);
  l.backward();
  expect_values(x.grad(), {-0.5, 0, 0, -0.5}, 0, "d/dinput");
  expect_values(p.grad(), {(0 + 1 - std::log(0.5)) / 2, 0, 0, 0.5}, 1e-15, "d/dtarget");
}

// PyTorch: every target ignored gives 0/0 = NaN under mean (nll_loss and cross_entropy alike).
TEST(ClassificationLosses, EveryTargetIgnoredGivesNaNMeanAndZeroSum) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_(), y = i64({-100, -100}, {2});
  EXPECT_TRUE(std::isnan(cross_entropy(x, y).item()));
  EXPECT_TRUE(std::isnan(cross_entropy(x, y, {.label_smoothing = 0.1}).item()));
  EXPECT_TRUE(std::isnan(nll_loss(x, y, {.weight = f64({1, 2, 3}, {3})}).item()));
  expect_values(cross_entropy(x, y, {.reduction = Reduction::None, .label_smoothing = 0.1}), {0, 0}, 0, "none");
  Tensor total = cross_entropy(x, y, {.reduction = Reduction::Sum, .label_smoothing = 0.1});
  EXPECT_EQ(total.item(), 0.0);
  total.backward();
  expect_values(x.grad(), V(6, 0.0), 0, "gradient");
  EXPECT_TRUE(std::isnan(cross_entropy(zeros({0, 3}, DType::Float64), zeros({0}, DType::Int64)).item()));
}

TEST(ClassificationLosses, EquivalencesBetweenTheLosses) {
  Generator gen(21);
  Tensor x = randn({5, 4}, DType::Float64, gen), y = randint(0, 4, {5}, gen);
  Tensor onehot = one_hot(y, 4, DType::Float64);
  auto near = [](const Tensor& a, const Tensor& b, const std::string& what) {
    expect_values(a, b.to_vector(), 1e-12, what);
  };
  const Reduction none = Reduction::None;
  near(cross_entropy(x, y, {.reduction = none}), nll_loss(log_softmax(x, 1), y, {.reduction = none}),
       "ce = nll(log_softmax)");
  near(cross_entropy(x, y, {.reduction = none, .label_smoothing = 0.3}),
       cross_entropy(x, onehot, {.reduction = none, .label_smoothing = 0.3}), "smoothing = smoothed one-hot");
  near(cross_entropy(x, y, {.reduction = none, .label_smoothing = 1}),
       cross_entropy(x, full({5, 4}, 0.25, DType::Float64), {.reduction = none}), "ε = 1 is uniform");
  near(focal_loss(x, y, {.reduction = none, .gamma = 0}), cross_entropy(x, y, {.reduction = none}), "focal γ=0 = ce");
  Tensor w = f64({0.5, 1, 2, 3}, {4});
  near(focal_loss(x, y, {.reduction = Reduction::Sum, .gamma = 0, .alpha = w}),
       cross_entropy(x, y, {.reduction = Reduction::Sum, .weight = w}), "focal γ=0 α = weighted ce (sum)");
  Tensor t = rand({5, 4}, DType::Float64, gen);
  near(sigmoid_focal_loss(x, t, {.alpha = -1, .gamma = 0}), binary_cross_entropy_with_logits(x, t, {.reduction = none}),
       "sigmoid focal γ=0 α<0 = bce with logits");
  near(binary_cross_entropy(sigmoid(x), t, {.reduction = none}),
       binary_cross_entropy_with_logits(x, t, {.reduction = none}), "bce(σ(x)) = bce with logits");
  near(sum(kl_div(log_softmax(x, 1), onehot, {.reduction = none}), {1}), cross_entropy(x, y, {.reduction = none}),
       "kl to one-hot = ce");
  // two classes [0, x]: softmax is (σ(-x), σ(x)), so the Brier score is twice the binary one
  Tensor z = randn({6}, DType::Float64, gen), labels = randint(0, 2, {6}, gen);
  near(brier_score(stack({zeros_like(z), z}, 1), labels, {.reduction = none}),
       2.0 * binary_brier_score(z, labels.to(DType::Float64), {.reduction = none}), "2-class brier = 2·binary");
}

TEST(ClassificationLosses, TrainerStyleCallsKeepWorking) {
  Tensor x = f64({1, 2, 3, 0, 0, 1}, {2, 3}), y = i64({2, 0}, {2});
  EXPECT_NEAR(cross_entropy(x, y, {Reduction::Sum}).item(), 2 * cross_entropy(x, y).item(), 1e-15);
}

TEST(ClassificationLosses, BadInputsThrowNamingTheLossAndTheValues) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}), p = f64({0.5, 0.5}, {2});
  auto msg = [](auto f) { return error_of(f); };
  EXPECT_CONTAINS(
      msg([&] {
        cross_entropy(x, i64({0, 3}, {2}));
      }),
      "cross_entropy: target 3 at position 1 is out of range for 3 classes; expected 0..2 or ignore_index -100");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1, 2}, {3}));
                  }),
                  "target of shape [3] does not match the input: expected [2]");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, f64({0, 1}, {2}));
                  }),
                  "must have the input's shape [2, 3], got [2]; pass class indices as int64");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1}, {2}), {.label_smoothing = 1.5});
                  }),
                  "label_smoothing must be in [0, 1], got 1.5");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1}, {2}), {.weight = f64({1, 2}, {2})});
                  }),
                  "weight must hold one value per class, shape [3], got [2]");
  EXPECT_CONTAINS(msg([&] { cross_entropy(x, x, {.ignore_index = 0}); }),
                  "ignore_index 0 is not supported with probability targets");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1}, {2}), {.reduction = Reduction::BatchMean});
                  }),
                  "cross_entropy: reduction batchmean is only defined for kl_div");
  EXPECT_CONTAINS(msg([&] { cross_entropy(scalar(1.0, DType::Float64), i64({0}, {})); }), "needs a class dim");
  EXPECT_CONTAINS(msg([&] { nll_loss(x, i64({-1, 0}, {2})); }), "nll_loss: target -1 at position 0 is out of range");
  EXPECT_CONTAINS(msg([&] {
                    nll_loss(x, f64({0, 1}, {2}));
                  }),
                  "nll_loss: target must hold int64 class indices, got float64");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy(f64({0.5, 1.5}, {2}), p);
                  }),
                  "binary_cross_entropy: input 1.5 at position 1 is not a probability in [0, 1]; for logits use "
                  "binary_cross_entropy_with_logits");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy(p, f64({0.5, 0.5, 1}, {3}));
                  }),
                  "input [2] and target [3] must have the same shape");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy(p, i64({0, 1}, {2}));
                  }),
                  "target must be float32 or float64, got int64");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy_with_logits(x, x, {.pos_weight = f64({1, 2}, {2})});
                  }),
                  "pos_weight of shape [2] does not broadcast to the input's shape [2, 3]");
  EXPECT_CONTAINS(msg([&] { sigmoid_focal_loss(x, x, {.gamma = -1}); }),
                  "sigmoid_focal_loss: gamma must be >= 0, got -1");
  EXPECT_CONTAINS(msg([&] { sigmoid_focal_loss(x, x, {.alpha = 1.5}); }),
                  "alpha must be in [0, 1] (or negative to turn the weighting off), got 1.5");
  EXPECT_CONTAINS(msg([&] { sigmoid_focal_loss(x, p); }), "inputs [2, 3] and targets [2] must have the same shape");
  EXPECT_CONTAINS(msg([&] {
                    focal_loss(x, i64({0, 1}, {2}), {.alpha = f64({1}, {1})});
                  }),
                  "focal_loss: alpha must hold one value per class");
  EXPECT_CONTAINS(msg([&] { focal_loss(x, i64({0, 1}, {2}), {.gamma = kNaN}); }), "gamma must be >= 0, got nan");
  EXPECT_CONTAINS(
      msg([&] {
        kl_div(p, f64({-0.5, 1.5}, {2}));
      }),
      "kl_div: target -0.5 at position 0 is not a probability (>= 0); for log-probabilities set log_target");
  EXPECT_CONTAINS(msg([&] { brier_score(p, i64({0}, {1})); }),
                  "brier_score: input must be (N, C) logits, got shape [2]");
  EXPECT_CONTAINS(msg([&] {
                    brier_score(x, i64({0, 5}, {2}));
                  }),
                  "brier_score: target 5 at position 1 is out of range for 3 classes; expected 0..2");
  EXPECT_CONTAINS(msg([&] {
                    brier_score(x, i64({0, 1}, {2}), {.weight = f64({1, 2}, {2})});
                  }),
                  "weight of shape [2] does not broadcast to the input's shape [2, 3]");
  EXPECT_CONTAINS(msg([&] { binary_brier_score(x, p); }),
                  "binary_brier_score: input [2, 3] and target [2] must have the same shape");
  EXPECT_CONTAINS(msg([&] {
                    find_loss("focal_loss").call({x, i64({0, 1}, {2})}, {{"margin", 1}}, Reduction::Mean);
                  }),
                  "focal_loss: unknown parameter \"margin\"; its parameters: gamma");
}
