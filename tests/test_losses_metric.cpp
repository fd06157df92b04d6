// The metric-learning family (losses/metric.h): gradchecks of every catalog row, reference values
// and gradients from the formulas, and properties (zeros, reductions, dtypes, extremes, errors).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "losses/catalog.h"
#include "losses/metric.h"
#include "tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using V = std::vector<double>;
using Matrix = std::vector<V>;

Tensor f64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
Tensor ids(const V& v) { return tensor(v, {static_cast<std::int64_t>(v.size())}, DType::Int64); }

const std::vector<LossSpec>& rows() {
  static const std::vector<LossSpec> all = losses_of_family("metric");
  return all;
}

std::vector<Tensor> sample(const LossSpec& spec, DType dtype, std::uint64_t seed = 7) {
  Generator gen(seed);
  return spec.sample(dtype, gen);
}

// Circle rows are gradchecked with α differentiated: with α detached (the default) the gradient is
// by design not the derivative of the value, see CircleLoss.DetachedGradientIsNotTheDerivative.
LossParams gradcheck_params(const LossSpec& s) {
  if (s.name.starts_with("circle_loss")) return {{"detach_weights", 0.0}};
  return {};
}

// The value of loss_of(leaves...) and the gradient with respect to every leaf (float64).
struct ValueAndGrads {
  double value;
  std::vector<V> grads;
};
template <class F>
ValueAndGrads value_and_grads(F loss_of, std::vector<Tensor> leaves) {
  for (Tensor& t : leaves) t.requires_grad_();
  Tensor loss = loss_of(leaves);
  loss.backward();
  ValueAndGrads out{loss.item(), {}};
  for (const Tensor& t : leaves) out.grads.push_back(t.grad().to_vector());
  return out;
}

void expect_all_near(const V& actual, const V& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

bool all_finite(const Tensor& t) {
  V v = t.to_vector();
  return std::all_of(v.begin(), v.end(), [](double e) { return std::isfinite(e); });
}

// ---- plain-C++ references: the formulas of metric.h written out element by element ----

double dot(const V& a, const V& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double norm2(const V& a) { return std::sqrt(dot(a, a)); }
double sigmoid_of(double z) { return 1.0 / (1.0 + std::exp(-z)); }
double softplus_of(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
double lse(const V& z) {
  double m = *std::max_element(z.begin(), z.end()), s = 0;
  for (double v : z) s += std::exp(v - m);
  return m + std::log(s);
}
V softmax_of(const V& z) {
  V out;
  double y = lse(z);
  for (double v : z) out.push_back(std::exp(v - y));
  return out;
}
V flat(const Matrix& m) {
  V out;
  for (const V& r : m) out.insert(out.end(), r.begin(), r.end());
  return out;
}
V unit(const V& x) {
  V u = x;
  for (double& v : u) v /= norm2(x);
  return u;
}

// ‖v‖_p and its gradient sign(v_i)|v_i|^(p-1) / ‖v‖_p^(p-1).
double pnorm(const V& v, double p) {
  double s = 0;
  for (double x : v) s += std::pow(std::abs(x), p);
  return std::pow(s, 1.0 / p);
}
V pnorm_grad(const V& v, double p) {
  V g;
  double n = pnorm(v, p);
  for (double x : v) g.push_back((x > 0 ? 1 : -1) * std::pow(std::abs(x), p - 1) / std::pow(n, p - 1));
  return g;
}
// a - b + eps, componentwise (torch.pairwise_distance's difference).
V shifted_difference(const V& a, const V& b, double eps) {
  V d;
  for (std::size_t i = 0; i < a.size(); ++i) d.push_back(a[i] - b[i] + eps);
  return d;
}

// Circle loss of one anchor (eq. 6) and its gradient. With α detached, dz/ds = ∓γα; otherwise the
// α factor is differentiated too: dz_p/ds_p = -γ(α_p - (s_p - Δ_p)), dz_n/ds_n = γ(α_n + (s_n - Δ_n)).
struct CircleRef {
  double value;
  V grad_sp, grad_sn;
};
CircleRef circle_ref(const V& sp, const V& sn, double m, double gamma, bool detach) {
  V zp, zn, dzp, dzn;
  for (double s : sp) {
    double alpha = std::max(0.0, 1 + m - s);
    zp.push_back(-gamma * alpha * (s - (1 - m)));
    dzp.push_back(-gamma * (alpha - (detach || alpha == 0 ? 0.0 : s - (1 - m))));
  }
  for (double s : sn) {
    double alpha = std::max(0.0, s + m);
    zn.push_back(gamma * alpha * (s - m));
    dzn.push_back(gamma * (alpha + (detach || alpha == 0 ? 0.0 : s - m)));
  }
  double z = lse(zn) + lse(zp), outer = sigmoid_of(z);
  V wp = softmax_of(zp), wn = softmax_of(zn);
  CircleRef r{softplus_of(z), {}, {}};
  for (std::size_t i = 0; i < sp.size(); ++i) r.grad_sp.push_back(outer * wp[i] * dzp[i]);
  for (std::size_t j = 0; j < sn.size(); ++j) r.grad_sn.push_back(outer * wn[j] * dzn[j]);
  return r;
}

Matrix cosine_matrix(const Matrix& a, const Matrix& b) {
  Matrix s(a.size(), V(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) s[i][j] = dot(unit(a[i]), unit(b[j]));
  return s;
}

// d loss / d x_i from G = d loss / d cos(x_i, y_j):  Σ_j G_ij (ŷ_j - cos_ij x̂_i) / ‖x_i‖.
Matrix cosine_chain(const Matrix& x, const Matrix& y, const Matrix& g) {
  Matrix out(x.size(), V(x[0].size(), 0.0));
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = 0; j < y.size(); ++j) {
      V xu = unit(x[i]), yu = unit(y[j]);
      double c = dot(xu, yu);
      for (std::size_t k = 0; k < xu.size(); ++k) out[i][k] += g[i][j] * (yu[k] - c * xu[k]) / norm2(x[i]);
    }
  return out;
}
Matrix transposed(const Matrix& m) {
  Matrix t(m[0].size(), V(m.size()));
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t j = 0; j < m[0].size(); ++j) t[j][i] = m[i][j];
  return t;
}
// For S = cos(E, E), S_ij depends on e_i and e_j: the gradient gathers G and Gᵀ.
Matrix self_cosine_chain(const Matrix& e, const Matrix& g) {
  Matrix a = cosine_chain(e, e, g), b = cosine_chain(e, e, transposed(g));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < a[i].size(); ++k) a[i][k] += b[i][k];
  return a;
}

Tensor matrix_tensor(const Matrix& m) {
  return f64(flat(m), {static_cast<std::int64_t>(m.size()), static_cast<std::int64_t>(m[0].size())});
}

// Batch circle loss: every anchor's positives (same label, j ≠ i) and negatives; `scale` 1/N for mean.
struct BatchRef {
  double value;
  V grad;
};
BatchRef circle_batch_ref(const Matrix& e, const V& labels, double m, double gamma, double scale) {
  Matrix s = cosine_matrix(e, e), g(e.size(), V(e.size(), 0.0));
  double value = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    std::vector<std::size_t> pos, neg;
    V sp, sn;
    for (std::size_t j = 0; j < e.size(); ++j) {
      if (j != i && labels[j] == labels[i]) pos.push_back(j), sp.push_back(s[i][j]);
      if (labels[j] != labels[i]) neg.push_back(j), sn.push_back(s[i][j]);
    }
    if (pos.empty() || neg.empty()) continue;  // log(1 + empty sum) = 0
    CircleRef r = circle_ref(sp, sn, m, gamma, true);
    value += scale * r.value;
    for (std::size_t k = 0; k < pos.size(); ++k) g[i][pos[k]] += scale * r.grad_sp[k];
    for (std::size_t k = 0; k < neg.size(); ++k) g[i][neg[k]] += scale * r.grad_sn[k];
  }
  return {value, flat(self_cosine_chain(e, g))};
}

