#pragma once
// The helpers shared by tests/test_optim.cpp and tests/test_optim_schedule.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "zoograd/core/ops.h"
#include "zoograd/optim/clip.h"
#include "zoograd/optim/schedule.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

using V = std::vector<double>;

inline Tensor param(const V& values, const Shape& shape, DType dtype) {
  Tensor p = shape.empty() ? scalar(values.at(0), dtype) : tensor(values, shape, dtype);
  p.requires_grad_();
  return p;
}

// The fixed gradients of every test: a 2x3 parameter and a scalar, four steps.
const V kMatrixStart = {1, -1, 2, 0.5, -2, 3};
const double kScalarStart = 4;
const std::vector<V> kMatrixGrads = {
    {1, -2, 0.5, 4, -1, 0}, {2, 0.5, -1, 1, 3, -4}, {-1, 1, 2, -0.5, 0, 2}, {0.5, -3, 1, 2, -2, 1}};
const V kScalarGrads = {2, -1, 0.5, 3};

struct Expected {
  V matrix;
  double scalar;
};

// Runs SGD over the 2x3 parameter and the scalar in one group and compares every step with the
// expected values. The numbers are dyadic (k/2^n with few bits), so float32 and float64 must both
// reproduce them exactly.
inline void check_trajectory(const SGDOptions& options, const std::vector<Expected>& expected) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor w = param(kMatrixStart, {2, 3}, dtype);
    Tensor s = param({kScalarStart}, {}, dtype);
    SGD opt({w, s}, options);
    for (std::size_t k = 0; k < expected.size(); ++k) {
      SCOPED_TRACE("step " + std::to_string(k + 1));
      w.set_grad(tensor(kMatrixGrads[k], {2, 3}, dtype));
      s.set_grad(scalar(kScalarGrads[k], dtype));
      opt.step();
      EXPECT_EQ(w.shape(), (Shape{2, 3}));
      EXPECT_EQ(s.shape(), Shape{});
      EXPECT_EQ(w.dtype(), dtype);
      EXPECT_EQ(w.to_vector(), expected[k].matrix);
      EXPECT_EQ(s.item(), expected[k].scalar);
    }
  }
}

inline SGDOptions options(double lr, double momentum, double dampening, double weight_decay, bool nesterov) {
  SGDOptions o;
  o.lr = lr;
  o.momentum = momentum;
  o.dampening = dampening;
  o.weight_decay = weight_decay;
  o.nesterov = nesterov;
  return o;
}

inline std::vector<std::string> keys(const NamedTensors& state) {
  std::vector<std::string> out;
  for (const auto& [name, t] : state) out.push_back(name);
  return out;
}

// ---- state_dict ----
struct TwoGroups {
  Tensor w, s, idle;
  std::vector<ParamGroup> groups() const {
    return {{{w, idle}, options(0.1, 0.9, 0.1, 5e-4, false)}, {{s}, options(0.03, 0.8, 0, 1e-3, true)}};
  }
};

inline TwoGroups fresh_two_groups() {
  return {param({0.3, -0.7, 1.1, 0.2, -0.05, 0.9}, {2, 3}, DType::Float32), param({1.7}, {}, DType::Float64),
          param({1, 2}, {2}, DType::Float32)};
}

inline void give_grads(const TwoGroups& r, std::size_t k) {
  V g = kMatrixGrads[k];
  for (double& x : g) x = x * 0.37 + 0.011 * static_cast<double>(k);
  r.w.set_grad(tensor(g, {2, 3}, DType::Float32));
  r.s.set_grad(scalar(kScalarGrads[k] * 0.29, DType::Float64));
}


}  // namespace
