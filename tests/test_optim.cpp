// SGD against PyTorch's update rule step for step (values worked out by hand from the rule in
// optim/sgd.h), parameter groups, skipped parameters, option checks, the optimizer's state_dict,
// and the learning-rate schedules of optim/schedule.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/ops.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "tests/test_util.h"

using namespace zg;

namespace {

using zg_tests::error_of;
using zg_tests::TempDir;

using V = std::vector<double>;

Tensor param(const V& values, const Shape& shape, DType dtype) {
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
void check_trajectory(const SGDOptions& options, const std::vector<Expected>& expected) {
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

SGDOptions options(double lr, double momentum, double dampening, double weight_decay, bool nesterov) {
  SGDOptions o;
  o.lr = lr;
  o.momentum = momentum;
  o.dampening = dampening;
  o.weight_decay = weight_decay;
  o.nesterov = nesterov;
  return o;
}

std::vector<std::string> keys(const NamedTensors& state) {
  std::vector<std::string> out;
  for (const auto& [name, t] : state) out.push_back(name);
  return out;
}

}  // namespace

// ---- the update rule ----

TEST(SGD, NoMomentum) {
  // p ← p - lr·g.  Step 1, element 0: 1 - 0.25·1 = 0.75; scalar: 4 - 0.25·2 = 3.5.
  check_trajectory(options(0.25, 0, 0, 0, false), {
                                                      {{0.75, -0.5, 1.875, -0.5, -1.75, 3.0}, 3.5},
                                                      {{0.25, -0.625, 2.125, -0.75, -2.5, 4.0}, 3.75},
                                                      {{0.5, -0.875, 1.625, -0.625, -2.5, 3.5}, 3.625},
                                                      {{0.375, -0.125, 1.375, -1.125, -2.0, 3.25}, 2.875},
                                                  });
}

TEST(SGD, Momentum) {
  // b1 = g1; b2 = 0.5·b1 + g2; p ← p - 0.5·b.
  // Element 0: b1 = 1, p = 0.5; b2 = 0.5 + 2 = 2.5, p = 0.5 - 1.25 = -0.75; b3 = 1.25 - 1 = 0.25, p = -0.875.
  check_trajectory(options(0.5, 0.5, 0, 0, false), {
                                                       {{0.5, 0.0, 1.75, -1.5, -1.5, 3.0}, 3.0},
                                                       {{-0.75, 0.25, 2.125, -3.0, -2.75, 5.0}, 3.0},
                                                       {{-0.875, -0.125, 1.3125, -3.5, -3.375, 5.0}, 2.75},
                                                       {{-1.1875, 1.1875, 0.40625, -4.75, -2.6875, 4.5}, 1.125},
                                                   });
}

TEST(SGD, DampeningSparesTheFirstStep) {
  // b1 = g1 (not 0.5·g1, as PyTorch), then b ← 0.5·b + (1 - 0.5)·g.
  // Element 0: b1 = 1, p = 0.5; b2 = 0.5 + 0.5·2 = 1.5, p = 0.5 - 0.75 = -0.25.
  check_trajectory(options(0.5, 0.5, 0.5, 0, false), {
                                                         {{0.5, 0.0, 1.75, -1.5, -1.5, 3.0}, 3.0},
                                                         {{-0.25, 0.375, 1.875, -2.75, -2.0, 4.0}, 2.75},
                                                         {{-0.375, 0.3125, 1.4375, -3.25, -2.25, 4.0}, 2.5},
                                                         {{-0.5625, 1.03125, 0.96875, -4.0, -1.875, 3.75}, 1.625},
                                                     });
}

TEST(SGD, Nesterov) {
  // g ← g + 0.5·b.  Element 0: b1 = 1, g = 1.5, p = 1 - 0.75 = 0.25; b2 = 2.5, g = 3.25, p = -1.375.
  check_trajectory(options(0.5, 0.5, 0, 0, true), {
                                                      {{0.25, 0.5, 1.625, -2.5, -1.25, 3.0}, 2.5},
                                                      {{-1.375, 0.375, 2.3125, -3.75, -3.375, 6.0}, 3.0},
                                                      {{-0.9375, -0.3125, 0.90625, -3.75, -3.6875, 5.0}, 2.625},
                                                      {{-1.34375, 1.84375, -0.046875, -5.375, -2.34375, 4.25}, 0.3125},
                                                  });
}

TEST(SGD, WeightDecay) {
  // g ← ∇p + 0.25·p.  Element 0: g = 1 + 0.25 = 1.25, p = 1 - 0.625 = 0.375; scalar: g = 3, p = 2.5.
  check_trajectory(options(0.5, 0, 0, 0.25, false),
                   {
                       {{0.375, 0.125, 1.5, -1.5625, -1.25, 2.625}, 2.5},
                       {{-0.671875, -0.140625, 1.8125, -1.8671875, -2.59375, 4.296875}, 2.6875},
                       {{-0.087890625, -0.623046875, 0.5859375, -1.3837890625, -2.26953125, 2.759765625}, 2.1015625},
                       {{-0.326904296875, 0.954833984375, 0.0126953125, -2.2108154296875, -0.98583984375,
                         1.914794921875},
                        0.3388671875},
                   });
}

TEST(SGD, MomentumDampeningWeightDecay) {
  // Element 0: g1 = 1.25, b1 = 1.25, p = 0.375; g2 = 2 + 0.09375 = 2.09375, b2 = 0.625 + 1.046875,
  // p = 0.375 - 0.5·1.671875 = -0.4609375.
  check_trajectory(options(0.5, 0.5, 0.5, 0.25, false),
                   {
                       {{0.375, 0.125, 1.5, -1.5625, -1.25, 2.625}, 2.5},
                       {{-0.4609375, 0.5546875, 1.40625, -2.74609375, -1.546875, 3.2734375}, 1.84375},
                       {{-0.60009765625, 0.48486328125, 0.771484375, -3.041259765625, -1.5986328125, 2.89306640625},
                        1.275390625},
                       {{-0.757171630859375, 1.169647216796875, 0.1558837890625, -3.4987640380859375,
                         -1.02459716796875, 2.272064208984375},
                        0.1614990234375},
                   });
}

TEST(SGD, NesterovWithWeightDecay) {
  // Element 0: g1 = 1.25, b1 = 1.25, g = 1.25 + 0.625 = 1.875, p = 1 - 0.9375 = 0.0625.
  check_trajectory(options(0.5, 0.5, 0, 0.25, true),
                   {
                       {{0.0625, 0.6875, 1.25, -2.59375, -0.875, 2.4375}, 1.75},
                       {{-1.60546875, 0.46484375, 1.640625, -3.373046875, -2.7734375, 4.88671875}, 1.796875},
                       {{-0.884521484375, -0.315673828125, -0.1435546875, -2.6673583984375, -2.50732421875,
                         2.847412109375},
                        0.9677734375},
                       {{-1.0835418701171875, 1.8823089599609375, -1.15618896484375, -3.6501998901367188,
                         -0.577484130859375, 1.3492889404296875},
                        -1.64093017578125},
                   });
}

TEST(SGD, TypicalHyperParametersRoundLikePyTorch) {
  // lr 0.1, Nesterov momentum 0.9, weight decay 1e-4: not dyadic, so every operation rounds. The
  // expected values apply the rule one rounded operation at a time, in float64 and in float32.
  const std::vector<V> f64 = {
      {0.809981, -0.6199809999999999, 1.904962, -0.2600095, -1.809962, 2.999943},
      {0.34895751036099987, -0.5529611203609999, 2.0544096057220003, -0.7740086098195001, -2.298911410722,
       3.759861701083},
      {0.304037029322203, -0.637638302253613, 1.7188905617472916, -1.0515954425789638, -2.468938490712996,
       3.7037440941723796},
  };
  const std::vector<V> f32 = {
      {0.8099809885025024, -0.619981050491333, 1.9049620628356934, -0.2600094676017761, -1.8099620342254639,
       2.9999430179595947},
      {0.34895744919776917, -0.5529611706733704, 2.0544097423553467, -0.774008572101593, -2.2989113330841064,
       3.759861707687378},
      {0.3040369749069214, -0.6376383900642395, 1.71889066696167, -1.0515953302383423, -2.4689383506774902,
       3.7037441730499268},
  };
  for (DType dtype : {DType::Float32, DType::Float64}) {
    SCOPED_TRACE(dtype_name(dtype));
    Tensor w = param(kMatrixStart, {2, 3}, dtype);
    SGD opt({w}, options(0.1, 0.9, 0, 1e-4, true));
    for (std::size_t k = 0; k < 3; ++k) {
      w.set_grad(tensor(kMatrixGrads[k], {2, 3}, dtype));
      opt.step();
      V got = w.to_vector();
      for (std::size_t i = 0; i < 6; ++i) {
        if (dtype == DType::Float64)
          EXPECT_DOUBLE_EQ(got[i], f64[k][i]) << "step " << k + 1 << ", element " << i;
        else
          EXPECT_FLOAT_EQ(static_cast<float>(got[i]), static_cast<float>(f32[k][i]))
              << "step " << k + 1 << ", element " << i;
      }
    }
  }
}

TEST(SGD, GradientOfAnotherDtypeIsConverted) {
  Tensor w = param({1, 2}, {2}, DType::Float32);
  SGD opt({w}, options(0.5, 0, 0, 0, false));
  w.set_grad(tensor({1, -4}, {2}, DType::Float64));
  opt.step();
  EXPECT_EQ(w.to_vector(), (V{0.5, 4}));
  EXPECT_EQ(w.dtype(), DType::Float32);
}

TEST(SGD, GradientOfTheWrongShapeThrows) {
  Tensor w = param({1, 2, 3, 4, 5, 6}, {2, 3}, DType::Float64);
  SGD opt({w}, options(0.5, 0, 0, 0, false));
  w.set_grad(tensor({1, 2}, {2}, DType::Float64));
  std::string e = error_of([&] { opt.step(); });
  EXPECT_CONTAINS(e, "[2, 3]");
  EXPECT_CONTAINS(e, "[2]");
  EXPECT_EQ(w.to_vector(), (V{1, 2, 3, 4, 5, 6}));
}

// ---- groups, skipped parameters, zero_grad ----

TEST(SGD, ParameterGroupsUpdateIndependently) {
  Tensor a = param({1, 2}, {2}, DType::Float64);
  Tensor b = param({1, 2}, {2}, DType::Float64);
  Tensor c = param({8}, {}, DType::Float32);
  SGD opt(std::vector<ParamGroup>{{{a}, options(0.5, 0, 0, 0, false)}, {{b, c}, options(0.25, 0.5, 0, 0, false)}});
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[1].options.lr, 0.25);

  for (const Tensor& t : {a, b}) t.set_grad(tensor({2, -4}, {2}, DType::Float64));
  c.set_grad(scalar(4, DType::Float32));
  opt.step();
  EXPECT_EQ(a.to_vector(), (V{0, 4}));      // 1 - 0.5·2, 2 + 0.5·4
  EXPECT_EQ(b.to_vector(), (V{0.5, 3}));    // 1 - 0.25·2, 2 + 0.25·4
  EXPECT_EQ(c.item(), 7);                   // 8 - 0.25·4
  EXPECT_EQ(keys(opt.state_dict()), (std::vector<std::string>{"1.0.momentum_buffer", "1.1.momentum_buffer"}));

  opt.step();  // same gradients: group 0 has no momentum, group 1's buffer is 0.5·g + g = 1.5·g
  EXPECT_EQ(a.to_vector(), (V{-1, 6}));
  EXPECT_EQ(b.to_vector(), (V{-0.25, 4.5}));
  EXPECT_EQ(c.item(), 5.5);

  opt.param_groups()[0].options.lr = 0.25;  // a changed option applies to its own group only
  opt.step();
  EXPECT_EQ(a.to_vector(), (V{-1.5, 7}));
  EXPECT_EQ(b.to_vector(), (V{-1.125, 6.25}));  // buffer 0.5·1.5·g + g = 1.75·g, lr 0.25
  EXPECT_EQ(c.item(), 3.75);
}

TEST(SGD, ParametersWithoutGradAreSkipped) {
  Tensor a = param({1, 2}, {2}, DType::Float32);
  Tensor b = param({3, 4}, {2}, DType::Float32);
  SGD opt({a, b}, options(0.5, 0.5, 0, 0.25, false));
  a.set_grad(tensor({2, 2}, {2}));
  opt.step();
  EXPECT_EQ(a.to_vector(), (V{-0.125, 0.75}));  // g = 2 + 0.25·p
  EXPECT_EQ(b.to_vector(), (V{3, 4}));          // no grad: untouched, not even weight decay
  EXPECT_FALSE(b.grad().defined());
  NamedTensors state = opt.state_dict();
  ASSERT_EQ(keys(state), (std::vector<std::string>{"0.0.momentum_buffer"}));
  EXPECT_EQ(state[0].second.to_vector(), (V{2.25, 2.5}));

  // b's first step with a gradient starts its buffer at g, though it is the optimizer's second step.
  b.set_grad(tensor({1, 1}, {2}));
  a.set_grad(Tensor());
  opt.step();
  EXPECT_EQ(a.to_vector(), (V{-0.125, 0.75}));
  EXPECT_EQ(b.to_vector(), (V{2.125, 3}));  // g = 1 + 0.25·p = (1.75, 2), p - 0.5·g
  EXPECT_EQ(keys(opt.state_dict()), (std::vector<std::string>{"0.0.momentum_buffer", "0.1.momentum_buffer"}));
}

TEST(SGD, ZeroGradDropsGradients) {
  Tensor a = param({1, 2}, {2}, DType::Float64);
  Tensor s = param({5}, {}, DType::Float32);
  SGD opt({a, s}, options(0.5, 0.9, 0, 0, false));
  a.set_grad(tensor({1, 1}, {2}, DType::Float64));
  s.set_grad(scalar(1));
  opt.step();
  EXPECT_EQ(a.to_vector(), (V{0.5, 1.5}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(s.grad().defined());
  opt.step();  // nothing to do: momentum alone does not move a parameter without a gradient (as PyTorch)
  EXPECT_EQ(a.to_vector(), (V{0.5, 1.5}));
  EXPECT_EQ(s.item(), 4.5);
  EXPECT_EQ(opt.state_dict().size(), 2u);  // the buffers survive zero_grad
}

// ---- option checks ----

TEST(SGD, InvalidOptionsThrowWithTheValue) {
  Tensor w = param({1}, {}, DType::Float32);
  auto make = [&](SGDOptions o) { return error_of([&] { SGD opt({w}, o); }); };
  std::string e = make(options(-0.5, 0, 0, 0, false));
  EXPECT_CONTAINS(e, "learning rate");
  EXPECT_CONTAINS(e, "-0.5");
  e = make(options(-1e-9, 0, 0, 0, false));
  EXPECT_CONTAINS(e, "-1e-09");
  e = make(options(std::nan(""), 0, 0, 0, false));
  EXPECT_CONTAINS(e, "learning rate");
  EXPECT_CONTAINS(e, "nan");
  e = make(options(0.1, -0.25, 0, 0, false));
  EXPECT_CONTAINS(e, "momentum");
  EXPECT_CONTAINS(e, "-0.25");
  e = make(options(0.1, 0, 0, -0.001, false));
  EXPECT_CONTAINS(e, "weight_decay");
  EXPECT_CONTAINS(e, "-0.001");
  e = make(options(0.1, 0, 0, 0, true));
  EXPECT_CONTAINS(e, "Nesterov");
  EXPECT_CONTAINS(e, "momentum 0");
  e = make(options(0.1, 0.9, 0.5, 0, true));
  EXPECT_CONTAINS(e, "Nesterov");
  EXPECT_CONTAINS(e, "dampening 0.5");
  EXPECT_EQ(make(options(0.1, 0.9, 0, 0, true)), "");
  EXPECT_EQ(make(options(0, 0, 0, 0, false)), "");  // lr 0 is allowed, as PyTorch

  // The group is named, and options changed after construction are checked at the next step.
  Tensor v = param({1}, {}, DType::Float32);
  e = error_of([&] {
    SGD opt(std::vector<ParamGroup>{{{w}, options(0.1, 0, 0, 0, false)}, {{v}, options(-2, 0, 0, 0, false)}});
  });
  EXPECT_CONTAINS(e, "group 1");
  EXPECT_CONTAINS(e, "-2");
  SGD opt({w}, options(0.1, 0, 0, 0, false));
  opt.param_groups()[0].options.lr = -3;
  w.set_grad(scalar(1));
  e = error_of([&] { opt.step(); });
  EXPECT_CONTAINS(e, "learning rate -3");
  EXPECT_EQ(w.item(), 1);
}

TEST(SGD, RejectsTensorsThatAreNotFloatingLeaves) {
  Tensor labels = tensor({1, 2}, {2}, DType::Int64);
  EXPECT_THROW(SGD({labels}, SGDOptions{}), std::invalid_argument);
  EXPECT_THROW(SGD({Tensor()}, SGDOptions{}), std::invalid_argument);
  Tensor w = param({1, 2}, {2}, DType::Float32);
  Tensor y = w * 2.0;  // not a leaf
  EXPECT_THROW(SGD({y}, SGDOptions{}), std::invalid_argument);
}

// ---- state_dict ----

namespace {

struct TwoGroups {
  Tensor w, s, idle;
  std::vector<ParamGroup> groups() const {
    return {{{w, idle}, options(0.1, 0.9, 0.1, 5e-4, false)}, {{s}, options(0.03, 0.8, 0, 1e-3, true)}};
  }
};

TwoGroups fresh_two_groups() {
  return {param({0.3, -0.7, 1.1, 0.2, -0.05, 0.9}, {2, 3}, DType::Float32), param({1.7}, {}, DType::Float64),
          param({1, 2}, {2}, DType::Float32)};
}

void give_grads(const TwoGroups& r, std::size_t k) {
  V g = kMatrixGrads[k];
  for (double& x : g) x = x * 0.37 + 0.011 * static_cast<double>(k);
  r.w.set_grad(tensor(g, {2, 3}, DType::Float32));
  r.s.set_grad(scalar(kScalarGrads[k] * 0.29, DType::Float64));
}

}  // namespace

TEST(SGD, StateDictRoundTripContinuesTheTrajectoryExactly) {
  TwoGroups a = fresh_two_groups();
  SGD opt_a(a.groups());
  for (std::size_t k = 0; k < 4; ++k) {
    give_grads(a, k);
    opt_a.step();
  }

  TwoGroups b = fresh_two_groups();
  SGD opt_b(b.groups());
  for (std::size_t k = 0; k < 2; ++k) {
    give_grads(b, k);
    opt_b.step();
  }
  NamedTensors state = opt_b.state_dict();
  // "idle" (group 0, index 1) never had a gradient, so it has no buffer.
  ASSERT_EQ(keys(state), (std::vector<std::string>{"0.0.momentum_buffer", "1.0.momentum_buffer"}));
  EXPECT_EQ(state[0].second.shape(), (Shape{2, 3}));
  EXPECT_EQ(state[1].second.shape(), Shape{});
  EXPECT_EQ(state[1].second.dtype(), DType::Float64);
  V saved_buffer = state[0].second.to_vector();

  // A fresh optimizer over copies of b's parameters, loaded with b's state.
  TwoGroups c{b.w.detach().clone().requires_grad_(), b.s.detach().clone().requires_grad_(),
        b.idle.detach().clone().requires_grad_()};
  SGD opt_c(c.groups());
  opt_c.load_state_dict(state);
  EXPECT_EQ(keys(opt_c.state_dict()), keys(state));
  for (std::size_t k = 2; k < 4; ++k) {
    give_grads(c, k);
    opt_c.step();
  }
  EXPECT_EQ(c.w.to_vector(), a.w.to_vector());  // bit for bit (float → double is exact)
  EXPECT_EQ(c.s.to_vector(), a.s.to_vector());
  EXPECT_EQ(c.idle.to_vector(), (V{1, 2}));
  EXPECT_EQ(opt_c.state_dict()[0].second.to_vector(), opt_a.state_dict()[0].second.to_vector());
  EXPECT_EQ(opt_c.state_dict()[1].second.to_vector(), opt_a.state_dict()[1].second.to_vector());
  // The loaded buffers are copies: c's steps left b's state alone.
  EXPECT_EQ(state[0].second.to_vector(), saved_buffer);

  // Without the state the continuation differs (the test above is not vacuous).
  TwoGroups d{b.w.detach().clone().requires_grad_(), b.s.detach().clone().requires_grad_(),
        b.idle.detach().clone().requires_grad_()};
  SGD opt_d(d.groups());
  for (std::size_t k = 2; k < 4; ++k) {
    give_grads(d, k);
    opt_d.step();
  }
  EXPECT_NE(d.w.to_vector(), a.w.to_vector());
  EXPECT_NE(d.s.to_vector(), a.s.to_vector());
}

TEST(SGD, LoadStateDictErrorsNameTheKey) {
  TwoGroups r = fresh_two_groups();
  SGD opt(r.groups());
  give_grads(r, 0);
  opt.step();
  NamedTensors before = opt.state_dict();
  V buffer_before = before[0].second.to_vector();

  for (const std::string key : {"2.0.momentum_buffer", "0.2.momentum_buffer", "1.1.momentum_buffer",
                                 "0.0.velocity", "0.0.momentum_buffer_x", "weight", "0.0", " 0.0.momentum_buffer",
                                 "0.0.momentum_buffer extra", "00.0.momentum_buffer"}) {
    SCOPED_TRACE(key);
    std::string e = error_of([&] { opt.load_state_dict({{key, zeros({2, 3})}}); });
    EXPECT_CONTAINS(e, "unexpected key");
    EXPECT_CONTAINS(e, "\"" + key + "\"");
  }
  std::string e = error_of([&] {
    opt.load_state_dict({{"1.0.momentum_buffer", scalar(1, DType::Float64)}, {"0.0.momentum_buffer", zeros({3, 2})}});
  });
  EXPECT_CONTAINS(e, "\"0.0.momentum_buffer\"");
  EXPECT_CONTAINS(e, "shape");
  EXPECT_CONTAINS(e, "[3, 2]");
  EXPECT_CONTAINS(e, "[2, 3]");

  // A failed load leaves the optimizer's state as it was.
  NamedTensors after = opt.state_dict();
  EXPECT_EQ(keys(after), keys(before));
  EXPECT_EQ(after[0].second.to_vector(), buffer_before);

  // An empty state drops every buffer: the next step starts each buffer afresh at g.
  opt.load_state_dict({});
  EXPECT_TRUE(opt.state_dict().empty());
}

// ---- schedules ----

TEST(Schedule, StepDecay) {
  Schedule s;
  s.kind = Schedule::Kind::Step;
  s.step_size = 3;
  s.gamma = 0.5;
  const V expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125};
  for (std::int64_t e = 0; e < 10; ++e) EXPECT_NEAR(s.lr_at(0.1, e), expected[static_cast<std::size_t>(e)], 1e-12) << e;
}

TEST(Schedule, MultiStepDecay) {
  Schedule s;
  s.kind = Schedule::Kind::MultiStep;
  s.milestones = {2, 5};
  s.gamma = 0.1;
  const V expected = {1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01};
  for (std::int64_t e = 0; e < 8; ++e) EXPECT_NEAR(s.lr_at(1.0, e), expected[static_cast<std::size_t>(e)], 1e-12) << e;
  EXPECT_NEAR(s.lr_at(1.0, 1000), 0.01, 1e-12);
}

TEST(Schedule, ConstantIsFlat) {
  Schedule s;
  for (std::int64_t e : {0, 1, 7, 1000}) EXPECT_EQ(s.lr_at(0.3, e), 0.3);
}

TEST(Schedule, CosineAnnealing) {
  Schedule s;
  s.kind = Schedule::Kind::Cosine;
  s.t_max = 10;
  s.eta_min = 0.001;
  const double lr = 0.1;
  auto formula = [&](double e) { return 0.001 + (lr - 0.001) * (1 + std::cos(std::numbers::pi * e / 10)) / 2; };
  EXPECT_NEAR(s.lr_at(lr, 0), 0.1, 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 5), 0.0505, 1e-12);  // halfway: (lr + η_min)/2
  EXPECT_NEAR(s.lr_at(lr, 10), 0.001, 1e-12);  // η_min at T
  EXPECT_NEAR(s.lr_at(lr, 2), formula(2), 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 2), 0.001 + 0.099 * (1 + std::cos(0.2 * std::numbers::pi)) / 2, 1e-12);
  // Beyond T the closed form keeps following the cosine (PyTorch's CosineAnnealingLR): back up to lr at 2T.
  EXPECT_NEAR(s.lr_at(lr, 15), 0.0505, 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 20), 0.1, 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 12), formula(12), 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 12), s.lr_at(lr, 8), 1e-12);
  // Decreasing over [0, T].
  for (std::int64_t e = 1; e <= 10; ++e) EXPECT_LT(s.lr_at(lr, e), s.lr_at(lr, e - 1)) << e;
}