// Multi-similarity loss, eq. (8) without mining; G_ik = -e^(-α(S-λ)) / (1 + Σ_P) on positives,
// e^(β(S-λ)) / (1 + Σ_N) on negatives.
BatchRef multi_similarity_ref(const Matrix& e, const V& labels, double alpha, double beta, double base, double scale) {
  Matrix s = cosine_matrix(e, e), g(e.size(), V(e.size(), 0.0));
  double value = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    double pos_sum = 0, neg_sum = 0;
    for (std::size_t k = 0; k < e.size(); ++k) {
      if (k != i && labels[k] == labels[i]) pos_sum += std::exp(-alpha * (s[i][k] - base));
      if (labels[k] != labels[i]) neg_sum += std::exp(beta * (s[i][k] - base));
    }
    value += scale * (std::log1p(pos_sum) / alpha + std::log1p(neg_sum) / beta);
    for (std::size_t k = 0; k < e.size(); ++k) {
      if (k != i && labels[k] == labels[i]) g[i][k] = -scale * std::exp(-alpha * (s[i][k] - base)) / (1 + pos_sum);
      if (labels[k] != labels[i]) g[i][k] = scale * std::exp(beta * (s[i][k] - base)) / (1 + neg_sum);
    }
  }
  return {value, flat(self_cosine_chain(e, g))};
}

// InfoNCE: ℓ_i = lse_j(C_ij/τ) - C_ii/τ, G_ij = (softmax_ij - δ_ij) / τ.
struct PairRef {
  double value;
  V grad_a, grad_b;
};
PairRef info_nce_ref(const Matrix& q, const Matrix& k, double tau, double scale) {
  Matrix c = cosine_matrix(q, k), g(q.size(), V(k.size()));
  double value = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    V logits;
    for (double v : c[i]) logits.push_back(v / tau);
    value += scale * (lse(logits) - logits[i]);
    V p = softmax_of(logits);
    for (std::size_t j = 0; j < k.size(); ++j) g[i][j] = scale * (p[j] - (i == j ? 1.0 : 0.0)) / tau;
  }
  return {value, flat(cosine_chain(q, k, g)), flat(cosine_chain(k, q, transposed(g)))};
}

// PyTorch's cosine: x1·x2 / √((‖x1‖² + ε)(‖x2‖² + ε)), ε = float(1e-12);
// d cos / d x1 = x2 / √(AB) - cos·x1 / A.
const double kTorchEpsilon = static_cast<double>(1e-12f);
struct CosRef {
  double cos;
  V d_x1, d_x2;
};
CosRef torch_cos(const V& x1, const V& x2) {
  double a = dot(x1, x1) + kTorchEpsilon, b = dot(x2, x2) + kTorchEpsilon, root = std::sqrt(a * b);
  CosRef r{dot(x1, x2) / root, {}, {}};
  for (std::size_t i = 0; i < x1.size(); ++i) {
    r.d_x1.push_back(x2[i] / root - r.cos * x1[i] / a);
    r.d_x2.push_back(x1[i] / root - r.cos * x2[i] / b);
  }
  return r;
}

}  // namespace

// ---- the catalog rows ----

TEST(MetricCatalog, RowsDeclareNamesParametersAndReductions) {
  std::vector<std::string> names;
  for (const LossSpec& s : rows()) {
    names.push_back(s.name);
    EXPECT_EQ(s.family, "metric") << s.name;
    EXPECT_EQ(s.reductions, (std::vector<Reduction>{Reduction::None, Reduction::Mean, Reduction::Sum})) << s.name;
    EXPECT_FALSE(s.formula.empty()) << s.name;
    EXPECT_TRUE(s.inputs[0].differentiable) << s.name;
    std::vector<Tensor> in = sample(s, DType::Float64);
    ASSERT_EQ(in.size(), s.inputs.size()) << s.name;
    for (std::size_t i = 0; i < in.size(); ++i)
      EXPECT_EQ(in[i].dtype() == DType::Int64, s.inputs[i].dtype == DType::Int64) << s.name << " " << s.inputs[i].name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"contrastive_loss", "triplet_margin_loss", "circle_loss",
                                             "circle_loss_from_embeddings", "info_nce_loss", "multi_similarity_loss",
                                             "cosine_embedding_loss", "margin_ranking_loss", "unified_loss"}));
  using D = std::vector<std::pair<std::string, double>>;
  auto defaults = [](const std::string& name) {
    D d;
    for (const LossParam& p : find_loss(name).params) d.emplace_back(p.name, p.default_value);
    return d;
  };
  EXPECT_EQ(defaults("contrastive_loss"), (D{{"margin", 1.0}, {"eps", 1e-12}, {"similar_label", 1.0}, {"half", 0.0}}));
  EXPECT_EQ(defaults("unified_loss"), (D{{"m", 0.25}, {"gamma", 256.0}, {"factored", 1.0}}));
  EXPECT_EQ(defaults("triplet_margin_loss"), (D{{"margin", 1.0}, {"p", 2.0}, {"eps", 1e-6}, {"swap", 0.0}}));
  EXPECT_EQ(defaults("circle_loss"), (D{{"m", 0.25}, {"gamma", 256.0}, {"detach_weights", 1.0}}));
  EXPECT_EQ(defaults("circle_loss_from_embeddings"), defaults("circle_loss"));
  EXPECT_EQ(defaults("info_nce_loss"), (D{{"temperature", 0.1}}));
  EXPECT_EQ(defaults("multi_similarity_loss"), (D{{"alpha", 2.0}, {"beta", 50.0}, {"base", 0.5}}));
  EXPECT_EQ(defaults("cosine_embedding_loss"), (D{{"margin", 0.0}}));
  EXPECT_EQ(defaults("margin_ranking_loss"), (D{{"margin", 0.0}}));
}

