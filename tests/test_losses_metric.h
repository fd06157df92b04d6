#pragma once
// The helpers shared by tests/test_losses_metric.cpp and tests/test_losses_metric_pairs.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "zoograd/core/autograd.h"
#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/metric.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using V = std::vector<double>;
using Matrix = std::vector<V>;

inline Tensor f64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
inline Tensor ids(const V& v) { return tensor(v, {static_cast<std::int64_t>(v.size())}, DType::Int64); }

inline const std::vector<LossSpec>& rows() {
  static const std::vector<LossSpec> all = losses_of_family("metric");
  return all;
}

inline std::vector<Tensor> sample(const LossSpec& spec, DType dtype, std::uint64_t seed = 7) {
  Generator gen(seed);
  return spec.sample(dtype, gen);
}

// The value of loss_of(leaves...) and the gradient with respect to every leaf (float64).
struct ValueAndGrads {
  double value;
  std::vector<V> grads;
};
template <class F>
inline ValueAndGrads value_and_grads(F loss_of, std::vector<Tensor> leaves) {
  for (Tensor& t : leaves) t.requires_grad_();
  Tensor loss = loss_of(leaves);
  loss.backward();
  ValueAndGrads out{loss.item(), {}};
  for (const Tensor& t : leaves) out.grads.push_back(t.grad().to_vector());
  return out;
}

inline void expect_all_near(const V& actual, const V& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

inline bool all_finite(const Tensor& t) {
  V v = t.to_vector();
  return std::all_of(v.begin(), v.end(), [](double e) { return std::isfinite(e); });
}

// ---- plain-C++ references: the formulas of metric.h written out element by element ----

inline double dot(const V& a, const V& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
inline double norm2(const V& a) { return std::sqrt(dot(a, a)); }
inline double sigmoid_of(double z) { return 1.0 / (1.0 + std::exp(-z)); }
inline double softplus_of(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }
inline double lse(const V& z) {
  double m = *std::max_element(z.begin(), z.end()), s = 0;
  for (double v : z) s += std::exp(v - m);
  return m + std::log(s);
}
inline V softmax_of(const V& z) {
  V out;
  double y = lse(z);
  for (double v : z) out.push_back(std::exp(v - y));
  return out;
}
inline V flat(const Matrix& m) {
  V out;
  for (const V& r : m) out.insert(out.end(), r.begin(), r.end());
  return out;
}
inline V unit(const V& x) {
  V u = x;
  for (double& v : u) v /= norm2(x);
  return u;
}

// ‖v‖_p and its gradient sign(v_i)|v_i|^(p-1) / ‖v‖_p^(p-1).
inline double pnorm(const V& v, double p) {
  double s = 0;
  for (double x : v) s += std::pow(std::abs(x), p);
  return std::pow(s, 1.0 / p);
}
inline V pnorm_grad(const V& v, double p) {
  V g;
  double n = pnorm(v, p);
  for (double x : v) g.push_back((x > 0 ? 1 : -1) * std::pow(std::abs(x), p - 1) / std::pow(n, p - 1));
  return g;
}
// a - b + eps, componentwise (torch.pairwise_distance's difference).
inline V shifted_difference(const V& a, const V& b, double eps) {
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
inline CircleRef circle_ref(const V& sp, const V& sn, double m, double gamma, bool detach) {
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

inline Matrix cosine_matrix(const Matrix& a, const Matrix& b) {
  Matrix s(a.size(), V(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) s[i][j] = dot(unit(a[i]), unit(b[j]));
  return s;
}

// d loss / d x_i from G = d loss / d cos(x_i, y_j):  Σ_j G_ij (ŷ_j - cos_ij x̂_i) / ‖x_i‖.
inline Matrix cosine_chain(const Matrix& x, const Matrix& y, const Matrix& g) {
  Matrix out(x.size(), V(x[0].size(), 0.0));
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = 0; j < y.size(); ++j) {
      V xu = unit(x[i]), yu = unit(y[j]);
      double c = dot(xu, yu);
      for (std::size_t k = 0; k < xu.size(); ++k) out[i][k] += g[i][j] * (yu[k] - c * xu[k]) / norm2(x[i]);
    }
  return out;
}
inline Matrix transposed(const Matrix& m) {
  Matrix t(m[0].size(), V(m.size()));
  for (std::size_t i = 0; i < m.size(); ++i)
    for (std::size_t j = 0; j < m[0].size(); ++j) t[j][i] = m[i][j];
  return t;
}
// For S = cos(E, E), S_ij depends on e_i and e_j: the gradient gathers G and Gᵀ.
inline Matrix self_cosine_chain(const Matrix& e, const Matrix& g) {
  Matrix a = cosine_chain(e, e, g), b = cosine_chain(e, e, transposed(g));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < a[i].size(); ++k) a[i][k] += b[i][k];
  return a;
}

inline Tensor matrix_tensor(const Matrix& m) {
  return f64(flat(m), {static_cast<std::int64_t>(m.size()), static_cast<std::int64_t>(m[0].size())});
}

// Batch circle loss: every anchor's positives (same label, j ≠ i) and negatives; `scale` 1/N for mean.
struct BatchRef {
  double value;
  V grad;
};
inline BatchRef circle_batch_ref(const Matrix& e, const V& labels, double m, double gamma, double scale) {
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
inline BatchRef multi_similarity_ref(const Matrix& e, const V& labels, double alpha, double beta, double base, double scale) {
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
inline PairRef info_nce_ref(const Matrix& q, const Matrix& k, double tau, double scale) {
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
inline CosRef torch_cos(const V& x1, const V& x2) {
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