TEST(Schedule, WarmupMultipliesTheSchedule) {
  Schedule s;
  s.kind = Schedule::Kind::Cosine;
  s.t_max = 10;
  s.warmup_epochs = 4;  // factor 1/3 + (2/3)·e/4 for e < 4
  const double lr = 0.2;
  auto cosine = [&](double e) { return lr * (1 + std::cos(std::numbers::pi * e / 10)) / 2; };
  EXPECT_NEAR(s.lr_at(lr, 0), lr / 3, 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 1), cosine(1) * 0.5, 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 2), cosine(2) * (2.0 / 3.0), 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 3), cosine(3) * (5.0 / 6.0), 1e-12);
  EXPECT_NEAR(s.lr_at(lr, 4), cosine(4), 1e-12);  // warm-up over
  EXPECT_NEAR(s.lr_at(lr, 7), cosine(7), 1e-12);

  Schedule c;
  c.warmup_epochs = 2;
  c.warmup_start_factor = 0.5;
  EXPECT_NEAR(c.lr_at(0.4, 0), 0.2, 1e-12);
  EXPECT_NEAR(c.lr_at(0.4, 1), 0.3, 1e-12);
  EXPECT_NEAR(c.lr_at(0.4, 2), 0.4, 1e-12);

  Schedule st = Schedule::parse("step:2:0.5+warmup:3");
  EXPECT_NEAR(st.lr_at(0.9, 0), 0.3, 1e-12);
  EXPECT_NEAR(st.lr_at(0.9, 2), 0.45 * (1.0 / 3.0 + (2.0 / 3.0) * (2.0 / 3.0)), 1e-12);
  EXPECT_NEAR(st.lr_at(0.9, 3), 0.45, 1e-12);
}

