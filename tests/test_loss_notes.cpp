// The notes' forms (../shared/seeds/): the rows and switches that give each formula of the notes a
// command, checked against reference values and gradients computed here from the formulas, and
// gradchecked under every reduction. PyTorch's conventions stay the defaults (checked elsewhere).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/classification.h"
#include "zoograd/losses/hinge.h"
#include "zoograd/losses/metric.h"
#include "zoograd/losses/regression.h"
#include "zoograd/tests/test_util.h"

namespace {

using namespace zg;
using V = std::vector<double>;

Tensor f64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
Tensor leaf(const V& v, const Shape& shape) { return f64(v, shape).requires_grad_(); }
Tensor labels(const V& v) { return tensor(v, {static_cast<std::int64_t>(v.size())}, DType::Int64); }

void expect_values(const Tensor& t, const V& want, double tol, const std::string& what) {
  V got = t.to_vector();
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " [" << i << "]";
}

// Backpropagates `loss` (a scalar) and checks it and the leaf's gradient.
void expect_loss(const Tensor& loss, double value, const Tensor& x, const V& grad, const std::string& what) {
  EXPECT_NEAR(loss.item(), value, 1e-12) << what;
  loss.backward();
  expect_values(x.grad(), grad, 1e-12, what + " gradient");
}

TEST(NotesForms, MultiMarginWithoutDividingByC) {
  // Seed 000: Σ_{i≠y} max(z_i - z_y + m, 0) on z = (1, 2, 3, 0), y = 0, m = 1: 2 + 3 + 0 = 5; PyTorch 5/4.
  const LossSpec& s = find_loss("multi_margin_loss");
  EXPECT_EQ(s.call({f64({1, 2, 3, 0}, {1, 4}), labels({0})}, {{"divide_by_classes", 0}}, Reduction::Sum).item(), 5.0);
  EXPECT_EQ(s.call({f64({1, 2, 3, 0}, {1, 4}), labels({0})}, {}, Reduction::Sum).item(), 1.25);
  // Away from the kinks: z = (0.5, 2, 3, -1): 2.5 + 3.5 + 0 = 6, gradient (-2, 1, 1, 0); p = 2: 6.25 + 12.25.
  Tensor x = leaf({0.5, 2, 3, -1}, {1, 4});
  expect_loss(multi_margin_loss(x, labels({0}), {.divide_by_classes = false}), 6, x, {-2, 1, 1, 0}, "p = 1");
  Tensor x2 = leaf({0.5, 2, 3, -1}, {1, 4});
  expect_loss(multi_margin_loss(x2, labels({0}), {.p = 2, .divide_by_classes = false}), 18.5, x2, {-12, 5, 7, 0}, "p = 2");
}

TEST(NotesForms, LogSumExpHingeWithoutSoftplus) {
  // Seed 000's max(log Σ_{i≠y} e^{z_i} - z_y, 0): z = (1, 2, 0.5), y = 0.
  const double lse = std::log(std::exp(2.0) + std::exp(0.5));
  const double p1 = std::exp(2.0) / (std::exp(2.0) + std::exp(0.5)), p2 = 1 - p1;
  Tensor x = leaf({1, 2, 0.5}, {1, 3});
  expect_loss(logsumexp_hinge_loss(x, labels({0}), {.softplus = false}), lse - 1, x, {-1, p1, p2}, "active");
  // T = 2: max(2·log(e^(2/2) + e^(0.5/2)) - 1, 0), the others' gradient a softmax at T.
  const double lse2 = 2 * std::log(std::exp(1.0) + std::exp(0.25)), q1 = std::exp(1.0) / (std::exp(1.0) + std::exp(0.25));
  Tensor xt = leaf({1, 2, 0.5}, {1, 3});
  expect_loss(logsumexp_hinge_loss(xt, labels({0}), {.temperature = 2, .softplus = false}), lse2 - 1, xt,
              {-1, q1, 1 - q1}, "T = 2");
  // Zero, with zero gradient, once the target beats the smoothed max: log 2 - 5 < 0.
  Tensor won = leaf({5, 0, 0}, {1, 3});
  expect_loss(logsumexp_hinge_loss(won, labels({0}), {.softplus = false}), 0, won, {0, 0, 0}, "won");
  // Never more than log 2 below cross-entropy, its softplus.
  Generator gen(3);
  Tensor z = randn({50, 5}, DType::Float64, gen) * 3.0;
  Tensor y = randint(0, 5, {50}, gen);
  V hinge = logsumexp_hinge_loss(z, y, {.reduction = Reduction::None, .softplus = false}).to_vector();
  V ce = cross_entropy(z, y, {Reduction::None}).to_vector();
  for (std::size_t n = 0; n < ce.size(); ++n) {
    EXPECT_LE(hinge[n], ce[n]);
    EXPECT_GE(hinge[n], ce[n] - std::log(2.0) - 1e-15);
  }
}

// L_u straight from seed 000's double sum, and its gradient: ∂L/∂s_n^j = γ Σ_i e_ij/(1 + S),
// ∂L/∂s_p^i = -γ Σ_j e_ij/(1 + S), e_ij = exp(γ(s_n^j - s_p^i + m)).
struct Unified {
  double value;
  V d_sp, d_sn;
};
Unified unified_reference(const V& sp, const V& sn, double gamma, double m) {
  double total = 0;
  Unified u{0, V(sp.size()), V(sn.size())};
  for (double p : sp)
    for (double n : sn) total += std::exp(gamma * (n - p + m));
  for (std::size_t i = 0; i < sp.size(); ++i)
    for (std::size_t j = 0; j < sn.size(); ++j) {
      const double e = std::exp(gamma * (sn[j] - sp[i] + m)) / (1 + total);
      u.d_sp[i] -= gamma * e;
      u.d_sn[j] += gamma * e;
    }
  u.value = std::log1p(total);
  return u;
}

TEST(NotesForms, UnifiedLossInBothFormsIsTheDoubleSum) {
  const V sp{0.8, 0.6}, sn{0.1, 0.3, -0.2};
  const Unified want = unified_reference(sp, sn, 4, 0.25);
  for (bool factored : {true, false}) {
    Tensor p = leaf(sp, {1, 2}), n = leaf(sn, {1, 3});
    Tensor loss = unified_loss(p, n, {.m = 0.25, .gamma = 4, .factored = factored});
    EXPECT_NEAR(loss.item(), want.value, 1e-14) << factored;
    loss.backward();
    expect_values(p.grad(), want.d_sp, 1e-14, "d/d s_p");
    expect_values(n.grad(), want.d_sn, 1e-14, "d/d s_n");
  }
  // γ = 256 overflows neither form, and they agree.
  Generator gen(5);
  Tensor p = rand({6, 3}, DType::Float64, gen), n = rand({6, 7}, DType::Float64, gen) - 0.5;
  V a = unified_loss(p, n, {.reduction = Reduction::None}).to_vector();
  V b = unified_loss(p, n, {.factored = false, .reduction = Reduction::None}).to_vector();
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_TRUE(std::isfinite(a[k]));
    EXPECT_NEAR(a[k], b[k], 1e-12 * (1 + a[k]));
  }
}

