#pragma once
// The pieces tests/op_table.cpp and tests/op_table_shapes.cpp build the op table with.
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "zoograd/core/ops.h"
#include "zoograd/tests/op_table.h"

namespace zg_tests {

using zg::DType;
using zg::Generator;
using zg::Shape;
using zg::Tensor;
using Inputs = std::vector<Tensor>;

// Sample inputs of one dtype. Values are drawn as doubles and converted, so float32 and float64
// inputs of a case hold the same numbers up to rounding.
class Sampler {
 public:
  Sampler(DType dtype, Generator& gen) : dtype_(dtype), gen_(gen) {}

  // Standard normal values.
  Tensor normal(const Shape& s, bool grad = true) {
    std::vector<double> v(count(s));
    for (double& x : v) x = gen_.normal();
    return make(v, s, grad);
  }

  // Uniform in [lo, hi).
  Tensor uniform(const Shape& s, double lo, double hi, bool grad = true) {
    std::vector<double> v(count(s));
    for (double& x : v) x = lo + (hi - lo) * gen_.uniform();
    return make(v, s, grad);
  }

  // |x| uniform in [lo, hi), random sign: away from 0 for relu, abs, sign, division.
  Tensor nonzero(const Shape& s, double lo = 0.1, double hi = 1.5, bool grad = true) {
    std::vector<double> v(count(s));
    for (double& x : v) x = (gen_.uniform() < 0.5 ? -1.0 : 1.0) * (lo + (hi - lo) * gen_.uniform());
    return make(v, s, grad);
  }

  // Standard normal values pushed at least margin away from each of points (clamp bounds).
  Tensor away_from(const Shape& s, const std::vector<double>& points, double margin = 0.05, bool grad = true) {
    std::vector<double> v(count(s));
    for (double& x : v) {
      x = gen_.normal();
      for (double p : points)
        if (std::abs(x - p) < margin) x = p + (x >= p ? margin : -margin);
    }
    return make(v, s, grad);
  }

  // Pairwise distinct values, at least 0.08 apart (no ties for max, min and max pooling).
  Tensor distinct(const Shape& s, bool grad = true) {
    std::vector<double> v(count(s));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * static_cast<double>(i);
    gen_.shuffle(v);
    double center = 0.05 * static_cast<double>(v.size());
    for (double& x : v) x += 0.02 * gen_.uniform() - center;
    return make(v, s, grad);
  }

  // A 0/1 mask in the case's dtype with both values present.
  Tensor mask(const Shape& s) {
    std::vector<double> v(count(s));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 2);
    gen_.shuffle(v);
    return make(v, s, false);
  }

  // An int64 tensor of the given values.
  static Tensor index(const std::vector<double>& values, const Shape& s) { return zg::tensor(values, s, DType::Int64); }

  // Random int64 indices in [0, high).
  Tensor random_index(const Shape& s, std::int64_t high) { return zg::randint(0, high, s, gen_); }

 private:
  static std::size_t count(const Shape& s) { return static_cast<std::size_t>(zg::numel(s)); }

  Tensor make(const std::vector<double>& v, const Shape& s, bool grad) const {
    Tensor t = s.empty() ? zg::scalar(v[0], dtype_) : zg::tensor(v, s, dtype_);
    if (grad) t.requires_grad_();
    return t;
  }

  DType dtype_;
  Generator& gen_;
};

using Make = std::function<Inputs(Sampler&)>;
using Call = std::function<Tensor(const Inputs&)>;

class Table {
 public:
  void add(std::string name, Make make, Call call) { push(std::move(name), std::move(make), std::move(call), ""); }
  // A case gradgradcheck cannot check; why says why.
  void add_first_order_only(std::string name, Make make, Call call, std::string why) {
    push(std::move(name), std::move(make), std::move(call), std::move(why));
  }
  std::vector<OpCase> take() { return std::move(cases_); }

 private:
  void push(std::string name, Make make, Call call, std::string why) {
    OpCase c;
    c.name = std::move(name);
    c.make = [make = std::move(make)](DType dtype, Generator& gen) {
      Sampler s(dtype, gen);
      return make(s);
    };
    c.call = std::move(call);
    c.gradgrad = why.empty();
    c.why_no_gradgrad = std::move(why);
    cases_.push_back(std::move(c));
  }
  std::vector<OpCase> cases_;
};

// The cases of the shape ops (op_table_shapes.cpp), and of convolution and pooling.
void shape_cases(Table& t);
void conv_cases(Table& t);

}  // namespace zg_tests
