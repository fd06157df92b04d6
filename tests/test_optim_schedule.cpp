// SGD state_dict round trips and the learning-rate schedules (optim/schedule.h).
#include "zoograd/tests/test_optim.h"

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