TEST(NotesForms, UnifiedLossLimitsAndItsCosFaceCase) {
  // L_u/γ -> [max s_n - min s_p + m]_+ (seed 000's balance remark): 0.3 - 0.6 + 0.25 < 0, and with m = 0.5: 0.2.
  const Tensor p = f64({0.8, 0.6}, {1, 2}), n = f64({0.1, 0.3, -0.2}, {1, 3});
  EXPECT_NEAR(unified_loss(p, n, {.m = 0.25, .gamma = 1e4}).item() / 1e4, 0.0, 1e-6);
  EXPECT_NEAR(unified_loss(p, n, {.m = 0.5, .gamma = 1e4}).item() / 1e4, 0.2, 1e-3);
  // K = 1, s_p = cos θ_y, s_n = the other classes' cosines: CosFace with s = γ.
  Generator gen(8);
  Tensor x = randn({5, 3}, DType::Float64, gen), w = randn({4, 3}, DType::Float64, gen);
  Tensor y = labels({0, 3, 1, 2, 0});
  V cos = cos_theta(x, w).to_vector(), own, others;
  for (std::int64_t r = 0; r < 5; ++r)
    for (std::int64_t c = 0; c < 4; ++c)
      (c == y.data<std::int64_t>()[r] ? own : others).push_back(cos[static_cast<std::size_t>(4 * r + c)]);
  expect_values(unified_loss(f64(own, {5, 1}), f64(others, {5, 3}), {.m = 0.35, .gamma = 30, .reduction = Reduction::None}),
                cosface_loss(x, w, y, {.s = 30, .m = 0.35, .reduction = Reduction::None}).to_vector(), 1e-12, "cosface");
}

