#pragma once
// The helpers shared by tests/test_losses_hinge.cpp and tests/test_losses_hinge_multiclass.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/classification.h"
#include "zoograd/losses/hinge.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using V = std::vector<double>;

inline Tensor f64(const V& v, const Shape& shape) { return tensor(v, shape, DType::Float64); }
inline Tensor labels(const V& v) { return tensor(v, {static_cast<std::int64_t>(v.size())}, DType::Int64); }

inline const std::vector<LossSpec>& rows() {
  static const std::vector<LossSpec> all = losses_of_family("hinge");
  return all;
}

inline std::vector<Tensor> sample(const LossSpec& spec, DType dtype, std::uint64_t seed = 7) {
  Generator gen(seed);
  return spec.sample(dtype, gen);
}

// The loss of a float64 input and its gradient d loss / d input; loss_of must return a scalar.
struct ValueAndGrad {
  double value;
  V grad;
};
template <class F>
inline ValueAndGrad value_and_grad(F loss_of, const V& x, const Shape& shape) {
  Tensor input = f64(x, shape).requires_grad_();
  Tensor loss = loss_of(input);
  loss.backward();
  return {loss.item(), input.grad().to_vector()};
}

inline void expect_all_near(const V& actual, const V& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tol) << "element " << i;
}

inline bool all_finite(const V& v) {
  return std::all_of(v.begin(), v.end(), [](double e) { return std::isfinite(e); });
}

inline double sigmoid_of(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

// ---- the catalog rows ----
