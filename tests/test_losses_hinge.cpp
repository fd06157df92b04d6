// The hinge family (losses/hinge.h): the rows' parameters and samples, reference values and
// gradients from the formulas, and properties (zeros, shapes, extremes, errors). The generic
// checks of every row are check_loss's (tests/test_loss_generic.cpp).
#include "zoograd/tests/test_losses_hinge.h"

// The rows' parameter defaults are the options' defaults.
TEST(HingeCatalog, RowsDeclareTheOptionsDefaults) {
  auto defaults = [](const LossSpec& s) {
    std::vector<std::pair<std::string, double>> d;
    for (const LossParam& p : s.params) d.emplace_back(p.name, p.default_value);
    return d;
  };
  using D = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(defaults(find_loss("hinge_loss")), (D{{"margin", 1.0}}));
  EXPECT_EQ(defaults(find_loss("soft_margin_loss")), D{});
  EXPECT_EQ(defaults(find_loss("multi_margin_loss")), (D{{"p", 1.0}, {"divide_by_classes", 1.0}, {"margin", 1.0}}));
  EXPECT_EQ(defaults(find_loss("crammer_singer_loss")), (D{{"margin", 1.0}}));
  EXPECT_EQ(defaults(find_loss("logsumexp_hinge_loss")), (D{{"softplus", 1.0}, {"temperature", 1.0}}));
  EXPECT_EQ(find_loss("multi_margin_loss").inputs[1].dtype, DType::Int64);
}

// The samples keep every kink of the default parameters at least 0.05 (>> 1e-5) away, and the
// binary ones |y·x| <= 1.9, away from margin 2's kink too (the row's gradcheck variant). Seed 1 is
// the draw check_loss gradchecks, 7 the one the tests below use.
TEST(HingeCatalog, SamplesStayAwayFromKinks) {
  for (std::uint64_t seed : {1, 7}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (const char* name : {"hinge_loss", "squared_hinge_loss", "soft_margin_loss"}) {
      std::vector<Tensor> in = sample(find_loss(name), DType::Float64, seed);
      V x = in[0].to_vector(), y = in[1].to_vector();
      for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_GE(std::abs(1.0 - y[i] * x[i]), 0.05) << name << " element " << i;
        EXPECT_LE(std::abs(y[i] * x[i]), 1.9) << name << " element " << i;
        EXPECT_TRUE(y[i] == 1.0 || y[i] == -1.0);
      }
    }
    for (const char* name : {"multi_margin_loss", "crammer_singer_loss", "logsumexp_hinge_loss"}) {
      std::vector<Tensor> in = sample(find_loss(name), DType::Float64, seed);
      ASSERT_EQ(in[0].shape(), (Shape{4, 5}));
      V x = in[0].to_vector();
      for (std::int64_t n = 0; n < 4; ++n)
        for (std::int64_t i = 0; i < 5; ++i)
          for (std::int64_t j = i + 1; j < 5; ++j) {
            double gap = std::abs(x[n * 5 + i] - x[n * 5 + j]);
            EXPECT_GE(gap, 0.05) << name;                     // no ties of a max
            EXPECT_GE(std::abs(gap - 1.0), 0.05) << name;     // no margin - x_y + x_i = 0
          }
    }
  }
}

// Both sides of each hinge are present, so the gradchecks (check_loss) cover the flat and the sloped part.
TEST(HingeCatalog, SamplesExerciseActiveAndInactiveHinges) {
  auto both_signs = [](const V& v) {
    return std::any_of(v.begin(), v.end(), [](double e) { return e < 0; }) &&
           std::any_of(v.begin(), v.end(), [](double e) { return e > 0; });
  };
  for (std::uint64_t seed : {1, 7}) {
    std::vector<Tensor> in = sample(find_loss("hinge_loss"), DType::Float64, seed);
    V x = in[0].to_vector(), y = in[1].to_vector(), margins;  // 1 - y·x
    for (std::size_t i = 0; i < x.size(); ++i) margins.push_back(1 - y[i] * x[i]);
    EXPECT_TRUE(both_signs(margins)) << "seed " << seed;

    in = sample(find_loss("multi_margin_loss"), DType::Float64, seed);
    x = in[0].to_vector();
    y = in[1].to_vector();
    margins.clear();  // 1 - x_y + x_i, i ≠ y
    for (std::size_t n = 0; n < 4; ++n) {
      auto target = static_cast<std::size_t>(y[n]);
      for (std::size_t i = 0; i < 5; ++i)
        if (i != target) margins.push_back(1 - x[n * 5 + target] + x[n * 5 + i]);
    }
    EXPECT_TRUE(both_signs(margins)) << "seed " << seed;
  }
}