TEST(NotesForms, BrierScoreWithPerEntryWeightsAndSoftTargets) {
  // Seed 003: L = Σ_i Σ_j w_ij (σ_ij - y_ij)², gradient 2σ_l(r_l - A), r = w(σ - y), A = Σ_j σ_j r_j.
  const V z{0.5, -1, 2, 1.5, 0.2, -0.3}, q{0.2, 0.1, 0.7, 0.6, 0.3, 0.1}, w{1, 2, 0.5, 3, 1, 0.25};
  double value = 0;
  V grad(6);
  for (std::size_t i = 0; i < 2; ++i) {
    double m = std::max({z[3 * i], z[3 * i + 1], z[3 * i + 2]}), total = 0, a = 0;
    V sig(3), r(3);
    for (std::size_t j = 0; j < 3; ++j) total += std::exp(z[3 * i + j] - m);
    for (std::size_t j = 0; j < 3; ++j) {
      sig[j] = std::exp(z[3 * i + j] - m) / total;
      r[j] = w[3 * i + j] * (sig[j] - q[3 * i + j]);
      value += r[j] * (sig[j] - q[3 * i + j]);
      a += sig[j] * r[j];
    }
    for (std::size_t j = 0; j < 3; ++j) grad[3 * i + j] = 2 * sig[j] * (r[j] - a);
  }
  Tensor x = leaf(z, {2, 3});
  expect_loss(find_loss("brier_score").call({x, f64(q, {2, 3}), f64(w, {2, 3})}, {}, Reduction::Sum), value, x, grad,
              "brier_score through the catalog");
  // One weight per class broadcasts over the rows.
  Tensor cw = f64({1, 2, 0.5}, {3});
  EXPECT_NEAR(brier_score(f64(z, {2, 3}), f64(q, {2, 3}), {.weight = cw}).item(),
              brier_score(f64(z, {2, 3}), f64(q, {2, 3}), {.weight = broadcast_to(cw, {2, 3})}).item(), 1e-15);
}

TEST(NotesForms, CrossEntropyWithClassWeightsAndProbabilityTargets) {
  const V z{0.5, -1, 2, 1.5, 0.2, -0.3}, q{0.2, 0.1, 0.7, 0.6, 0.3, 0.1}, w{1, 2, 0.5};
  const LossSpec& s = find_loss("cross_entropy");
  // -Σ_c w_c q_c log p_c per row; mean / N.   Gradient: p_l Σ_c w_c q_c - w_l q_l.
  double total = 0;
  V grad(6);
  for (std::size_t i = 0; i < 2; ++i) {
    double m = std::max({z[3 * i], z[3 * i + 1], z[3 * i + 2]}), norm = 0, wq = 0;
    for (std::size_t j = 0; j < 3; ++j) norm += std::exp(z[3 * i + j] - m);
    for (std::size_t j = 0; j < 3; ++j) {
      total -= w[j] * q[3 * i + j] * (z[3 * i + j] - m - std::log(norm));
      wq += w[j] * q[3 * i + j];
    }
    for (std::size_t j = 0; j < 3; ++j) grad[3 * i + j] = (std::exp(z[3 * i + j] - m) / norm * wq - w[j] * q[3 * i + j]) / 2;
  }
  Tensor x = leaf(z, {2, 3});
  expect_loss(s.call({x, f64(q, {2, 3}), f64(w, {3})}, {}, Reduction::Mean), total / 2, x, grad, "probabilities");
  // Class indices with weights: mean = Σ w_y·(-log p_y) / Σ w_y.
  const double l0 = -(z[2] - std::log(std::exp(z[0]) + std::exp(z[1]) + std::exp(z[2])));
  const double l1 = -(z[4] - std::log(std::exp(z[3]) + std::exp(z[4]) + std::exp(z[5])));
  EXPECT_NEAR(s.call({f64(z, {2, 3}), labels({2, 1}), f64(w, {3})}, {}, Reduction::Mean).item(),
              (0.5 * l0 + 2 * l1) / 2.5, 1e-14);
  // The catalog's call without the optional input is the unweighted loss.
  EXPECT_NEAR(s.call({f64(z, {2, 3}), labels({2, 1})}, {}, Reduction::Mean).item(), (l0 + l1) / 2, 1e-14);
}

