#pragma once
// The helpers shared by tests/test_losses_classification.cpp and tests/test_losses_classification_properties.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/classification.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using V = std::vector<double>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<Reduction> kAll{Reduction::None, Reduction::Mean, Reduction::Sum};

inline Tensor f64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
inline Tensor i64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Int64); }
inline Tensor leaf(const V& v, const Shape& shape) { return f64(v, shape).requires_grad_(); }

inline bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

inline void expect_values(const Tensor& t, const V& expected, double tol, const std::string& what) {
  V got = t.to_vector();
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << what << " [" << i << "]";
}

// Backpropagates the scalar `loss` and checks it and each leaf's gradient to 1e-10.
inline void expect_value_and_grads(const Tensor& loss, double value, const std::vector<std::pair<Tensor, V>>& grads) {
  ASSERT_EQ(loss.numel(), 1);
  EXPECT_NEAR(loss.item(), value, 1e-10);
  loss.backward();
  for (const auto& [x, g] : grads) expect_values(x.grad(), g, 1e-10, "gradient");
}

// The row's sample inputs in dtype; the differentiable ones require grad when `grad` is set.
inline std::vector<Tensor> sample(const LossSpec& s, DType dtype, bool grad, std::uint64_t seed = 11) {
  Generator gen(seed);
  std::vector<Tensor> in = s.sample(dtype, gen);
  for (std::size_t i = 0; i < in.size(); ++i)
    if (grad && s.inputs[i].differentiable) in[i].requires_grad_();
  return in;
}

inline void expect_gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const std::string& what) {
  GradcheckResult g = gradcheck(f, inputs);
  EXPECT_TRUE(g.ok) << what << ": " << g.message;
}

// ---- the formulas, in plain doubles ----

inline double sigmoid_of(double x) { return 1 / (1 + std::exp(-x)); }
inline double softplus_of(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

inline V softmax_of(const V& x) {
  double m = x[0], total = 0;
  for (double v : x) m = std::max(m, v);
  V p;
  for (double v : x) p.push_back(std::exp(v - m));
  for (double v : p) total += v;
  for (double& v : p) v /= total;
  return p;
}

inline V row_of(const V& m, std::size_t n, std::size_t c) {
  return V(m.begin() + static_cast<std::ptrdiff_t>(n * c), m.begin() + static_cast<std::ptrdiff_t>((n + 1) * c));
}

}  // namespace
