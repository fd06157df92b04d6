#include "zoograd/tests/op_table.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "zoograd/core/ops.h"
#include "zoograd/tests/op_table_cases.h"

namespace zg_tests {

namespace {

// Binary elementwise ops: the same broadcasting patterns for each. b is drawn by draw_b (kept
// away from 0 for div), a by draw_a.
void add_broadcasting_cases(Table& t, const std::string& op, const Call& call,
                            const std::function<Tensor(Sampler&, const Shape&)>& draw_a,
                            const std::function<Tensor(Sampler&, const Shape&)>& draw_b) {
  const std::vector<std::pair<std::string, std::pair<Shape, Shape>>> patterns = {
      {"same_shape", {{3, 4}, {3, 4}}},
      {"broadcast_row", {{3, 4}, {4}}},
      {"broadcast_column", {{3, 4}, {3, 1}}},
      {"broadcast_scalar", {{3, 4}, {}}},
      {"scalar_first", {{}, {2, 3}}},
      {"leading_dims", {{2, 3, 4}, {3, 4}}},
      {"both_broadcast", {{2, 1, 4}, {3, 1}}},
      {"size_one_dims", {{1, 1}, {1, 4}}},
      {"batch_one", {{1, 3}, {1, 3}}},
  };
  for (const auto& [variant, shapes] : patterns) {
    Shape sa = shapes.first, sb = shapes.second;
    t.add(op + "/" + variant, [=](Sampler& s) { return Inputs{draw_a(s, sa), draw_b(s, sb)}; }, call);
  }
}

Tensor normal_of(Sampler& s, const Shape& shape) { return s.normal(shape); }
Tensor nonzero_of(Sampler& s, const Shape& shape) { return s.nonzero(shape, 0.5, 2.0); }
Tensor positive_of(Sampler& s, const Shape& shape) { return s.uniform(shape, 0.5, 2.0); }
Tensor exponent_of(Sampler& s, const Shape& shape) { return s.uniform(shape, -1.5, 2.5); }

// A unary op on a few shapes: a matrix, a batch-1 row, size-1 dims and a scalar.
void add_unary_cases(Table& t, const std::string& op, const Call& call,
                     const std::function<Tensor(Sampler&, const Shape&)>& draw) {
  const std::vector<std::pair<std::string, Shape>> shapes = {
      {"matrix", {3, 4}}, {"batch_one", {1, 5}}, {"size_one_dims", {2, 1, 3}}, {"scalar", {}}};
  for (const auto& [variant, shape] : shapes) {
    Shape sh = shape;
    t.add(op + "/" + variant, [=](Sampler& s) { return Inputs{draw(s, sh)}; }, call);
  }
}

void elementwise_cases(Table& t) {
  using namespace zg;
  add_broadcasting_cases(t, "add", [](const Inputs& x) { return add(x[0], x[1]); }, normal_of, normal_of);
  add_broadcasting_cases(t, "sub", [](const Inputs& x) { return sub(x[0], x[1]); }, normal_of, normal_of);
  add_broadcasting_cases(t, "mul", [](const Inputs& x) { return mul(x[0], x[1]); }, normal_of, normal_of);
  add_broadcasting_cases(t, "div", [](const Inputs& x) { return div(x[0], x[1]); }, normal_of, nonzero_of);
  add_broadcasting_cases(t, "pow", [](const Inputs& x) { return pow(x[0], x[1]); }, positive_of, exponent_of);
  // |y| >= 0.5 keeps the cases off the branch cut (y = 0, x < 0) and away from the origin.
  add_broadcasting_cases(t, "atan2", [](const Inputs& x) { return atan2(x[0], x[1]); }, nonzero_of, normal_of);

  // Promotion: a float32 constant meets the case's dtype (float64 in gradcheck).
  t.add("add/mixed_dtype",
        [](Sampler& s) { return Inputs{s.normal({3, 4}), s.normal({4}, false).to(DType::Float32)}; },
        [](const Inputs& x) { return add(x[0], x[1]); });
  t.add("mul/mixed_dtype",
        [](Sampler& s) { return Inputs{s.normal({4}, false).to(DType::Float32), s.normal({2, 4})}; },
        [](const Inputs& x) { return mul(x[0], x[1]); });
  // Operators with a double operand.
  t.add("add/double_operand", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return x[0] + 2.5; });
  t.add("sub/double_minus_tensor", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return 1.5 - x[0]; });
  t.add("mul/double_operand", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return -3.0 * x[0]; });
  t.add("div/double_over_tensor", [](Sampler& s) { return Inputs{s.nonzero({3, 4}, 0.5, 2.0)}; },
        [](const Inputs& x) { return 2.0 / x[0]; });
  t.add("div/tensor_over_double", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return x[0] / 4.0; });
  // One operand constant: only the other is differentiated.
  t.add("mul/one_constant", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.normal({3, 4}, false)}; },
        [](const Inputs& x) { return mul(x[0], x[1]); });
  t.add("div/constant_numerator", [](Sampler& s) { return Inputs{s.normal({3, 4}, false), s.nonzero({3, 4}, 0.5, 2.0)}; },
        [](const Inputs& x) { return div(x[0], x[1]); });
  t.add("pow/constant_exponent", [](Sampler& s) { return Inputs{s.uniform({3, 4}, 0.5, 2.0), s.uniform({3, 4}, -1.0, 2.0, false)}; },
        [](const Inputs& x) { return pow(x[0], x[1]); });
  t.add("pow/constant_base", [](Sampler& s) { return Inputs{s.uniform({3, 4}, 0.5, 2.0, false), s.uniform({3, 4}, -1.0, 2.0)}; },
        [](const Inputs& x) { return pow(x[0], x[1]); });

  // pow with a double exponent.
  t.add("pow_scalar/square_signed_base", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return pow(x[0], 2.0); });
  t.add("pow_scalar/cube_negative_base", [](Sampler& s) { return Inputs{s.uniform({3, 4}, -2.0, -0.5)}; },
        [](const Inputs& x) { return pow(x[0], 3.0); });
  t.add("pow_scalar/fractional", [](Sampler& s) { return Inputs{s.uniform({3, 4}, 0.5, 2.0)}; },
        [](const Inputs& x) { return pow(x[0], 2.5); });
  t.add("pow_scalar/negative_exponent", [](Sampler& s) { return Inputs{s.uniform({2, 1, 3}, 0.5, 2.0)}; },
        [](const Inputs& x) { return pow(x[0], -1.5); });
  t.add("pow_scalar/exponent_one", [](Sampler& s) { return Inputs{s.normal({1, 4})}; },
        [](const Inputs& x) { return pow(x[0], 1.0); });
  t.add_first_order_only(
      "pow_scalar/exponent_zero", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
      [](const Inputs& x) { return pow(x[0], 0.0); },
      "x^0 has the constant gradient 0: the backward returns zeros that do not depend on the upstream gradient v, "
      "so the first derivative has no input requiring grad and gradgradcheck reports it as disconnected");

  add_unary_cases(t, "neg", [](const Inputs& x) { return neg(x[0]); }, normal_of);
  t.add("neg/operator", [](Sampler& s) { return Inputs{s.normal({3, 4})}; }, [](const Inputs& x) { return -x[0]; });
  add_unary_cases(t, "exp", [](const Inputs& x) { return exp(x[0]); }, normal_of);
  add_unary_cases(t, "log", [](const Inputs& x) { return log(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, 0.3, 3.0); });
  add_unary_cases(t, "log1p", [](const Inputs& x) { return log1p(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -0.6, 2.0); });
  add_unary_cases(t, "sqrt", [](const Inputs& x) { return sqrt(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, 0.3, 3.0); });
  add_unary_cases(t, "abs", [](const Inputs& x) { return abs(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.nonzero(sh); });
  t.add_first_order_only(
      "sign/matrix", [](Sampler& s) { return Inputs{s.nonzero({3, 4})}; }, [](const Inputs& x) { return sign(x[0]); },
      "sign has the constant gradient 0: its backward returns zeros that do not depend on the upstream gradient v, "
      "so the first derivative is disconnected from every input; sign/times_weight checks sign's double backward");
  // sign inside a product: the first derivative sign(x)·v depends on v, and d/dx goes through
  // sign's backward again.
  t.add("sign/times_weight", [](Sampler& s) { return Inputs{s.nonzero({3, 4}), s.normal({3, 4})}; },
        [](const Inputs& x) { return sign(x[0]) * x[1]; });
  add_unary_cases(t, "erf", [](const Inputs& x) { return erf(x[0]); }, normal_of);
  add_unary_cases(t, "sin", [](const Inputs& x) { return sin(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -4.0, 4.0); });
  add_unary_cases(t, "cos", [](const Inputs& x) { return cos(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -4.0, 4.0); });
  add_unary_cases(t, "acos", [](const Inputs& x) { return acos(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -0.9, 0.9); });

  t.add("clamp/both_bounds", [](Sampler& s) { return Inputs{s.away_from({3, 4}, {-0.5, 0.5})}; },
        [](const Inputs& x) { return clamp(x[0], -0.5, 0.5); });
  t.add("clamp/min_only", [](Sampler& s) { return Inputs{s.away_from({3, 4}, {-0.3})}; },
        [](const Inputs& x) { return clamp(x[0], -0.3); });
  t.add("clamp/max_only", [](Sampler& s) { return Inputs{s.away_from({2, 1, 3}, {0.4})}; },
        [](const Inputs& x) { return clamp(x[0], std::nullopt, 0.4); });
  t.add("clamp/scalar", [](Sampler& s) { return Inputs{s.away_from({}, {-1.0, 1.0})}; },
        [](const Inputs& x) { return clamp(x[0], -1.0, 1.0); });

  add_unary_cases(t, "relu", [](const Inputs& x) { return relu(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.nonzero(sh); });
  t.add("relu_backward/mask", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.nonzero({3, 4}, 0.1, 1.5, false)}; },
        [](const Inputs& x) { return relu_backward(x[0], x[1]); });
  t.add("relu_backward/batch1", [](Sampler& s) { return Inputs{s.normal({1, 5}), s.nonzero({1, 5}, 0.1, 1.5, false)}; },
        [](const Inputs& x) { return relu_backward(x[0], x[1]); });
  add_unary_cases(t, "leaky_relu", [](const Inputs& x) { return leaky_relu(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.nonzero(sh); });
  t.add("prelu/shared", [](Sampler& s) { return Inputs{s.nonzero({3, 4}), s.normal({1})}; },
        [](const Inputs& x) { return prelu(x[0], x[1]); });
  t.add("prelu/per_channel", [](Sampler& s) { return Inputs{s.nonzero({2, 3, 2, 2}), s.normal({3})}; },
        [](const Inputs& x) { return prelu(x[0], x[1]); });
  t.add("prelu/batch1_rank2", [](Sampler& s) { return Inputs{s.nonzero({1, 3}), s.normal({3})}; },
        [](const Inputs& x) { return prelu(x[0], x[1]); });
  t.add("leaky_relu/slope_0_2", [](Sampler& s) { return Inputs{s.nonzero({3, 4})}; },
        [](const Inputs& x) { return leaky_relu(x[0], 0.2); });
  add_unary_cases(t, "sigmoid", [](const Inputs& x) { return sigmoid(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -6.0, 6.0); });
  add_unary_cases(t, "tanh", [](const Inputs& x) { return tanh(x[0]); }, normal_of);
  add_unary_cases(t, "gelu", [](const Inputs& x) { return gelu(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -3.0, 3.0); });
  add_unary_cases(t, "softplus", [](const Inputs& x) { return softplus(x[0]); },
                  [](Sampler& s, const Shape& sh) { return s.uniform(sh, -6.0, 6.0); });
  t.add("softplus/beta_2", [](Sampler& s) { return Inputs{s.uniform({3, 4}, -4.0, 4.0)}; },
        [](const Inputs& x) { return softplus(x[0], 2.0); });

  t.add("where/float_mask", [](Sampler& s) { return Inputs{s.mask({3, 4}), s.normal({3, 4}), s.normal({3, 4})}; },
        [](const Inputs& x) { return where(x[0], x[1], x[2]); });
  t.add("where/int64_mask_broadcast",
        [](Sampler& s) { return Inputs{Sampler::index({1, 0, 1}, {3, 1}), s.normal({3, 4}), s.normal({4})}; },
        [](const Inputs& x) { return where(x[0], x[1], x[2]); });
  t.add("where/scalar_branch", [](Sampler& s) { return Inputs{s.mask({2, 3}), s.normal({}), s.normal({2, 3})}; },
        [](const Inputs& x) { return where(x[0], x[1], x[2]); });
  t.add("where/cond_sets_shape", [](Sampler& s) { return Inputs{s.mask({3, 4}), s.normal({4}), s.normal({})}; },
        [](const Inputs& x) { return where(x[0], x[1], x[2]); });
  t.add("where/one_branch_constant",
        [](Sampler& s) { return Inputs{s.mask({1, 4}), s.normal({3, 4}), s.normal({3, 1}, false)}; },
        [](const Inputs& x) { return where(x[0], x[1], x[2]); });
}