TEST(NotesForms, ContrastiveLossAsHadsellEtAl) {
  // Seed 002: L = (1 - Y)·½D² + Y·½max(0, M - D)², Y = 0 similar; ∂L/∂D = D, or -(M - D) for D < M.
  const V a{0, 0, 1, 1}, b{0.3, 0.4, 1, 1.6};  // D = 0.5 and 0.6
  Tensor x1 = leaf(a, {2, 2});
  Tensor loss = contrastive_loss(x1, f64(b, {2, 2}), f64({0, 1}, {2}),
                                 {.margin = 1, .eps = 1e-300, .reduction = Reduction::Sum, .similar_label = 0, .half = true});
  // Row 0 similar: ½·0.25; row 1 dissimilar: ½·0.4². ∂/∂x1 = ∂L/∂D·(x1 - x2)/D.
  expect_loss(loss, 0.125 + 0.08, x1, {-0.3, -0.4, 0.4 * 0.0 / 0.6, -0.4 * -0.6 / 0.6}, "hadsell");
  // The default convention is twice the paper's with the labels the other way round.
  const LossSpec& s = find_loss("contrastive_loss");
  Generator gen(4);
  std::vector<Tensor> in = s.sample(DType::Float64, gen);
  Tensor flipped = 1.0 - in[2];
  EXPECT_NEAR(s.call(in, {}, Reduction::Sum).item(),
              2 * s.call({in[0], in[1], flipped}, {{"similar_label", 0}, {"half", 1}}, Reduction::Sum).item(), 1e-14);
  EXPECT_CONTAINS(zg_tests::error_of([&] { contrastive_loss(in[0], in[1], in[2], {.similar_label = 2}); }),
                  "similar_label must be 1");
}

TEST(NotesForms, RmseOverTheWholeBatchAndHalfSquaredError) {
  // Seed 002: L = √((1/m) Σ (y_i - ŷ_i)²), ∂L/∂ŷ_i = (ŷ_i - y_i)/(m L).
  const V pred{1, 2, 4}, target{0, 2.5, 1};
  const double l = std::sqrt((1 + 0.25 + 9) / 3.0);
  Tensor x = leaf(pred, {3});
  expect_loss(rmse_loss(x, f64(target, {3}), {.eps = 1e-300, .per_sample = false}), l, x,
              {1 / (3 * l), -0.5 / (3 * l), 3 / (3 * l)}, "rmse over the batch");
  // Per sample (the default), a 1-D input has one value per sample: the mean absolute error.
  EXPECT_NEAR(rmse_loss(f64(pred, {3}), f64(target, {3}), {.eps = 1e-300}).item(), (1 + 0.5 + 3) / 3.0, 1e-15);
  EXPECT_EQ(rmse_loss(f64(pred, {3}), f64(target, {3}), {.reduction = Reduction::None, .per_sample = false}).dim(), 0);
  // Seed 001's L2 = ½(y - ŷ)², gradient ŷ - y.
  Tensor h = leaf(pred, {3});
  expect_loss(mse_loss(h, f64(target, {3}), {.reduction = Reduction::Sum, .half = true}), 0.5 * 10.25, h, {1, -0.5, 3},
              "half squared error");
}