TEST(HingeCatalog, GradcheckWeightedMultiMarginLoss) {
  for (std::int64_t p : {1, 2})
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
      SCOPED_TRACE("p " + std::to_string(p) + " " + reduction_name(r));
      std::vector<Tensor> in = sample(find_loss("multi_margin_loss"), DType::Float64);
      in[0].requires_grad_();
      Tensor weight = f64({0.5, 2.0, 1.0, 0.25, 3.0}, {5}).requires_grad_();
      GradcheckResult result = gradcheck(
          [&](const std::vector<Tensor>& xs) {
            return multi_margin_loss(xs[0], in[1], {.p = p, .weight = xs[1], .reduction = r});
          },
          {in[0], weight});
      EXPECT_TRUE(result.ok) << result.message;
    }
}

TEST(HingeCatalog, CallPassesParametersAndRefusesUnknownOnes) {
  std::vector<Tensor> in = sample(find_loss("crammer_singer_loss"), DType::Float64);
  EXPECT_EQ(find_loss("crammer_singer_loss").call(in, {{"margin", 0.3}}, Reduction::Sum).item(),
            crammer_singer_loss(in[0], in[1], {.margin = 0.3, .reduction = Reduction::Sum}).item());
  std::string e = error_of([&] { find_loss("crammer_singer_loss").call(in, {{"margn", 2.0}}, Reduction::Mean); });
  EXPECT_CONTAINS(e, "crammer_singer_loss: unknown parameter \"margn\"");
  EXPECT_CONTAINS(e, "its parameters: margin");
  EXPECT_CONTAINS(error_of([&] { find_loss("soft_margin_loss").call(sample(find_loss("soft_margin_loss"), DType::Float64),
                                                              {{"margin", 1.0}}, Reduction::Mean); }),
                  "(it takes none)");
  EXPECT_CONTAINS(error_of([&] { find_loss("multi_margin_loss").call(in, {{"p", 1.5}}, Reduction::Mean); }),
                  "multi_margin_loss: p: expected a whole number in [1, 2], got 1.5");
}

// ---- reference values and gradients, float64, to 1e-10 ----

TEST(HingeLoss, ReferenceValues) {
  // max(0, 1 - y·x) = [0.7, 0, 2.5, 0.5]; mean 3.7/4; d/dx = -y·[1 - y·x > 0] / 4
  ValueAndGrad a = value_and_grad(
      [](const Tensor& x) { return hinge_loss(x, f64({1, 1, -1, -1}, {4})); }, {0.3, 2.0, 1.5, -0.5}, {4});
  EXPECT_NEAR(a.value, 0.925, 1e-10);
  expect_all_near(a.grad, {-0.25, 0, 0.25, 0.25}, 1e-10);

  // margin 0.5, sum over a (2, 2): max(0, 0.5 - y·x) = [0.5 - 0.2, 0, 0.5 + 0.25, 0.5 - 0.1]
  ValueAndGrad b = value_and_grad(
      [](const Tensor& x) {
        return hinge_loss(x, f64({1, -1, 1, -1}, {2, 2}), {.margin = 0.5, .reduction = Reduction::Sum});
      },
      {0.2, -0.9, -0.25, -0.1}, {2, 2});
  EXPECT_NEAR(b.value, 0.3 + 0.75 + 0.4, 1e-10);
  expect_all_near(b.grad, {-1, 0, -1, 1}, 1e-10);
}

TEST(SquaredHingeLoss, ReferenceValues) {
  // max(0, 1 - y·x)² = [0.49, 0, 6.25, 0.25]; d/dx = -2·y·max(0, 1 - y·x) / 4
  ValueAndGrad a = value_and_grad(
      [](const Tensor& x) { return squared_hinge_loss(x, f64({1, 1, -1, -1}, {4})); }, {0.3, 2.0, 1.5, -0.5}, {4});
  EXPECT_NEAR(a.value, (0.49 + 6.25 + 0.25) / 4, 1e-10);
  expect_all_near(a.grad, {-2 * 0.7 / 4, 0, 2 * 2.5 / 4, 2 * 0.5 / 4}, 1e-10);

  // margin 2, sum: max(0, 2 - y·x)² = [1.5², 3.5², 0]
  ValueAndGrad b = value_and_grad(
      [](const Tensor& x) {
        return squared_hinge_loss(x, f64({1, -1, 1}, {3}), {.margin = 2.0, .reduction = Reduction::Sum});
      },
      {0.5, 1.5, 3.0}, {3});
  EXPECT_NEAR(b.value, 2.25 + 12.25, 1e-10);
  expect_all_near(b.grad, {-3.0, 7.0, 0}, 1e-10);
}