void reduction_cases(Table& t) {
  using namespace zg;
  t.add("sum/all", [](Sampler& s) { return Inputs{s.normal({3, 4})}; }, [](const Inputs& x) { return sum(x[0]); });
  t.add("sum/dim0", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return sum(x[0], {0}); });
  t.add("sum/last_dim_keepdim", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return sum(x[0], {-1}, {.keepdim = true}); });
  t.add("sum/two_dims", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return sum(x[0], {0, 2}); });
  t.add("sum/size_one_dim", [](Sampler& s) { return Inputs{s.normal({3, 1, 4})}; },
        [](const Inputs& x) { return sum(x[0], {1}); });
  t.add("sum/batch_one", [](Sampler& s) { return Inputs{s.normal({1, 5})}; },
        [](const Inputs& x) { return sum(x[0], {0}, {.keepdim = true}); });
  t.add("sum/scalar_input", [](Sampler& s) { return Inputs{s.normal({})}; }, [](const Inputs& x) { return sum(x[0]); });
  t.add("sum/all_dims_keepdim", [](Sampler& s) { return Inputs{s.normal({2, 3})}; },
        [](const Inputs& x) { return sum(x[0], {}, {.keepdim = true}); });
  t.add("sum/empty_dim", [](Sampler& s) { return Inputs{s.normal({2, 0})}; },
        [](const Inputs& x) { return sum(x[0], {1}); });

  t.add("mean/all", [](Sampler& s) { return Inputs{s.normal({3, 4})}; }, [](const Inputs& x) { return mean(x[0]); });
  t.add("mean/dims_keepdim", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return mean(x[0], {0, -1}, {.keepdim = true}); });
  t.add("mean/batch_one", [](Sampler& s) { return Inputs{s.normal({1, 5})}; },
        [](const Inputs& x) { return mean(x[0], {0}); });

  t.add("amax/dim1", [](Sampler& s) { return Inputs{s.distinct({3, 4})}; },
        [](const Inputs& x) { return amax(x[0], {1}); });
  t.add("amax/dims_keepdim", [](Sampler& s) { return Inputs{s.distinct({2, 3, 4})}; },
        [](const Inputs& x) { return amax(x[0], {0, 2}, {.keepdim = true}); });
  t.add("amax/all_dims", [](Sampler& s) { return Inputs{s.distinct({3, 4})}; },
        [](const Inputs& x) { return amax(x[0], {}); });
  t.add("amax/size_one_dim", [](Sampler& s) { return Inputs{s.distinct({3, 1})}; },
        [](const Inputs& x) { return amax(x[0], {1}); });
  t.add("amin/dim0", [](Sampler& s) { return Inputs{s.distinct({3, 4})}; },
        [](const Inputs& x) { return amin(x[0], {0}); });
  t.add("amin/last_dim_keepdim", [](Sampler& s) { return Inputs{s.distinct({1, 3, 4})}; },
        [](const Inputs& x) { return amin(x[0], {-1}, {.keepdim = true}); });
  t.add("max/all", [](Sampler& s) { return Inputs{s.distinct({3, 4})}; }, [](const Inputs& x) { return max(x[0]); });
  t.add("min/all", [](Sampler& s) { return Inputs{s.distinct({2, 3, 2})}; }, [](const Inputs& x) { return min(x[0]); });

  t.add("logsumexp/dim1", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return logsumexp(x[0], {1}); });
  t.add("logsumexp/all_dims", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
        [](const Inputs& x) { return logsumexp(x[0], {}); });
  t.add("logsumexp/keepdim_negative_dim", [](Sampler& s) { return Inputs{s.normal({2, 3, 4})}; },
        [](const Inputs& x) { return logsumexp(x[0], {-2}, {.keepdim = true}); });
  // Large values: the max shift keeps exp from overflowing.
  t.add("logsumexp/large_values", [](Sampler& s) { return Inputs{s.uniform({2, 4}, 95.0, 105.0)}; },
        [](const Inputs& x) { return logsumexp(x[0], {1}); });
  t.add("logsumexp/size_one_dim", [](Sampler& s) { return Inputs{s.normal({3, 1})}; },
        [](const Inputs& x) { return logsumexp(x[0], {1}); });

  for (const char* op : {"softmax", "log_softmax"}) {
    bool log_space = std::string(op) == "log_softmax";
    auto f = [log_space](const Tensor& x, std::int64_t dim) { return log_space ? log_softmax(x, dim) : softmax(x, dim); };
    std::string o = op;
    t.add(o + "/last_dim", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
          [f](const Inputs& x) { return f(x[0], -1); });
    t.add(o + "/dim0", [](Sampler& s) { return Inputs{s.normal({3, 4})}; },
          [f](const Inputs& x) { return f(x[0], 0); });
    t.add(o + "/middle_dim", [](Sampler& s) { return Inputs{s.normal({2, 3, 2})}; },
          [f](const Inputs& x) { return f(x[0], 1); });
    t.add(o + "/size_one_dim", [](Sampler& s) { return Inputs{s.normal({3, 1})}; },
          [f](const Inputs& x) { return f(x[0], 1); });
    t.add(o + "/batch_one", [](Sampler& s) { return Inputs{s.normal({1, 5})}; },
          [f](const Inputs& x) { return f(x[0], 1); });
    t.add(o + "/large_values", [](Sampler& s) { return Inputs{s.uniform({2, 4}, 95.0, 105.0)}; },
          [f](const Inputs& x) { return f(x[0], 1); });
    t.add(o + "/empty_dim", [](Sampler& s) { return Inputs{s.normal({2, 0})}; },
          [f](const Inputs& x) { return f(x[0], 1); });
  }
}