TEST(NotesForms, SwitchesAreZeroOrOne) {
  for (const auto& [name, key] : std::vector<std::pair<std::string, std::string>>{
           {"mse_loss", "half"}, {"rmse_loss", "per_sample"}, {"multi_margin_loss", "divide_by_classes"},
           {"logsumexp_hinge_loss", "softplus"}, {"contrastive_loss", "half"}, {"unified_loss", "factored"}}) {
    const LossSpec& s = find_loss(name);
    Generator gen(1);
    std::vector<Tensor> in = s.sample(DType::Float64, gen);
    EXPECT_CONTAINS(zg_tests::error_of([&] { s.call(in, {{key, 0.5}}, Reduction::Mean); }),
                    name + ": " + key + ": expected 0 or 1, got 0.5");
  }
}

// The new forms on inputs of their own (the optional weights the rows' samples leave out, hinge
// rows clear of softplus = 0's kink), under every reduction of the row. The forms that run on the
// rows' samples (mse's half, rmse's per_sample, contrastive's Hadsell form, unified's double sum,
// multi_margin's plain sum) are their rows' gradcheck_variants, checked by check_loss.
TEST(NotesForms, NewFormsPassGradcheck) {
  struct Case {
    std::string name;
    LossParams params;
    std::function<std::vector<Tensor>(Generator&)> inputs;
  };
  auto logits_and = [](std::function<Tensor(Generator&)> target, std::function<Tensor(Generator&)> weight) {
    return [=](Generator& gen) {
      std::vector<Tensor> in{randn({4, 3}, DType::Float64, gen), target(gen)};
      if (weight) in.push_back(weight(gen));
      return in;
    };
  };
  auto soft = [](Generator& gen) { return softmax(randn({4, 3}, DType::Float64, gen), 1); };
  auto index = [](Generator& gen) { return randint(0, 3, {4}, gen); };
  auto class_weight = [](Generator& gen) { return rand({3}, DType::Float64, gen) + 0.5; };
  auto entry_weight = [](Generator& gen) { return rand({4, 3}, DType::Float64, gen) + 0.5; };
  // Rows whose hinge max(T·logsumexp_{i≠y}(x_i/T) - x_y, 0) is at least 0.3 from its kink.
  auto hinge_rows = [](Generator&) {
    return std::vector<Tensor>{f64({1, 2, 0.5, 0, 3, 0, -1, 0.2, 4, 1, 0.5, 0.3}, {4, 3}), labels({0, 1, 2, 0})};
  };
  const std::vector<Case> cases{
      {"cross_entropy", {}, logits_and(index, class_weight)},
      {"cross_entropy", {}, logits_and(soft, class_weight)},
      {"cross_entropy", {{"label_smoothing", 0.2}}, logits_and(soft, nullptr)},
      {"brier_score", {}, logits_and(soft, entry_weight)},
      {"brier_score", {}, logits_and(index, class_weight)},
      {"logsumexp_hinge_loss", {{"softplus", 0}}, hinge_rows},
      {"logsumexp_hinge_loss", {{"softplus", 0}, {"temperature", 0.5}}, hinge_rows}};
  for (const Case& c : cases) {
    const LossSpec& s = find_loss(c.name);
    for (Reduction r : s.reductions) {
      Generator gen(21);
      std::vector<Tensor> in = c.inputs(gen);
      for (std::size_t i = 0; i < in.size(); ++i)
        if (s.inputs[i].differentiable) in[i].requires_grad_();
      GradcheckResult g = gradcheck([&](const std::vector<Tensor>& x) { return s.call(x, c.params, r); }, in);
      EXPECT_TRUE(g.ok) << c.name << " " << reduction_name(r) << ": " << g.message;
    }
  }
}

}  // namespace