TEST(Schedule, ParseAcceptsTheDocumentedForms) {
  Schedule s = Schedule::parse("constant");
  EXPECT_EQ(s.kind, Schedule::Kind::Constant);
  EXPECT_EQ(s.warmup_epochs, 0);

  s = Schedule::parse("step:30");
  EXPECT_EQ(s.kind, Schedule::Kind::Step);
  EXPECT_EQ(s.step_size, 30);
  EXPECT_EQ(s.gamma, 0.1);
  s = Schedule::parse("step:7:0.5");
  EXPECT_EQ(s.step_size, 7);
  EXPECT_EQ(s.gamma, 0.5);

  s = Schedule::parse("multistep:30,60,90");
  EXPECT_EQ(s.kind, Schedule::Kind::MultiStep);
  EXPECT_EQ(s.milestones, (std::vector<std::int64_t>{30, 60, 90}));
  EXPECT_EQ(s.gamma, 0.1);
  s = Schedule::parse("multistep:5:0.25");
  EXPECT_EQ(s.milestones, (std::vector<std::int64_t>{5}));
  EXPECT_EQ(s.gamma, 0.25);

  s = Schedule::parse("cosine:100");
  EXPECT_EQ(s.kind, Schedule::Kind::Cosine);
  EXPECT_EQ(s.t_max, 100);
  EXPECT_EQ(s.eta_min, 0.0);
  s = Schedule::parse("cosine:50:1e-4");
  EXPECT_EQ(s.t_max, 50);
  EXPECT_EQ(s.eta_min, 1e-4);

  s = Schedule::parse("cosine:50+warmup:5");
  EXPECT_EQ(s.kind, Schedule::Kind::Cosine);
  EXPECT_EQ(s.t_max, 50);
  EXPECT_EQ(s.warmup_epochs, 5);
  s = Schedule::parse("constant+warmup:2");
  EXPECT_EQ(s.kind, Schedule::Kind::Constant);
  EXPECT_EQ(s.warmup_epochs, 2);
  s = Schedule::parse("multistep:3,8:0.5+warmup:2");
  EXPECT_EQ(s.milestones, (std::vector<std::int64_t>{3, 8}));
  EXPECT_EQ(s.gamma, 0.5);
  EXPECT_EQ(s.warmup_epochs, 2);
}

