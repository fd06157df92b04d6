#pragma once
// The helpers shared by tests/test_hessians.cpp and tests/test_hessians_binary.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/losses/hessians.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;

constexpr double kTol = 1e-10;
constexpr DType F64 = DType::Float64;

inline Tensor f64(const std::vector<double>& v, const Shape& shape) { return tensor(v, shape, F64); }

using LossFn = std::function<Tensor(const Tensor& z)>;

struct Reference {
  std::vector<double> grad, hess;
};

// dL/dz of the summed loss, and the Hessian diagonal d/dz_k (dL/dz)_k by double backward.
inline Reference autograd_grad_hess(const LossFn& loss, const Tensor& logits) {
  Tensor z = logits.detach().clone();
  z.requires_grad_();
  Tensor total = loss(z);
  EXPECT_EQ(total.numel(), 1);
  Tensor g = grad({total}, {z}, {}, {.retain_graph = true, .create_graph = true})[0];
  Tensor g_flat = reshape(g, {-1});
  Reference ref{g.detach().to_vector(), std::vector<double>(static_cast<std::size_t>(z.numel()))};
  for (std::int64_t k = 0; k < z.numel(); ++k) {
    Tensor gk = sum(slice(g_flat, 0, k, k + 1));
    Tensor row = grad({gk}, {z}, {}, {.retain_graph = true})[0];
    ref.hess[static_cast<std::size_t>(k)] = row.to_vector()[static_cast<std::size_t>(k)];
  }
  return ref;
}

// d(x)/dz elementwise for an elementwise map x(z): the diagonal of its Jacobian.
inline std::vector<double> elementwise_derivative(const std::function<Tensor(const Tensor&)>& f, const Tensor& at) {
  Tensor z = at.detach().clone();
  z.requires_grad_();
  return grad({sum(f(z))}, {z})[0].to_vector();
}

// Per-element second derivative of an elementwise map f at x (double backward).
inline std::vector<double> elementwise_second_derivative(const std::function<Tensor(const Tensor&)>& f, const Tensor& at) {
  Tensor x = at.detach().clone();
  x.requires_grad_();
  Tensor g = grad({sum(f(x))}, {x}, {}, {.retain_graph = true, .create_graph = true})[0];
  return grad({sum(g)}, {x})[0].to_vector();  // elementwise: d/dx_k Σ_i f'(x_i) = f''(x_k)
}

inline void expect_near_all(const Tensor& actual, const std::vector<double>& expected, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  ASSERT_EQ(actual.numel(), static_cast<std::int64_t>(expected.size())) << what;
  EXPECT_EQ(actual.dtype(), F64) << what;
  std::vector<double> a = actual.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], expected[i], kTol * std::max(1.0, std::abs(expected[i]))) << what << ", element " << i;
}

inline void expect_all_nonnegative(const Tensor& t, const std::string& what) {
  std::vector<double> v = t.to_vector();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_GE(v[i], 0.0) << what << ", element " << i;
}

inline void expect_all_finite(const Tensor& t, const std::string& what) {
  std::vector<double> v = t.to_vector();
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_TRUE(std::isfinite(v[i])) << what << ", element " << i << " = " << v[i];
}

// Weight variants: none, one per sample (N), one per element (logits' shape).
enum class WeightKind { None, Sample, Element };
inline const char* weight_name(WeightKind k) { return k == WeightKind::None ? "none" : k == WeightKind::Sample ? "sample" : "element"; }
constexpr WeightKind kWeightKinds[] = {WeightKind::None, WeightKind::Sample, WeightKind::Element};

inline Tensor make_weight(WeightKind kind, const Shape& shape, Generator& gen) {
  switch (kind) {
    case WeightKind::None: return Tensor();
    case WeightKind::Sample: return rand({shape[0]}, F64, gen) * 1.5 + 0.25;
    case WeightKind::Element: return rand(shape, F64, gen) * 1.5 + 0.25;
  }
  return Tensor();
}

// The weight as the reference loss multiplies by it: 1, (N, 1, ..., 1) or elementwise.
inline Tensor broadcastable_weight(const Tensor& w, const Shape& shape) {
  if (!w.defined()) return scalar(1.0, F64);
  if (w.shape() == shape) return w;
  Shape s(shape.size(), 1);
  s[0] = shape[0];
  return reshape(w, s);
}

// Multi-class target variants: probability rows, one-hot rows, arbitrary non-negative rows (Σ ≠ 1).
enum class TargetKind { Probability, OneHot, Unnormalized };
inline const char* target_name(TargetKind k) {
  return k == TargetKind::Probability ? "probability" : k == TargetKind::OneHot ? "one-hot" : "unnormalized";
}
constexpr TargetKind kTargetKinds[] = {TargetKind::Probability, TargetKind::OneHot, TargetKind::Unnormalized};

inline Tensor make_multiclass_target(TargetKind kind, std::int64_t n, std::int64_t c, Generator& gen) {
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
inline Tensor make_binary_target(bool hard, const Shape& shape, Generator& gen) {
  if (hard) return randint(0, 2, shape, gen).to(F64);
  return rand(shape, F64, gen) * 0.96 + 0.02;
}

inline std::string label(const Shape& shape, const std::string& rest) { return to_string(shape) + " " + rest; }

// log σ(z) without overflow.
inline Tensor log_sigmoid(const Tensor& z) { return -softplus(-z); }

}  // namespace

// ---- softmax cross-entropy ----