void linalg_cases(Table& t) {
  using namespace zg;
  // (shape of a, shape of b, transpose_a, transpose_b)
  struct Product {
    const char* variant;
    Shape a, b;
    bool ta, tb;
  };
  const std::vector<Product> mms = {
      {"plain", {3, 4}, {4, 2}, false, false},    {"transpose_a", {4, 3}, {4, 2}, true, false},
      {"transpose_b", {3, 4}, {2, 4}, false, true}, {"transpose_both", {4, 3}, {2, 4}, true, true},
      {"batch_one", {1, 4}, {4, 3}, false, false}, {"outer_product", {3, 1}, {1, 2}, false, false},
      {"inner_product", {1, 5}, {5, 1}, false, false},
  };
  for (const Product& p : mms) {
    Product q = p;
    t.add(std::string("mm/") + p.variant, [q](Sampler& s) { return Inputs{s.normal(q.a), s.normal(q.b)}; },
          [q](const Inputs& x) { return mm(x[0], x[1], {.transpose_a = q.ta, .transpose_b = q.tb}); });
  }
  t.add("mm/one_constant", [](Sampler& s) { return Inputs{s.normal({3, 4}, false), s.normal({4, 2})}; },
        [](const Inputs& x) { return mm(x[0], x[1]); });
  t.add("mm/zero_inner", [](Sampler& s) { return Inputs{s.normal({2, 0}), s.normal({0, 3})}; },
        [](const Inputs& x) { return mm(x[0], x[1]); });
  t.add("mm/mixed_dtype", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.normal({4, 2}, false).to(DType::Float32)}; },
        [](const Inputs& x) { return mm(x[0], x[1]); });
  const std::vector<Product> bmms = {
      {"plain", {2, 3, 4}, {2, 4, 2}, false, false},    {"transpose_a", {2, 4, 3}, {2, 4, 2}, true, false},
      {"transpose_b", {2, 3, 4}, {2, 2, 4}, false, true}, {"transpose_both", {2, 4, 3}, {2, 2, 4}, true, true},
      {"batch_one", {1, 2, 3}, {1, 3, 2}, false, false},
  };
  for (const Product& p : bmms) {
    Product q = p;
    t.add(std::string("bmm/") + p.variant, [q](Sampler& s) { return Inputs{s.normal(q.a), s.normal(q.b)}; },
          [q](const Inputs& x) { return bmm(x[0], x[1], {.transpose_a = q.ta, .transpose_b = q.tb}); });
  }
  t.add("bmm/mixed_dtype", [](Sampler& s) { return Inputs{s.normal({2, 2, 3}, false).to(DType::Float32), s.normal({2, 3, 2})}; },
        [](const Inputs& x) { return bmm(x[0], x[1]); });
  t.add("matmul/2d_2d", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.normal({4, 2})}; },
        [](const Inputs& x) { return matmul(x[0], x[1]); });
  t.add("matmul/3d_3d", [](Sampler& s) { return Inputs{s.normal({2, 3, 4}), s.normal({2, 4, 2})}; },
        [](const Inputs& x) { return matmul(x[0], x[1]); });
  t.add("matmul/3d_2d_shared", [](Sampler& s) { return Inputs{s.normal({2, 3, 4}), s.normal({4, 2})}; },
        [](const Inputs& x) { return matmul(x[0], x[1]); });
  t.add("linear/with_bias", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.normal({2, 4}), s.normal({2})}; },
        [](const Inputs& x) { return linear(x[0], x[1], x[2]); });
  t.add("linear/no_bias", [](Sampler& s) { return Inputs{s.normal({3, 4}), s.normal({2, 4})}; },
        [](const Inputs& x) { return linear(x[0], x[1]); });
  t.add("linear/3d_input", [](Sampler& s) { return Inputs{s.normal({2, 3, 4}), s.normal({2, 4}), s.normal({2})}; },
        [](const Inputs& x) { return linear(x[0], x[1], x[2]); });
  t.add("linear/batch_one", [](Sampler& s) { return Inputs{s.normal({1, 4}), s.normal({3, 4}), s.normal({3})}; },
        [](const Inputs& x) { return linear(x[0], x[1], x[2]); });
  t.add("linear/vector_input", [](Sampler& s) { return Inputs{s.normal({4}), s.normal({3, 4}), s.normal({3})}; },
        [](const Inputs& x) { return linear(x[0], x[1], x[2]); });
}

// FNV-1a: a seed from the case name that does not depend on the standard library.
std::uint64_t seed_of(const std::string& name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

std::vector<OpCase> op_table() {
  Table t;
  elementwise_cases(t);
  reduction_cases(t);
  linalg_cases(t);
  shape_cases(t);
  conv_cases(t);
  return t.take();
}

std::vector<zg::Tensor> make_inputs(const OpCase& c, zg::DType dtype) {
  zg::Generator gen(seed_of(c.name));
  return c.make(dtype, gen);
}

std::string op_of(const OpCase& c) { return c.name.substr(0, c.name.find('/')); }

}  // namespace zg_tests
