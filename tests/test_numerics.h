#pragma once
// The helpers shared by tests/test_numerics.cpp and tests/test_numerics_shapes.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

constexpr double kInf = std::numeric_limits<double>::infinity();

inline Tensor f64(const std::vector<double>& v, const Shape& shape = {}) { return tensor(v, shape, DType::Float64); }
inline Tensor i64(const std::vector<double>& v, const Shape& shape = {}) { return tensor(v, shape, DType::Int64); }

inline bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

using V = std::vector<double>;

}  // namespace

// ---- the softmax family ----