// Over many generator seeds the samples keep every kink of the default parameters >= 0.05 away
// (and triplet's swap kink, d(p, n) = d(a, n)).
TEST(MetricCatalog, SamplesStayAwayFromKinks) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::vector<Tensor> c = sample(find_loss("contrastive_loss"), DType::Float64, seed);
    V d = sqrt(sum(pow(c[0] - c[1], 2.0), {1})).to_vector(), y = c[2].to_vector();
    for (std::size_t n = 0; n < d.size(); ++n) {
      if (y[n] != 0) continue;  // similar pairs have no kink
      EXPECT_GE(std::abs(d[n] - 1.0), 0.05);
    }

    std::vector<Tensor> t = sample(find_loss("triplet_margin_loss"), DType::Float64, seed);
    for (double p : {2.0, 3.0}) {
      auto dist = [p](const Tensor& a, const Tensor& b) { return pow(sum(pow(abs(a - b), p), {1}), 1.0 / p); };
      V hinge = (1.0 + dist(t[0], t[1]) - dist(t[0], t[2])).to_vector();
      V an = dist(t[0], t[2]).to_vector(), pn = dist(t[1], t[2]).to_vector();
      for (std::size_t n = 0; n < hinge.size(); ++n) {
        EXPECT_GE(std::abs(hinge[n]), 0.05);
        EXPECT_GE(std::abs(an[n] - pn[n]), 0.05);
        EXPECT_GE(std::abs(1.0 + dist(t[0], t[1]).to_vector()[n] - std::min(an[n], pn[n])), 0.05);
      }
    }

    std::vector<Tensor> s = sample(find_loss("circle_loss"), DType::Float64, seed);
    for (double v : s[0].to_vector()) EXPECT_LE(v, 1.25 - 0.05);
    for (double v : s[1].to_vector()) EXPECT_GE(v, -0.25 + 0.05);
    Tensor e = sample(find_loss("circle_loss_from_embeddings"), DType::Float64, seed)[0];
    Tensor unit_e = normalize(e, 2.0, 1);
    for (double v : mm(unit_e, unit_e, false, true).to_vector()) EXPECT_GE(v, -0.25 + 0.05);

    std::vector<Tensor> ce = sample(find_loss("cosine_embedding_loss"), DType::Float64, seed);
    V cos = (sum(ce[0] * ce[1], {1}) / sqrt(sum(ce[0] * ce[0], {1}) * sum(ce[1] * ce[1], {1}))).to_vector();
    for (double v : cos) EXPECT_GE(std::abs(v), 1e-3);

    std::vector<Tensor> mr = sample(find_loss("margin_ranking_loss"), DType::Float64, seed);
    for (double v : abs(mr[0] - mr[1]).to_vector()) EXPECT_GE(v, 0.1);
  }
}

// Both sides of each hinge are present, so the gradchecks cover the flat and the sloped part.
TEST(MetricCatalog, SamplesExerciseActiveAndInactiveHinges) {
  for (const char* name : {"triplet_margin_loss", "cosine_embedding_loss", "margin_ranking_loss"}) {
    V values = find_loss(name).call(sample(find_loss(name), DType::Float64), {}, Reduction::None).to_vector();
    EXPECT_TRUE(std::any_of(values.begin(), values.end(), [](double v) { return v == 0; })) << name;
    EXPECT_TRUE(std::any_of(values.begin(), values.end(), [](double v) { return v > 0.05; })) << name;
  }
  // contrastive: label 0 pairs inside (loss > 0) and outside (loss 0) the margin
  V values = find_loss("contrastive_loss").call(sample(find_loss("contrastive_loss"), DType::Float64), {}, Reduction::None).to_vector();
  EXPECT_GT(values[1], 0.05);
  EXPECT_EQ(values[2], 0.0);
  // batch losses: label 2 is alone, so anchor 4 has no positive (and the circle loss gives it 0)
  V circle = find_loss("circle_loss_from_embeddings")
                 .call(sample(find_loss("circle_loss_from_embeddings"), DType::Float64), {}, Reduction::None)
                 .to_vector();
  EXPECT_EQ(circle[4], 0.0);
  EXPECT_GT(*std::min_element(circle.begin(), circle.begin() + 4), 0.0);
}

TEST(MetricCatalog, GradcheckEveryRowUnderEveryReduction) {
  for (const LossSpec& s : rows())
    for (Reduction r : s.reductions) {
      SCOPED_TRACE(s.name + " " + reduction_name(r));
      std::vector<Tensor> in = sample(s, DType::Float64);
      for (std::size_t k = 0; k < in.size(); ++k)
        if (s.inputs[k].differentiable) in[k].requires_grad_();
      LossParams params = gradcheck_params(s);
      GradcheckResult result = gradcheck([&](const std::vector<Tensor>& xs) { return s.call(xs, params, r); }, in);
      EXPECT_TRUE(result.ok) << result.message;
    }
}

TEST(MetricCatalog, GradcheckNonDefaultParameters) {
  struct Case {
    const char* name;
    LossParams params;
  };
  // The samples' kinks stay away for these too: contrastive distances 0.7 and 1.5 are inside margin 2;
  // the triplet placements hold for p >= 2 with and without swap; ranking gaps are >= 0.1 > margin 0.05.
  for (const Case& c : {Case{"contrastive_loss", {{"margin", 2.0}}}, Case{"triplet_margin_loss", {{"swap", 1.0}}},
                        Case{"triplet_margin_loss", {{"p", 3.0}}}, Case{"triplet_margin_loss", {{"p", 3.0}, {"swap", 1.0}}},
                        Case{"circle_loss", {{"m", 0.1}, {"gamma", 32.0}, {"detach_weights", 0.0}}},
                        Case{"circle_loss_from_embeddings", {{"m", 0.4}, {"gamma", 80.0}, {"detach_weights", 0.0}}},
                        Case{"info_nce_loss", {{"temperature", 0.5}}},
                        Case{"multi_similarity_loss", {{"alpha", 1.0}, {"beta", 10.0}, {"base", 0.3}}},
                        Case{"margin_ranking_loss", {{"margin", 0.05}}}})
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
      const LossSpec& s = find_loss(c.name);
      SCOPED_TRACE(s.name + " " + reduction_name(r));
      std::vector<Tensor> in = sample(s, DType::Float64, 11);
      for (std::size_t k = 0; k < in.size(); ++k)
        if (s.inputs[k].differentiable) in[k].requires_grad_();
      GradcheckResult result = gradcheck([&](const std::vector<Tensor>& xs) { return s.call(xs, c.params, r); }, in);
      EXPECT_TRUE(result.ok) << result.message;
    }
}

TEST(MetricCatalog, CallPassesParametersAndRefusesUnknownOnes) {
  std::vector<Tensor> in = sample(find_loss("triplet_margin_loss"), DType::Float64);
  EXPECT_EQ(find_loss("triplet_margin_loss").call(in, {{"margin", 0.3}, {"swap", 1}}, Reduction::Sum).item(),
            triplet_margin_loss(in[0], in[1], in[2], {.margin = 0.3, .swap = true, .reduction = Reduction::Sum}).item());
  std::string e = error_of([&] { find_loss("triplet_margin_loss").call(in, {{"margn", 2.0}}, Reduction::Mean); });
  EXPECT_CONTAINS(e, "triplet_margin_loss: unknown parameter \"margn\"");
  EXPECT_CONTAINS(e, "its parameters: margin, p, eps, swap");
  EXPECT_CONTAINS(error_of([&] { find_loss("triplet_margin_loss").call(in, {{"swap", 0.5}}, Reduction::Mean); }),
                  "triplet_margin_loss: swap: expected 0 or 1, got 0.5");
  EXPECT_CONTAINS(error_of([&] { find_loss("triplet_margin_loss").call({in[0], in[1]}, {}, Reduction::Mean); }),
                  "triplet_margin_loss: expects 3 input tensors, got 2");
  std::vector<Tensor> s = sample(find_loss("circle_loss"), DType::Float64);
  EXPECT_EQ(find_loss("circle_loss").call(s, {{"gamma", 80}}, Reduction::None).to_vector(),
            circle_loss(s[0], s[1], {.gamma = 80, .reduction = Reduction::None}).to_vector());
}

// ---- reference values and gradients, float64, to 1e-10 ----