TEST(Schedule, StrRoundTrips) {
  for (const std::string text :
       {"constant", "step:30", "step:7:0.5", "step:3:0.31415926535897931", "multistep:30,60,90", "multistep:5:0.25",
        "cosine:100", "cosine:50:0.0001", "cosine:50:1.2345678901234567e-05+warmup:5", "constant+warmup:2",
        "multistep:3,8:0.5+warmup:2", "step:1:1"}) {
    SCOPED_TRACE(text);
    Schedule a = Schedule::parse(text);
    std::string str = a.str();
    Schedule b = Schedule::parse(str);
    EXPECT_EQ(b.kind, a.kind);
    EXPECT_EQ(b.step_size, a.step_size);
    EXPECT_EQ(b.milestones, a.milestones);
    EXPECT_EQ(b.gamma, a.gamma);  // exact: str() prints 17 digits
    EXPECT_EQ(b.t_max, a.t_max);
    EXPECT_EQ(b.eta_min, a.eta_min);
    EXPECT_EQ(b.warmup_epochs, a.warmup_epochs);
    EXPECT_EQ(b.str(), str);
    for (std::int64_t e : {0, 1, 4, 50, 99}) EXPECT_EQ(b.lr_at(0.1, e), a.lr_at(0.1, e));
  }
  EXPECT_EQ(Schedule::parse("step:7:0.5").str(), "step:7:0.5");
  EXPECT_EQ(Schedule::parse("multistep:3,8:0.5+warmup:2").str(), "multistep:3,8:0.5+warmup:2");
  EXPECT_EQ(Schedule::parse("cosine:10").str(), "cosine:10:0");
  EXPECT_EQ(Schedule::parse("constant").str(), "constant");
}

