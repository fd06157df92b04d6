#pragma once
// The helpers shared by tests/test_losses_regression.cpp and tests/test_losses_regression_properties.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <numbers>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "zoograd/core/gradcheck.h"
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

// ---- 1. gradcheck of every row under every reduction ----

struct GradCase {
  std::string loss;
  LossParams params;
  Reduction reduction;
};

inline void PrintTo(const GradCase& c, std::ostream* os) {
  *os << c.loss;
  for (const auto& [k, v] : c.params) *os << " " << k << "=" << v;
  *os << " " << reduction_name(c.reduction);
}

// Every row at its defaults, plus the parameter values that select another branch of the formula
// (kept away from the samples' kinks: errors lie in [0.2, 0.8] ∪ [1.2, 1.8]).
inline std::vector<GradCase> grad_cases() {
  const std::multimap<std::string, LossParams> variants{
      {"rmse_loss", {{"eps", 1e-6}}},
      {"huber_loss", {{"delta", 0.1}}},        // all errors on the line
      {"huber_loss", {{"delta", 2.5}}},        // all errors on the square
      {"smooth_l1_loss", {{"beta", 0.0}}},     // exactly L1
      {"smooth_l1_loss", {{"beta", 0.1}}},
      {"smooth_l1_loss", {{"beta", 2.5}}},
      {"quantile_loss", {{"tau", 0.1}}},
      {"quantile_loss", {{"tau", 0.9}}},
      {"poisson_nll_loss", {{"full", 1}}},
      {"poisson_nll_loss", {{"log_input", 0}}},
      {"poisson_nll_loss", {{"log_input", 0}, {"full", 1}}},
      {"gaussian_nll_loss", {{"full", 1}}},
  };
  std::vector<GradCase> cases;
  for (const LossSpec& s : losses_of_family("regression")) {
    std::vector<LossParams> params{{}};
    for (auto [it, end] = variants.equal_range(s.name); it != end; ++it) params.push_back(it->second);
    for (const LossParams& p : params)
      for (Reduction r : s.reductions) cases.push_back({s.name, p, r});
  }
  return cases;
}

class RegressionGradcheck : public ::testing::TestWithParam<GradCase> {};
}  // namespace