TEST(ContrastiveLoss, ReferenceValues) {
  // One dissimilar pair inside margin 2: (2 - d)², d = √(‖x1 - x2‖² + 1e-12); d/dx1 = -2(2 - d)(x1 - x2)/d
  V x1{1, 2}, x2{1.5, 1};
  double d = std::sqrt(1.25 + 1e-12);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return contrastive_loss(t[0], t[1], f64({0}, {1}), {.margin = 2.0, .reduction = Reduction::Sum});
      },
      {f64(x1, {1, 2}), f64(x2, {1, 2})});
  EXPECT_NEAR(a.value, (2 - d) * (2 - d), 1e-10);
  double k = -2 * (2 - d) / d;
  expect_all_near(a.grads[0], {k * -0.5, k * 1.0}, 1e-10);
  expect_all_near(a.grads[1], {-k * -0.5, -k * 1.0}, 1e-10);

  // A similar pair (‖x1 - x2‖² = 1.25, gradient 2(x1 - x2)) and a dissimilar pair at d ≈ 2.83 > 1
  // (no loss, no gradient); mean over 2.
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) { return contrastive_loss(t[0], t[1], f64({1, 0}, {2})); },
      {f64({0, 1, 2, 1, 1, 1}, {2, 3}), f64({0.5, 1, 1, 3, -1, 1}, {2, 3})});
  EXPECT_NEAR(b.value, 1.25 / 2, 1e-10);
  expect_all_near(b.grads[0], {-0.5, 0, 1, 0, 0, 0}, 1e-10);
  expect_all_near(b.grads[1], {0.5, 0, -1, 0, 0, 0}, 1e-10);
}

TEST(TripletMarginLoss, ReferenceValues) {
  // F.triplet_margin_loss(a, p, n): max(0, 1 + ‖a - p + 1e-6‖ - ‖a - n + 1e-6‖);
  // d/da = u_p - u_n, d/dp = -u_p, d/dn = u_n with u = v / ‖v‖.
  V a{0.5, -1, 2}, p{1, -1.5, 2.5}, n{0, 0, 1};
  V vp = shifted_difference(a, p, 1e-6), vn = shifted_difference(a, n, 1e-6);
  double hinge = 1 + norm2(vp) - norm2(vn);
  ASSERT_GT(hinge, 0.1);
  ValueAndGrads r = value_and_grads(
      [](const std::vector<Tensor>& t) { return triplet_margin_loss(t[0], t[1], t[2]); },
      {f64(a, {1, 3}), f64(p, {1, 3}), f64(n, {1, 3})});
  EXPECT_NEAR(r.value, hinge, 1e-10);
  V up = pnorm_grad(vp, 2), un = pnorm_grad(vn, 2);
  expect_all_near(r.grads[0], {up[0] - un[0], up[1] - un[1], up[2] - un[2]}, 1e-10);
  expect_all_near(r.grads[1], {-up[0], -up[1], -up[2]}, 1e-10);
  expect_all_near(r.grads[2], un, 1e-10);

  // F.triplet_margin_loss(a, p, n, p=3, swap=True, reduction='sum'). Row 0: d(p, n) < d(a, n), so
  // the loss is 1 + d(a, p) - d(p, n): d/da = g_ap, d/dp = -g_ap - g_pn, d/dn = g_pn (g = ∂‖v‖_3/∂v).
  // Row 1: 1 + d(a, p) - min(d(a, n), d(p, n)) < 0, no loss.
  V a0{0, 0}, p0{0.3, 0.1}, n0{0.5, 0.4};
  V vap = shifted_difference(a0, p0, 1e-6), van = shifted_difference(a0, n0, 1e-6), vpn = shifted_difference(p0, n0, 1e-6);
  ASSERT_LT(pnorm(vpn, 3), pnorm(van, 3));
  ValueAndGrads s = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return triplet_margin_loss(t[0], t[1], t[2], {.p = 3, .swap = true, .reduction = Reduction::Sum});
      },
      {f64({0, 0, 1, 1}, {2, 2}), f64({0.3, 0.1, 1.5, 0.5}, {2, 2}), f64({0.5, 0.4, 3, 3}, {2, 2})});
  EXPECT_NEAR(s.value, 1 + pnorm(vap, 3) - pnorm(vpn, 3), 1e-10);
  V gap = pnorm_grad(vap, 3), gpn = pnorm_grad(vpn, 3);
  expect_all_near(s.grads[0], {gap[0], gap[1], 0, 0}, 1e-10);
  expect_all_near(s.grads[1], {-gap[0] - gpn[0], -gap[1] - gpn[1], 0, 0}, 1e-10);
  expect_all_near(s.grads[2], {gpn[0], gpn[1], 0, 0}, 1e-10);
}

TEST(CircleLoss, ReferenceValues) {
  // Eq. (6) at γ = 2, one anchor: ℓ = softplus(lse(z_n) + lse(z_p)); with α detached
  // dℓ/ds_p^i = σ(Z)·softmax(z_p)_i·(-γα_p^i), dℓ/ds_n^j = σ(Z)·softmax(z_n)_j·γα_n^j.
  V sp{0.8, 0.6}, sn{0.3, -0.1, 0.5};
  CircleRef ref = circle_ref(sp, sn, 0.25, 2.0, true);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return circle_loss(t[0], t[1], {.gamma = 2.0}); },
      {f64(sp, {1, 2}), f64(sn, {1, 3})});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad_sp, 1e-10);
  expect_all_near(a.grads[1], ref.grad_sn, 1e-10);

  // The default γ = 256, m = 0.25, two anchors, mean: each row's reference halved.
  Matrix sp2{{0.9, 0.7}, {0.5, 0.95}}, sn2{{0.1, 0.4}, {-0.2, 0.2}};
  ValueAndGrads b = value_and_grads([](const std::vector<Tensor>& t) { return circle_loss(t[0], t[1]); },
                                    {matrix_tensor(sp2), matrix_tensor(sn2)});
  double value = 0;
  V grad_sp, grad_sn;
  for (std::size_t n = 0; n < 2; ++n) {
    CircleRef r = circle_ref(sp2[n], sn2[n], 0.25, 256.0, true);
    value += r.value / 2;
    for (double g : r.grad_sp) grad_sp.push_back(g / 2);
    for (double g : r.grad_sn) grad_sn.push_back(g / 2);
  }
  ASSERT_GT(value, 10.0);
  EXPECT_NEAR(b.value, value, 1e-10);
  expect_all_near(b.grads[0], grad_sp, 1e-10);
  expect_all_near(b.grads[1], grad_sn, 1e-10);
}

TEST(CircleLoss, ReferenceGradientWithWeightsDifferentiated) {
  // detach_weights = false: dz_p/ds_p = -γ(α_p - (s_p - Δ_p)), dz_n/ds_n = γ(α_n + (s_n - Δ_n)).
  V sp{0.8, 0.6}, sn{0.3, -0.1, 0.5};
  CircleRef ref = circle_ref(sp, sn, 0.25, 2.0, false);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return circle_loss(t[0], t[1], {.gamma = 2.0, .detach_weights = false}); },
      {f64(sp, {1, 2}), f64(sn, {1, 3})});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad_sp, 1e-10);
  expect_all_near(a.grads[1], ref.grad_sn, 1e-10);
}

