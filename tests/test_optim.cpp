// SGD against PyTorch's update rule step for step (values worked out by hand from the rule in
// optim/sgd.h), parameter groups, skipped parameters, option checks, the optimizer's state_dict,
// and the learning-rate schedules of optim/schedule.h.
#include "zoograd/tests/test_optim.h"

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

// clip_grad_norm_ (optim/clip.h): the total norm over every gradient, the scale max_norm/(total + 1e-6)
// applied only above max_norm, parameters without a gradient skipped, a bad max_norm refused.
TEST(ClipGradNorm, ScalesEveryGradientByOneFactorAboveTheLimit) {
  const DType f64 = DType::Float64;
  Tensor a = param({3.0, 0.0}, {2}, f64), b = param({4.0}, {1}, f64), idle = param({1.0}, {1}, f64);
  a.set_grad(tensor({3.0, 0.0}, {2}, f64));
  b.set_grad(tensor({4.0}, {1}, f64));  // total norm 5
  EXPECT_NEAR(clip_grad_norm_({a, b, idle}, 1.0), 5.0, 1e-12);
  const double f = 1.0 / (5.0 + 1e-6);
  EXPECT_NEAR(a.grad().to_vector()[0], 3.0 * f, 1e-12);
  EXPECT_NEAR(b.grad().to_vector()[0], 4.0 * f, 1e-12);
  EXPECT_FALSE(idle.grad().defined());
  // Below the limit nothing changes.
  EXPECT_NEAR(clip_grad_norm_({a, b}, 10.0), 1.0, 1e-6);
  EXPECT_NEAR(b.grad().to_vector()[0], 4.0 * f, 1e-12);
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()})
    EXPECT_NE(error_of([&] { clip_grad_norm_({a}, bad); }).find("max_norm must be a positive number"), std::string::npos)
        << bad;
}