TEST(SoftMarginLoss, ReferenceValues) {
  // F.soft_margin_loss(x, y): mean of log(1 + exp(-y·x)); d/dx = -y·sigmoid(-y·x) / n
  for (Reduction r : {Reduction::Mean, Reduction::Sum}) {
    V x{0.3, -1.2, 2.5, 0.0, -0.7, 4.0}, y{1, 1, -1, -1, -1, 1};
    double scale = r == Reduction::Mean ? 1.0 / 6 : 1.0, expected = 0;
    V grad;
    for (std::size_t i = 0; i < x.size(); ++i) {
      expected += std::log1p(std::exp(-y[i] * x[i])) * scale;
      grad.push_back(-y[i] * sigmoid_of(-y[i] * x[i]) * scale);
    }
    ValueAndGrad a = value_and_grad(
        [&](const Tensor& t) { return soft_margin_loss(t, f64(y, {2, 3}), {.reduction = r}); }, x, {2, 3});
    EXPECT_NEAR(a.value, expected, 1e-10) << reduction_name(r);
    expect_all_near(a.grad, grad, 1e-10);
  }
  // y·x = 0 gives log 2 exactly
  EXPECT_NEAR(soft_margin_loss(f64({0.0}, {1}), f64({-1}, {1})).item(), std::log(2.0), 1e-15);
}

TEST(MultiMarginLoss, ReferenceValues) {
  // PyTorch's documented example: F.multi_margin_loss(tensor([[0.1, 0.2, 0.4, 0.8]]), tensor([3])) = 0.325
  //   = ((1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4)) / 4; each active i ≠ y gets +1/4, x_y -3/4
  ValueAndGrad a = value_and_grad([](const Tensor& x) { return multi_margin_loss(x, labels({3})); },
                                  {0.1, 0.2, 0.4, 0.8}, {1, 4});
  EXPECT_NEAR(a.value, 0.325, 1e-10);
  expect_all_near(a.grad, {0.25, 0.25, 0.25, -0.75}, 1e-10);

  // F.multi_margin_loss(x, y, p=2, margin=0.7, weight=w, reduction='mean'):
  //   ℓ_n = Σ_{i≠y} w_y·max(0, 0.7 - x_y + x_i)² / C, mean over N (not over Σ w_y)
  V x{0.5, -0.3, 1.1, 0.2, 0.9, -0.4, 2.0, 0.05, -1.0}, w{0.5, 2.0, 3.0};
  std::vector<std::int64_t> y{2, 0, 1};
  const double margin = 0.7;
  double expected = 0;
  V grad(9, 0.0), per_sample;
  for (std::size_t n = 0; n < 3; ++n) {
    double xy = x[n * 3 + y[n]], total = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      double z = margin - xy + x[n * 3 + i];
      if (i == static_cast<std::size_t>(y[n]) || z <= 0) continue;
      total += w[y[n]] * z * z / 3;
      grad[n * 3 + i] += w[y[n]] * 2 * z / 3 / 3;
      grad[n * 3 + y[n]] -= w[y[n]] * 2 * z / 3 / 3;
    }
    per_sample.push_back(total);
    expected += total / 3;
  }
  ASSERT_GT(expected, 0.1);
  auto weighted = [&](const Tensor& t, Reduction r) {
    return multi_margin_loss(t, labels({2, 0, 1}), {.p = 2, .margin = margin, .weight = f64(w, {3}), .reduction = r});
  };
  ValueAndGrad b = value_and_grad([&](const Tensor& t) { return weighted(t, Reduction::Mean); }, x, {3, 3});
  EXPECT_NEAR(b.value, expected, 1e-10);
  expect_all_near(b.grad, grad, 1e-10);
  expect_all_near(weighted(f64(x, {3, 3}), Reduction::None).to_vector(), per_sample, 1e-10);
}