// The paper's gradient (α detached) is not the derivative of the value, so finite differences of
// the loss disagree with it; the same value with α differentiated passes (see the row gradchecks).
TEST(CircleLoss, DetachedGradientIsNotTheDerivative) {
  std::vector<Tensor> in = sample(find_loss("circle_loss"), DType::Float64);
  for (Tensor& t : in) t.requires_grad_();
  auto loss = [](bool detach) {
    return [detach](const std::vector<Tensor>& x) { return circle_loss(x[0], x[1], {.gamma = 8.0, .detach_weights = detach}); };
  };
  EXPECT_FALSE(gradcheck(loss(true), in).ok);
  EXPECT_TRUE(gradcheck(loss(false), in).ok);
  EXPECT_EQ(loss(true)(in).item(), loss(false)(in).item());
}

TEST(CircleLossFromEmbeddings, ReferenceValues) {
  // Labels {0, 0, 1}: anchors 0 and 1 have one positive and one negative; anchor 2 has no positive
  // (ℓ = 0). S = cosines; dℓ/dS from eq. (6), then through S_ij = ê_i·ê_j. γ = 4, mean over 3.
  Matrix e{{1, 0.5}, {0.8, 1}, {-0.3, 1}};
  BatchRef ref = circle_batch_ref(e, {0, 0, 1}, 0.25, 4.0, 1.0 / 3);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return circle_loss_from_embeddings(t[0], ids({0, 0, 1}), {.gamma = 4.0}); },
      {matrix_tensor(e)});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad, 1e-10);

  // Four anchors in 3-D, labels {0, 1, 0, 1}, m = 0.4, γ = 80, sum.
  Matrix e2{{1, 0.2, -0.4}, {0.1, 1.2, 0.3}, {0.7, -0.1, -0.2}, {-0.3, 0.9, 0.6}};
  BatchRef ref2 = circle_batch_ref(e2, {0, 1, 0, 1}, 0.4, 80.0, 1.0);
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return circle_loss_from_embeddings(t[0], ids({0, 1, 0, 1}), {.m = 0.4, .gamma = 80.0, .reduction = Reduction::Sum});
      },
      {matrix_tensor(e2)});
  EXPECT_NEAR(b.value, ref2.value, 1e-10);
  expect_all_near(b.grads[0], ref2.grad, 1e-10);
}

TEST(CircleLossFromEmbeddings, EqualsCircleLossOnGatheredScores) {
  // Labels {0, 0, 1, 1}: every anchor has one positive and two negatives, so its row of the batch
  // form is circle_loss of the gathered cosines.
  Tensor e = sample(find_loss("info_nce_loss"), DType::Float64)[0];  // (4, 3)
  Tensor unit_e = normalize(e, 2.0, 1);
  Tensor s = mm(unit_e, unit_e, false, true);
  Tensor sp = gather(s, 1, tensor({1, 0, 3, 2}, {4, 1}, DType::Int64));
  Tensor sn = gather(s, 1, tensor({2, 3, 2, 3, 0, 1, 0, 1}, {4, 2}, DType::Int64));
  for (bool detach : {true, false}) {
    CircleLossOptions o{.gamma = 64.0, .detach_weights = detach, .reduction = Reduction::None};
    expect_all_near(circle_loss_from_embeddings(e, ids({0, 0, 1, 1}), o).to_vector(), circle_loss(sp, sn, o).to_vector(),
                    1e-12);
  }
}

TEST(InfoNCELoss, ReferenceValues) {
  // cross_entropy(normalize(q) @ normalize(k).T / τ, arange(N)); τ = 0.5, mean over 2.
  Matrix q{{1, 0.5}, {-0.3, 2}}, k{{0.8, 0.2}, {0.1, -1}};
  PairRef ref = info_nce_ref(q, k, 0.5, 0.5);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return info_nce_loss(t[0], t[1], {.temperature = 0.5}); },
      {matrix_tensor(q), matrix_tensor(k)});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad_a, 1e-10);
  expect_all_near(a.grads[1], ref.grad_b, 1e-10);

  // The default τ = 0.1, N = 3 in 3-D, sum.
  Matrix q2{{1, 0.2, -0.4}, {0.1, 1.2, 0.3}, {0.7, -0.1, -0.2}}, k2{{0.9, 0.1, -0.3}, {-0.3, 0.9, 0.6}, {0.2, 0.2, 1}};
  PairRef ref2 = info_nce_ref(q2, k2, 0.1, 1.0);
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) { return info_nce_loss(t[0], t[1], {.reduction = Reduction::Sum}); },
      {matrix_tensor(q2), matrix_tensor(k2)});
  EXPECT_NEAR(b.value, ref2.value, 1e-10);
  expect_all_near(b.grads[0], ref2.grad_a, 1e-10);
  expect_all_near(b.grads[1], ref2.grad_b, 1e-10);
}

TEST(MultiSimilarityLoss, ReferenceValues) {
  // Eq. (8) without mining, defaults α = 2, β = 50, λ = 0.5; labels {0, 0, 1}: anchor 2 has no
  // positive (its pull term is log(1 + 0) = 0); mean over 3.
  Matrix e{{1, 0.5}, {0.8, 1}, {-0.3, 1}};
  BatchRef ref = multi_similarity_ref(e, {0, 0, 1}, 2, 50, 0.5, 1.0 / 3);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return multi_similarity_loss(t[0], ids({0, 0, 1})); }, {matrix_tensor(e)});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad, 1e-10);

  // α = 1, β = 10, λ = 0.3, labels {0, 1, 0, 2}, sum.
  Matrix e2{{1, 0.2, -0.4}, {0.1, 1.2, 0.3}, {0.7, -0.1, -0.2}, {-0.3, 0.9, 0.6}};
  BatchRef ref2 = multi_similarity_ref(e2, {0, 1, 0, 2}, 1, 10, 0.3, 1.0);
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return multi_similarity_loss(t[0], ids({0, 1, 0, 2}),
                                     {.alpha = 1, .beta = 10, .base = 0.3, .reduction = Reduction::Sum});
      },
      {matrix_tensor(e2)});
  EXPECT_NEAR(b.value, ref2.value, 1e-10);
  expect_all_near(b.grads[0], ref2.grad, 1e-10);
}

TEST(CosineEmbeddingLoss, ReferenceValues) {
  // F.cosine_embedding_loss(x1, x2, tensor([1, -1]), margin=0.1): [1 - cos_0, max(0, cos_1 - 0.1)], mean.
  V a0{1, 2, 2}, b0{2, 0, 1}, a1{0.5, -1, 1}, b1{1, -0.5, 2};
  CosRef c0 = torch_cos(a0, b0), c1 = torch_cos(a1, b1);
  ASSERT_GT(c1.cos, 0.2);
  ValueAndGrads r = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return cosine_embedding_loss(t[0], t[1], f64({1, -1}, {2}), {.margin = 0.1});
      },
      {f64({1, 2, 2, 0.5, -1, 1}, {2, 3}), f64({2, 0, 1, 1, -0.5, 2}, {2, 3})});
  EXPECT_NEAR(r.value, ((1 - c0.cos) + (c1.cos - 0.1)) / 2, 1e-10);
  expect_all_near(r.grads[0], {-c0.d_x1[0] / 2, -c0.d_x1[1] / 2, -c0.d_x1[2] / 2, c1.d_x1[0] / 2, c1.d_x1[1] / 2,
                               c1.d_x1[2] / 2}, 1e-10);
  expect_all_near(r.grads[1], {-c0.d_x2[0] / 2, -c0.d_x2[1] / 2, -c0.d_x2[2] / 2, c1.d_x2[0] / 2, c1.d_x2[1] / 2,
                               c1.d_x2[2] / 2}, 1e-10);

  // Unbatched: inputs (D), target () = -1, margin -0.5: max(0, cos + 0.5) with cos ≈ -0.2.
  V x1{1, 0, 1}, x2{-1, 1, 0.5};
  CosRef c = torch_cos(x1, x2);
  ValueAndGrads u = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return cosine_embedding_loss(t[0], t[1], scalar(-1.0, DType::Float64), {.margin = -0.5});
      },
      {f64(x1, {3}), f64(x2, {3})});
  EXPECT_NEAR(u.value, c.cos + 0.5, 1e-10);
  expect_all_near(u.grads[0], c.d_x1, 1e-10);
  expect_all_near(u.grads[1], c.d_x2, 1e-10);
}