TEST(Schedule, ParseErrorsNameTheText) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty"},
      {"linear", "unknown form"},
      {"step", "unknown form"},
      {"constant:3", "unknown form"},
      {"cosine:10:0:1", "unknown form"},
      {"step:", "not a number"},
      {"step:abc", "not a number"},
      {"step:0", "positive integer"},
      {"step:-2", "positive integer"},
      {"step:2.5", "positive integer"},
      {"step:1e300", "positive integer"},
      {"step:2:x", "not a number"},
      {"step:2:nan", "not a number"},
      {"step:2:0.5x", "not a number"},
      {"multistep:", "milestone"},
      {"multistep:3,,5", "not a number"},
      {"multistep:3,0", "positive integer"},
      {"cosine:inf", "not a number"},
      {"cosine:10+warmup", "warmup:W"},
      {"cosine:10+warmup:0", "positive integer"},
      {"cosine:10+cooldown:3", "warmup:W"},
      {"cosine:10+warmup:2+warmup:3", "warmup:W"},
      {"+warmup:3", "empty"},
  };
  for (const auto& [text, why] : bad) {
    SCOPED_TRACE(text);
    std::string e;
    try {
      Schedule::parse(text);
    } catch (const std::invalid_argument& ex) {
      e = ex.what();
    }
    ASSERT_FALSE(e.empty()) << "accepted";
    EXPECT_CONTAINS(e, "schedule \"" + text + "\"");
    EXPECT_CONTAINS(e, why);
    EXPECT_CONTAINS(e, "expected constant, step:S");
  }
}
