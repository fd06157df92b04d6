#pragma once
// The helpers shared by tests/test_losses_regression.cpp and tests/test_losses_regression_properties.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/losses/regression.h"
#include "zoograd/tests/test_util.h"

namespace {

using namespace zg;
using zg_tests::error_of;

const std::vector<Reduction> kReductions{Reduction::None, Reduction::Mean, Reduction::Sum};

// A float64 leaf that requires grad.
inline Tensor leaf(const std::vector<double>& values, const Shape& shape = {}) {
  Shape s = shape.empty() ? Shape{static_cast<std::int64_t>(values.size())} : shape;
  return tensor(values, s, DType::Float64).requires_grad_();
}

inline Tensor constant(const std::vector<double>& values, const Shape& shape = {}) {
  Shape s = shape.empty() ? Shape{static_cast<std::int64_t>(values.size())} : shape;
  return tensor(values, s, DType::Float64);
}

inline void expect_all_near(const std::vector<double>& actual, const std::vector<double>& expected, double tol,
                     const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tol) << what << " element " << i;
}

// Backpropagates a scalar loss and checks its value and the gradient of wrt, to 1e-10.
inline void expect_value_and_grad(const Tensor& loss, const Tensor& wrt, double value, const std::vector<double>& grad) {
  ASSERT_EQ(loss.dim(), 0);
  EXPECT_NEAR(loss.item(), value, 1e-10);
  loss.backward();
  expect_all_near(wrt.grad().to_vector(), grad, 1e-10, "gradient");
}

inline bool all_finite(const std::vector<double>& v) {
  for (double x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

}  // namespace