// PyTorch's EPSILON is the float 1e-12f: for x1 = x2 = (1e-6, 0), cos = 1e-12 / (1e-12 + ε) is
// 0.50000000010 with it, and exactly 0.5 with a double 1e-12.
TEST(CosineEmbeddingLoss, UsesPyTorchsFloatEpsilon) {
  Tensor x = f64({1e-6, 0}, {2});
  double loss = cosine_embedding_loss(x, x, scalar(1.0, DType::Float64)).item();
  EXPECT_NEAR(loss, 1 - 1e-12 / (1e-12 + kTorchEpsilon), 1e-15);
  EXPECT_GT(std::abs(loss - 0.5), 5e-11);
}

TEST(MarginRankingLoss, ReferenceValues) {
  // F.margin_ranking_loss(x1, x2, y, margin=0.1): max(0, -y(x1 - x2) + 0.1) = [0.3, 0], mean;
  // d/dx1 = -y·[active] / 2, d/dx2 = y·[active] / 2.
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return margin_ranking_loss(t[0], t[1], f64({1, -1}, {2}), {.margin = 0.1}); },
      {f64({0.3, -1}, {2}), f64({0.5, 0.2}, {2})});
  EXPECT_NEAR(a.value, 0.15, 1e-10);
  expect_all_near(a.grads[0], {-0.5, 0}, 1e-10);
  expect_all_near(a.grads[1], {0.5, 0}, 1e-10);

  // (2, 2) inputs, margin 0, sum: -y(x1 - x2) = [-0.5, 1.5, 0.25, -2]
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return margin_ranking_loss(t[0], t[1], f64({1, -1, -1, 1}, {2, 2}), {.reduction = Reduction::Sum});
      },
      {f64({1, 2, 1.25, 3}, {2, 2}), f64({0.5, 0.5, 1, 1}, {2, 2})});
  EXPECT_NEAR(b.value, 1.5 + 0.25, 1e-10);
  expect_all_near(b.grads[0], {0, 1, 1, 0}, 1e-10);
  expect_all_near(b.grads[1], {0, -1, -1, 0}, 1e-10);
}

// ---- properties ----

TEST(MetricProperties, ZeroAtAPerfectPrediction) {
  // contrastive: a similar pair at distance 0 and a dissimilar pair beyond the margin; gradient 0 too
  Tensor x1 = f64({1, 2, 0, 0}, {2, 2}).requires_grad_(), x2 = f64({1, 2, 3, 0}, {2, 2}).requires_grad_();
  Tensor c = contrastive_loss(x1, x2, f64({1, 0}, {2}));
  c.backward();
  EXPECT_EQ(c.item(), 0.0);
  EXPECT_EQ(x1.grad().to_vector(), (V{0, 0, 0, 0}));
  EXPECT_EQ(x2.grad().to_vector(), (V{0, 0, 0, 0}));
  // triplet: the negative farther than the positive by more than the margin
  EXPECT_EQ(triplet_margin_loss(f64({0, 0}, {1, 2}), f64({0.5, 0}, {1, 2}), f64({0, 2}, {1, 2})).item(), 0.0);
  // ranking: correctly ordered by more than the margin
  EXPECT_EQ(margin_ranking_loss(f64({2, -1}, {2}), f64({1, 0}, {2}), f64({1, -1}, {2}), {.margin = 0.5}).item(), 0.0);
  // cosine embedding: parallel similar pair (1 - cos is 0 up to PyTorch's ε), orthogonal dissimilar pair
  EXPECT_NEAR(cosine_embedding_loss(f64({1, 2, 0, 1}, {2, 2}), f64({2, 4, 1, 0}, {2, 2}), f64({1, -1}, {2})).item(), 0.0,
              1e-12);
  // circle, InfoNCE and multi-similarity are log(1 + Σ e^·) or a cross-entropy: positive everywhere, no zero.
}

TEST(MetricProperties, ReductionsAgreeAndNoneGivesOneValuePerItem) {
  for (const LossSpec& s : rows())
    for (std::uint64_t seed : {1, 2, 3}) {
      SCOPED_TRACE(s.name);
      std::vector<Tensor> in = sample(s, DType::Float64, seed);
      Tensor none = s.call(in, {}, Reduction::None);
      EXPECT_EQ(none.shape(), (Shape{in[0].size(0)}));
      double mean = s.call(in, {}, Reduction::Mean).item(), total = s.call(in, {}, Reduction::Sum).item();
      EXPECT_NEAR(total, mean * static_cast<double>(in[0].size(0)), 1e-10 * (1 + std::abs(total)));
      EXPECT_NEAR(total, sum(none).item(), 1e-10 * (1 + std::abs(total)));
      EXPECT_EQ(s.call(in, {}, Reduction::Sum).dim(), 0);
    }
  // Unbatched inputs: one triplet (D) or one cosine pair (D) gives a scalar under none.
  Tensor a = f64({0, 1}, {2}), p = f64({0.5, 1}, {2}), n = f64({2, 2}, {2});
  EXPECT_EQ(triplet_margin_loss(a, p, n, {.reduction = Reduction::None}).dim(), 0);
  EXPECT_EQ(cosine_embedding_loss(a, p, scalar(1.0, DType::Float64), {.reduction = Reduction::None}).dim(), 0);
  // margin_ranking_loss keeps the input's shape
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(margin_ranking_loss(x, x * 0.5, ones({2, 3}, DType::Float64), {.reduction = Reduction::None}).shape(),
            (Shape{2, 3}));
}

TEST(MetricProperties, Float32MatchesFloat64OnTheSamples) {
  for (const LossSpec& s : rows())
    for (std::uint64_t seed : {7, 8}) {
      SCOPED_TRACE(s.name);
      Tensor single = s.call(sample(s, DType::Float32, seed), {}, Reduction::None);
      Tensor twice = s.call(sample(s, DType::Float64, seed), {}, Reduction::None);
      EXPECT_EQ(single.dtype(), DType::Float32);
      EXPECT_EQ(twice.dtype(), DType::Float64);
      V a = single.to_vector(), b = twice.to_vector();
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * std::abs(b[i]) + 1e-7) << i;
    }
}

// Zero embeddings have cosine 0 with everything (F.normalize's max(‖x‖, 1e-12)): finite values, and
// gradients that are large (up to 1/1e-12 times the upstream) but finite, in float32 too.
TEST(MetricProperties, ZeroNormEmbeddingsGiveFiniteLossAndGradient) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    SCOPED_TRACE(dtype_name(dt));
    auto check = [](const Tensor& loss, const std::vector<Tensor>& leaves) {
      ASSERT_TRUE(all_finite(loss));
      loss.backward();
      for (const Tensor& t : leaves) EXPECT_TRUE(all_finite(t.grad()));
    };
    Tensor q = tensor({0, 0, 0, 1, 2, 3, 0.5, -1, 0}, {3, 3}, dt).requires_grad_();
    Tensor k = tensor({1, 0, 0, 0, 0, 0, 0, 1, 1}, {3, 3}, dt).requires_grad_();
    Tensor nce = info_nce_loss(q, k, {.reduction = Reduction::None});
    EXPECT_NEAR(nce.to_vector()[0], std::log(3.0), 1e-6);  // a zero query: all logits 0
    check(sum(nce), {q, k});

    Tensor e = tensor({0, 0, 0, 1, 2, 3, 0.5, -1, 0, 0, 0, 0}, {4, 3}, dt).requires_grad_();
    check(circle_loss_from_embeddings(e, ids({0, 0, 1, 1})), {e});
    e.set_grad(Tensor());
    check(multi_similarity_loss(e, ids({0, 0, 1, 1})), {e});

    Tensor x1 = tensor({0, 0, 0, 0, 1, 2}, {2, 3}, dt).requires_grad_();
    Tensor x2 = tensor({0, 0, 0, 0, 0, 0}, {2, 3}, dt).requires_grad_();
    Tensor cel = cosine_embedding_loss(x1, x2, tensor({1, -1}, {2}, dt), {.margin = -0.5, .reduction = Reduction::None});
    EXPECT_EQ(cel.to_vector(), (V{1.0, 0.5}));  // cos = 0: 1 - 0 and max(0, 0 + 0.5)
    check(sum(cel), {x1, x2});
  }
}

TEST(MetricProperties, IdenticalPairsGiveFiniteLossAndGradient) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    SCOPED_TRACE(dtype_name(dt));
    // contrastive at distance 0: similar → 0; dissimilar → (margin - √eps)², gradient 0 (the smooth
    // distance's gradient vanishes at 0 instead of being 0/0)
    Tensor x1 = tensor({1, 2, 3, 1, 2, 3}, {2, 3}, dt).requires_grad_(), x2 = tensor({1, 2, 3, 1, 2, 3}, {2, 3}, dt);
    Tensor c = contrastive_loss(x1, x2, tensor({1, 0}, {2}, dt), {.reduction = Reduction::None});
    EXPECT_EQ(c.to_vector()[0], 0.0);
    EXPECT_NEAR(c.to_vector()[1], (1 - 1e-6) * (1 - 1e-6), 1e-6);
    sum(c).backward();
    EXPECT_EQ(x1.grad().to_vector(), (V(6, 0.0)));

    // triplet with a = p = n: ℓ = margin; d/da = u - u = 0, d/dp = -u, d/dn = u with u = eps·1/‖eps·1‖
    Tensor a = tensor({0.5, -2}, {1, 2}, dt).requires_grad_(), p = tensor({0.5, -2}, {1, 2}, dt).requires_grad_(),
           n = tensor({0.5, -2}, {1, 2}, dt).requires_grad_();
    Tensor t = triplet_margin_loss(a, p, n);
    EXPECT_NEAR(t.item(), 1.0, 1e-6);
    t.backward();
    expect_all_near(a.grad().to_vector(), {0, 0}, 1e-6);
    expect_all_near(p.grad().to_vector(), {-std::sqrt(0.5), -std::sqrt(0.5)}, 1e-3);
    expect_all_near(n.grad().to_vector(), {std::sqrt(0.5), std::sqrt(0.5)}, 1e-3);

    // triplet with eps = 0 and a = p: the distance is 0 and its gradient is taken as 0, not 0·∞
    Tensor a0 = tensor({1, 1}, {1, 2}, dt).requires_grad_();
    Tensor t0 = triplet_margin_loss(a0, tensor({1, 1}, {1, 2}, dt), tensor({2, 1}, {1, 2}, dt), {.margin = 2, .eps = 0});
    EXPECT_NEAR(t0.item(), 1.0, 1e-6);
    t0.backward();
    expect_all_near(a0.grad().to_vector(), {1, 0}, 1e-6);  // only -d(a, n) moves: d/da = -(a - n)/‖a - n‖

    // InfoNCE with query = key
    Tensor q = tensor({1, 0, 0, 1}, {2, 2}, dt).requires_grad_();
    Tensor nce = info_nce_loss(q, q);
    EXPECT_NEAR(nce.item(), std::log1p(std::exp(-10.0)), 1e-6);  // logits 10 on the diagonal, 0 off it
    nce.backward();
    EXPECT_TRUE(all_finite(q.grad()));
  }
}

// γ = 256 (the default) and beyond at the worst scores, s_p = -1 and s_n = 1: the logits reach
// γ·2.25·1.75 and γ·1.25·0.75, far beyond exp's range, yet loss and gradient are finite and exact.
TEST(MetricProperties, CircleLossIsFiniteAtLargeScales) {
  for (double gamma : {256.0, 4096.0})
    for (DType dt : {DType::Float64, DType::Float32}) {
      SCOPED_TRACE(std::to_string(gamma) + " " + dtype_name(dt));
      Tensor sp = tensor({-1, -1}, {1, 2}, dt).requires_grad_(), sn = tensor({1, 1, 1}, {1, 3}, dt).requires_grad_();
      Tensor loss = circle_loss(sp, sn, {.gamma = gamma});
      // Z = log 3 + γ·1.25·0.75 + log 2 + γ·2.25·1.75; softplus(Z) = Z + log1p(e^-Z) = Z
      double z = std::log(6.0) + gamma * (1.25 * 0.75 + 2.25 * 1.75);
      EXPECT_NEAR(loss.item(), z, (dt == DType::Float64 ? 1e-12 : 1e-6) * z);
      loss.backward();
      // σ(Z) = 1 and uniform softmax: dℓ/ds_p = -γ·2.25/2, dℓ/ds_n = γ·1.25/3. float32 rounds each
      // logsumexp y (≈ Z/2) to its ulp, which e^(x - y) turns into a relative error of about 1e-7·y:
      // 3e-5 at γ = 256, 1e-3 at γ = 4096.
      double relative = dt == DType::Float64 ? 1e-12 : 1e-7 * z;
      expect_all_near(sp.grad().to_vector(), {-gamma * 2.25 / 2, -gamma * 2.25 / 2}, relative * gamma);
      expect_all_near(sn.grad().to_vector(), V(3, gamma * 1.25 / 3), relative * gamma);
    }
  // The batch forms with antipodal positives and identical negatives, and β = 1e4 in multi-similarity.
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor e = tensor({1, 0, -1, 0, -1, 1e-3, 1, 1e-3}, {4, 2}, dt).requires_grad_();
    Tensor circle = circle_loss_from_embeddings(e, ids({0, 0, 1, 1}));
    ASSERT_TRUE(all_finite(circle));
    EXPECT_GT(circle.item(), 1000.0);
    circle.backward();
    EXPECT_TRUE(all_finite(e.grad()));
    e.set_grad(Tensor());
    Tensor ms = multi_similarity_loss(e, ids({0, 0, 1, 1}), {.beta = 1e4});
    ASSERT_TRUE(all_finite(ms));
    ms.backward();
    EXPECT_TRUE(all_finite(e.grad()));
  }
}

// An anchor without positives or without negatives has an empty sum: loss exactly 0, gradient 0,
// and no inf anywhere, so anomaly mode (which stops at the first non-finite op output) stays quiet.
TEST(MetricProperties, AnchorsWithoutPairsGiveZeroUnderAnomalyMode) {
  DetectAnomalyGuard anomaly;
  for (const V& labels : {V{0, 1, 2}, V{5, 5, 5}}) {
    Tensor e = f64({1, 0.5, 0.8, 1, -0.3, 1}, {3, 2}).requires_grad_();
    Tensor circle = circle_loss_from_embeddings(e, ids(labels), {.reduction = Reduction::None});
    EXPECT_EQ(circle.to_vector(), (V{0, 0, 0}));
    sum(circle).backward();
    EXPECT_EQ(e.grad().to_vector(), (V(6, 0.0)));
  }
  // multi-similarity keeps the other term: all labels distinct leaves only the push term
  Tensor e = f64({1, 0.5, 0.8, 1, -0.3, 1}, {3, 2}).requires_grad_();
  Tensor ms = multi_similarity_loss(e, ids({0, 1, 2}), {.reduction = Reduction::Sum});
  BatchRef ref = multi_similarity_ref({{1, 0.5}, {0.8, 1}, {-0.3, 1}}, {0, 1, 2}, 2, 50, 0.5, 1.0);
  EXPECT_NEAR(ms.item(), ref.value, 1e-10);
  ms.backward();
  expect_all_near(e.grad().to_vector(), ref.grad, 1e-10);
}

// ---- errors ----

TEST(MetricErrors, BadShapesLabelsAndParametersAreRefused) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}), y = f64({1, 0}, {2});
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(f64({1, 2}, {2}), f64({1, 2}, {2}), f64({1}, {1})); }),
                  "contrastive_loss: x1 must be (N, D), one embedding per row, got shape [2]");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, f64({1, 2, 3}, {1, 3}), y); }),
                  "contrastive_loss: x1 and x2 must have the same shape, got [2, 3] and [1, 3]");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, f64({1}, {1})); }),
                  "contrastive_loss: label must be (N) with N = 2 (one per pair), got shape [1]");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, f64({1, -1}, {2})); }),
                  "contrastive_loss: label must hold 0/1 labels, got -1 at position 1; 1 = similar pair");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, y, {.margin = -1}); }),
                  "contrastive_loss: margin must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, y, {.eps = 0}); }), "contrastive_loss: eps must be positive");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, y, {.reduction = Reduction::BatchMean}); }),
                  "contrastive_loss: reduction batchmean is not defined for this loss");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x.to(DType::Int64), x, y); }),
                  "contrastive_loss: x1 must be float32 or float64, got int64");

  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, f64({1, 2}, {2})); }),
                  "triplet_margin_loss: anchor and negative must have the same shape, got [2, 3] and [2]");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(reshape(x, {1, 2, 3}), reshape(x, {1, 2, 3}), reshape(x, {1, 2, 3})); }),
                  "triplet_margin_loss: anchor must be (N, D) or (D), got shape [1, 2, 3]");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, x, {.p = 0}); }),
                  "triplet_margin_loss: p must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, x, {.eps = -1}); }),
                  "triplet_margin_loss: eps must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, x, {.margin = NAN}); }),
                  "triplet_margin_loss: margin must be finite, got nan");

  Tensor sp = f64({0.5, 0.6}, {1, 2}), sn = f64({0.1, 0.2, 0.3}, {1, 3});
  EXPECT_CONTAINS(error_of([&] { circle_loss(f64({0.5, 0.6}, {2}), sn); }),
                  "circle_loss: expected sp (N, K) and sn (N, L) with K, L >= 1, one row of positive and negative "
                  "scores per anchor, got [2] and [1, 3]");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, f64({0.1, 0.2}, {2, 1})); }), "got [1, 2] and [2, 1]");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, zeros({1, 0}, DType::Float64)); }), "with K, L >= 1");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, sn, {.gamma = 0}); }), "circle_loss: gamma must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, sn, {.m = INFINITY}); }), "circle_loss: m must be finite, got inf");
  EXPECT_CONTAINS(error_of([&] { circle_loss_from_embeddings(x, f64({0, 1}, {2})); }),
                  "circle_loss_from_embeddings: labels must hold int64 class ids, got float64");
  EXPECT_CONTAINS(error_of([&] { circle_loss_from_embeddings(x, ids({0, 1, 1})); }),
                  "circle_loss_from_embeddings: labels must be (N) with N = 2 (one per embedding), got shape [3]");
  EXPECT_CONTAINS(error_of([&] { circle_loss_from_embeddings(x, ids({0, 1}), {.gamma = -1}); }),
                  "circle_loss_from_embeddings: gamma must be positive and finite, got -1");

  EXPECT_CONTAINS(error_of([&] { info_nce_loss(x, x, {.temperature = 0}); }),
                  "info_nce_loss: temperature must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { info_nce_loss(x, f64({1, 2}, {1, 2})); }),
                  "info_nce_loss: query and key must have the same shape, got [2, 3] and [1, 2]");
  EXPECT_CONTAINS(error_of([&] { info_nce_loss(x, x, {.reduction = Reduction::BatchMean}); }),
                  "info_nce_loss: reduction batchmean");

  EXPECT_CONTAINS(error_of([&] { multi_similarity_loss(x, ids({0, 1}), {.alpha = 0}); }),
                  "multi_similarity_loss: alpha must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { multi_similarity_loss(x, ids({0, 1}), {.beta = -2}); }),
                  "multi_similarity_loss: beta must be positive and finite, got -2");
  EXPECT_CONTAINS(error_of([&] { multi_similarity_loss(f64({1, 2}, {2}), ids({0, 1})); }),
                  "multi_similarity_loss: embeddings must be (N, D)");

  EXPECT_CONTAINS(error_of([&] { cosine_embedding_loss(x, x, f64({1, 0}, {2})); }),
                  "cosine_embedding_loss: target must hold 1/-1 labels, got 0 at position 1; map 0/1 labels with 2·y - 1");
  EXPECT_CONTAINS(error_of([&] { cosine_embedding_loss(x, x, f64({1, 1, 1}, {3})); }),
                  "cosine_embedding_loss: expected inputs (N, D) with target (N), or inputs (D) with target (), got "
                  "[2, 3] and target [3]");
  EXPECT_CONTAINS(error_of([&] { cosine_embedding_loss(f64({1, 2}, {2}), f64({1, 2}, {2}), f64({1}, {1})); }),
                  "got [2] and target [1]");

  EXPECT_CONTAINS(error_of([&] { margin_ranking_loss(y, y, f64({1, 0.5}, {2})); }),
                  "margin_ranking_loss: target must hold 1/-1 labels, got 0.5 at position 1");
  EXPECT_CONTAINS(error_of([&] { margin_ranking_loss(y, f64({1}, {1}), y); }),
                  "margin_ranking_loss: input1 and input2 must have the same shape, got [2] and [1]");
  EXPECT_CONTAINS(error_of([&] { margin_ranking_loss(y, y, f64({1, 1, 1}, {3})); }),
                  "margin_ranking_loss: input1 and target must have the same shape, got [2] and [3]");
}
