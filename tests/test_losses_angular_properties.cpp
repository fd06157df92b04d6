// Properties of the angular-margin family: margins, switches, schedules, reductions, extremes, errors.
#include "zoograd/tests/test_losses_angular.h"

TEST(AngularLosses, MarginsNeverLowerTheLoss) {
  // The target logit with a margin is at most the margin-free one, so each sample's loss is at
  // least NormFace's (or softmax's, for L-Softmax).
  for (std::uint64_t seed : {7, 8, 9}) {
    Problem p = sample_problem(seed);
    Vec normface = normface_loss(p.x, p.w, p.y, {.s = 30, .reduction = Reduction::None}).to_vector();
    Vec plain = plain_softmax_loss(p.x, p.w, p.y, Reduction::None).to_vector();
    std::vector<std::pair<std::string, Vec>> with_margin{
        {"cosface", cosface_loss(p.x, p.w, p.y, {.s = 30, .reduction = Reduction::None}).to_vector()},
        {"arcface", arcface_loss(p.x, p.w, p.y, {.s = 30, .reduction = Reduction::None}).to_vector()},
        {"combined",
         combined_margin_loss(p.x, p.w, p.y, {.s = 30, .m1 = 1.2, .m2 = 0.2, .m3 = 0.1, .reduction = Reduction::None})
             .to_vector()}};
    for (const auto& [name, losses] : with_margin)
      for (std::size_t n = 0; n < losses.size(); ++n) EXPECT_GT(losses[n], normface[n]) << name << " sample " << n;
    for (std::int64_t m : {2, 3, 4}) {
      Vec large = lsoftmax_loss(p.x, p.w, p.y, {.m = m, .reduction = Reduction::None}).to_vector();
      for (std::size_t n = 0; n < large.size(); ++n) EXPECT_GE(large[n], plain[n]) << "lsoftmax m " << m;
    }
  }
}

TEST(AngularLosses, ArcFaceAtItsSwitches) {
  // Left of θ = π - m the logit is s cos(θ + m) → -s; right of it insightface's fallback
  // s(cos θ - m sin m) → s(-cos m - m sin m). The fallback is not continuous with cos(θ + m): it
  // starts s(cos m + m sin m - 1) lower (≈ s m²/2), so the logit keeps decreasing in θ.
  for (double m : {0.1, 0.5, 1.0, 2.0}) {
    double s = 64, switch_at = kPi - m, h = 1e-9;
    Vec around =
        arcface_target_logit(tensor(cosines({switch_at - h, switch_at + h}), DType::Float64), s, m).to_vector();
    EXPECT_NEAR(around[0], -s, 1e-6) << "m " << m;
    EXPECT_NEAR(around[1], s * (-std::cos(m) - m * std::sin(m)), 1e-6) << "m " << m;
    EXPECT_NEAR(around[0] - around[1], s * (std::cos(m) + m * std::sin(m) - 1), 1e-6) << "m " << m;
    // Each branch is continuous up to the switch and the whole curve decreases over [0, π].
    Vec thetas = grid(0, kPi, 4001);
    Vec logit = arcface_target_logit(tensor(cosines(thetas), DType::Float64), s, m).to_vector();
    for (std::size_t i = 1; i < logit.size(); ++i) {
      ASSERT_LT(logit[i], logit[i - 1]) << "m " << m << " θ " << thetas[i];
      bool crosses_switch = thetas[i - 1] < switch_at && thetas[i] >= switch_at;
      if (!crosses_switch) {
        ASSERT_LE(logit[i - 1] - logit[i], s * (kPi / 4000) * 1.0001) << "m " << m << " θ " << thetas[i];
      }
    }
  }
  // easy_margin switches at cos θ = 0: s cos(π/2 + m) = -s sin m on the left, s·0 on the right.
  Vec around = arcface_target_logit(tensor({1e-12, -1e-12}, DType::Float64), 30, 0.5, true).to_vector();
  EXPECT_NEAR(around[0], -30 * std::sin(0.5), 1e-9);
  EXPECT_NEAR(around[1], 0, 1e-9);
}

TEST(AngularLosses, TransformsWithoutMarginAreTheScaledCosine) {
  Tensor c = tensor({-1, -0.6, 0, 0.3, 0.99, 1}, DType::Float64);
  Vec expected = (7.0 * c).to_vector();
  expect_all_near(cosface_target_logit(c, 7, 0).to_vector(), expected, 0, "cosface");
  expect_all_near(arcface_target_logit(c, 7, 0).to_vector(), expected, 1e-14, "arcface");
  expect_all_near(combined_margin_target_logit(c, 7, 1, 0, 0).to_vector(), expected, 1e-12, "combined");
  expect_all_near(lsoftmax_target_logit(c, 1, 3.0).to_vector(), c.to_vector(), 1e-15, "lsoftmax m = 1");
}

TEST(AngularLosses, TransformsTolerateCosinesRoundedPastOne) {
  // A dot product of unit vectors can round to just outside [-1, 1]; acos would be NaN there.
  using Transform = std::function<Tensor(const Tensor&)>;
  std::vector<std::pair<std::string, Transform>> transforms{
      {"lsoftmax", [](const Tensor& c) { return lsoftmax_target_logit(c, 4, 0.5); }},
      {"cosface", [](const Tensor& c) { return cosface_target_logit(c, 30, 0.35); }},
      {"arcface", [](const Tensor& c) { return arcface_target_logit(c, 64, 0.5); }},
      {"combined", [](const Tensor& c) { return combined_margin_target_logit(c, 64, 0.9, 0.4, 0.15); }}};
  for (const auto& [name, transform] : transforms) {
    Tensor c = tensor({1 + 4e-16, -1 - 4e-16}, DType::Float64).requires_grad_();
    Tensor z = transform(c);
    sum(z).backward();
    EXPECT_TRUE(all_finite(z.to_vector())) << name;
    EXPECT_TRUE(all_finite(c.grad().to_vector())) << name;
  }
  // At the clamp, combined margin takes θ = 0 and θ = π; there t = 0.9π + 0.4 > π, so ψ(t) = -cos t - 2.
  Vec z = combined_margin_target_logit(tensor({1 + 4e-16, -1 - 4e-16}, DType::Float64), 2, 0.9, 0.4, 0.15).to_vector();
  EXPECT_NEAR(z[0], 2 * (std::cos(0.4) - 0.15), 1e-15);
  EXPECT_NEAR(z[1], 2 * (-std::cos(0.9 * kPi + 0.4) - 2 - 0.15), 1e-15);
}

TEST(AngularLosses, LambdaSchedule) {
  // λ = max(λ_min, base·(1 + γ·iteration)^-power)
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(0, 1000, 0.12, 1, 5), 1000);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(100, 1000, 0.12, 1, 5), 1000 / 13.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(1000, 1000, 0.12, 1, 5), 1000 / 121.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(1650, 1000, 0.12, 1, 5), 1000 / 199.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(2000, 1000, 0.12, 1, 5), 5);  // 1000/241 < 5: the floor
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(10, 100, 0.5, 2, 0), 100 / 36.0);
  EXPECT_DOUBLE_EQ(lsoftmax_lambda(123, 7, 0, 1, 0), 7);  // γ = 0: constant
  EXPECT_DOUBLE_EQ(SphereFaceOptions{}.lambda(), 1000);
  EXPECT_DOUBLE_EQ(SphereFaceOptions{.iteration = 100}.lambda(), 1000 / 13.0);
  EXPECT_DOUBLE_EQ(SphereFaceOptions{.iteration = 1000000}.lambda(), 5);
}

TEST(AngularLosses, NearZeroAtAPerfectPrediction) {
  // Every class other than the target points the opposite way: the target's softmax probability
  // is 1 to double precision (the loss has no exact zero, only this limit).
  Tensor w = tensor({1, 0, -1, 0, -1, 0}, {3, 2}, DType::Float64);
  Tensor x = tensor({1000, 0}, {1, 2}, DType::Float64), y = tensor({0}, {1}, DType::Int64);
  Tensor unit = tensor({1, 0}, {1, 2}, DType::Float64);
  EXPECT_LT(modified_softmax_loss(x, w, y).item(), 1e-300);
  EXPECT_LT(lsoftmax_loss(x, w, y).item(), 1e-300);
  EXPECT_LT(sphereface_loss(x, w, y).item(), 1e-300);
  EXPECT_LT(normface_loss(unit, w, y, {.s = 64}).item(), 1e-15);
  EXPECT_LT(cosface_loss(unit, w, y, {.s = 64}).item(), 1e-15);
  EXPECT_LT(arcface_loss(unit, w, y).item(), 1e-15);
  EXPECT_LT(combined_margin_loss(unit, w, y).item(), 1e-15);
}

TEST(AngularLosses, NoneGivesOneValuePerEmbedding) {
  for (const LossSpec& row : losses_of_family("angular"))
    for (std::uint64_t seed : {1, 2}) {
      Generator gen(seed);
      std::vector<Tensor> in = row.sample(DType::Float64, gen);
      EXPECT_EQ(row.call(in, {}, Reduction::None).shape(), (Shape{in[0].size(0)})) << row.name;
    }
}

// ---- finiteness at the extremes ----

struct Extreme {
  std::string loss;
  LossParams params;
};

std::vector<Extreme> extremes() {
  std::vector<Extreme> all{{"modified_softmax_loss", {}}};
  for (double s : {1.0, 30.0, 64.0, 100.0}) {
    all.push_back({"normface_loss", {{"s", s}}});
    for (double m : {0.0, 0.35, 1.5, kPi - 0.01}) {
      all.push_back({"cosface_loss", {{"s", s}, {"m", m}}});
      all.push_back({"arcface_loss", {{"s", s}, {"m", m}, {"easy_margin", 0}}});
      all.push_back({"arcface_loss", {{"s", s}, {"m", m}, {"easy_margin", 1}}});
      for (double m1 : {0.5, 1.0, 2.0})
        all.push_back({"combined_margin_loss", {{"s", s}, {"m1", m1}, {"m2", m}, {"m3", 0.35}}});
    }
  }
  for (double m : {1, 2, 3, 4, 5}) {
    for (double lambda : {0.0, 1000.0}) all.push_back({"lsoftmax_loss", {{"m", m}, {"lambda", lambda}}});
    for (double iteration : {0.0, 1e6}) all.push_back({"sphereface_loss", {{"m", m}, {"iteration", iteration}}});
  }
  return all;
}

TEST(AngularLosses, FiniteAtCosineExtremesZeroAndHugeNorms) {
  // Per target cosine: sample 0 has norm 1, sample 1 norm 1e4 (logits of ±1e4 where the norm
  // counts), sample 2 is the zero vector.
  for (double c : {-1.0, -1 + 1e-12, 0.0, 1 - 1e-12, 1.0})
    for (DType dtype : {DType::Float64, DType::Float32}) {
      Problem base = problem({std::acos(c), std::acos(c), 0.0}, {1.0, 1e4, 0.0}, dtype);
      for (const Extreme& e : extremes()) {
        Tensor x = base.x.detach().clone().requires_grad_(), w = base.w.detach().clone().requires_grad_();
        Tensor loss = find_loss(e.loss).call({x, w, base.y}, e.params, Reduction::Sum);
        loss.backward();
        std::string what = e.loss + " cos " + std::to_string(c) + " " + dtype_name(dtype);
        for (const auto& [k, v] : e.params) what += " " + k + "=" + std::to_string(v);
        EXPECT_TRUE(std::isfinite(loss.item())) << what;
        EXPECT_TRUE(all_finite(x.grad().to_vector())) << what;
        EXPECT_TRUE(all_finite(w.grad().to_vector())) << what;
      }
    }
}

TEST(AngularLosses, ExactlyParallelEmbeddingsGiveTheLimitValues) {
  // x = W_0 = e1 and W_1 = e2: cos θ_0 = 1 and cos θ_1 = 0 exactly, so the losses are
  // log(1 + exp(0 - z_0)). ArcFace's sin θ, from the rejection of x̂ from ŵ_0, is 0 there (its floor
  // √(smallest normal) ≈ 1.5e-154 is far below the value's resolution).
  Tensor w = tensor({1, 0, 0, 1}, {2, 2}, DType::Float64);
  Tensor x = tensor({1, 0}, {1, 2}, DType::Float64), y = tensor({0}, {1}, DType::Int64);
  auto loss_of = [](double z0) { return std::log1p(std::exp(-z0)); };
  EXPECT_NEAR(arcface_loss(x, w, y, {.s = 1}).item(), loss_of(std::cos(0.5)), 1e-15);
  EXPECT_NEAR(combined_margin_loss(x, w, y, {.s = 1}).item(), loss_of(std::cos(0.5)), 1e-15);
  EXPECT_NEAR(lsoftmax_loss(x, w, y).item(), loss_of(1.0), 1e-15);  // ‖W_0‖‖x‖ψ(0) = 1
  EXPECT_NEAR(cosface_loss(x, w, y, {.s = 1}).item(), loss_of(1 - 0.35), 1e-15);
}

// ---- errors ----

TEST(AngularLosses, BadShapesAndLabelsAreRejected) {
  Tensor x = zeros({4, 3}, DType::Float64), w = zeros({5, 3}, DType::Float64);
  Tensor y = tensor({0, 1, 2, 4}, {4}, DType::Int64);
  std::string e = error_of([&] { cosface_loss(zeros({4, 2}, DType::Float64), w, y); });
  EXPECT_CONTAINS(e, "cosface_loss");
  EXPECT_CONTAINS(e, "same d");
  EXPECT_CONTAINS(e, "embeddings [4, 2]");
  EXPECT_CONTAINS(e, "weight [5, 3]");
  EXPECT_CONTAINS(error_of([&] { arcface_loss(zeros({4}, DType::Float64), w, y); }), "expected embeddings (N, d)");
  e = error_of([&] { normface_loss(x, w, tensor({0, 1, 2}, {3}, DType::Int64)); });
  EXPECT_CONTAINS(e, "normface_loss: expected target (N) with N = 4");
  EXPECT_CONTAINS(e, "got [3]");
  e = error_of([&] { lsoftmax_loss(x, w, tensor({0, 1, 2, 5}, {4}, DType::Int64)); });
  EXPECT_CONTAINS(e, "lsoftmax_loss: target 5 at position 3 is out of range for 5 classes");
  EXPECT_CONTAINS(error_of([&] {
                    sphereface_loss(x, w, tensor({0, -1, 2, 3}, {4}, DType::Int64));
                  }),
                  "sphereface_loss: target -1 at position 1");
  EXPECT_CONTAINS(error_of([&] {
                    modified_softmax_loss(x, w, tensor({0, 1, 2, 3}, {4}, DType::Float64));
                  }),
                  "modified_softmax_loss: target must hold int64 class indices, got float64");
  e = error_of([&] { combined_margin_loss(x, zeros({5, 3}, DType::Float32), y); });
  EXPECT_CONTAINS(e, "combined_margin_loss: embeddings and weight must share a floating dtype");
  EXPECT_CONTAINS(e, "float64 and float32");
  EXPECT_CONTAINS(error_of([&] {
                    cosface_loss(x, zeros({0, 3}, DType::Float64), tensor({}, {0}, DType::Int64));
                  }),
                  "weight has no rows");
  EXPECT_CONTAINS(
      error_of([&] { arcface_loss(x, w, y, {.reduction = Reduction::BatchMean}); }),
      "arcface_loss: reduction batchmean is not defined for this loss (PyTorch has it only for kl_div); use none, "
      "mean or sum");
  EXPECT_CONTAINS(error_of([&] {
                    lsoftmax_psi(tensor({1, 2}, {2}, DType::Int64), 2);
                  }),
                  "lsoftmax_psi: cos_theta must be float32 or float64, got int64");
}

TEST(AngularLosses, BadParametersAreRejected) {
  Tensor x = randn({2, 3}, DType::Float64), w = randn({3, 3}, DType::Float64), y = tensor({0, 2}, {2}, DType::Int64);
  EXPECT_CONTAINS(error_of([&] { normface_loss(x, w, y, {.s = 0}); }),
                  "normface_loss: s must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { cosface_loss(x, w, y, {.s = INFINITY}); }),
                  "cosface_loss: s must be positive and finite, got inf");
  EXPECT_CONTAINS(error_of([&] { cosface_loss(x, w, y, {.m = -0.1}); }),
                  "cosface_loss: m must be finite and >= 0, got -0.1");
  EXPECT_CONTAINS(error_of([&] { arcface_loss(x, w, y, {.m = 3.2}); }),
                  "arcface_loss: m must be an angle in [0, pi) radians, got 3.2");
  EXPECT_CONTAINS(error_of([&] { arcface_loss(x, w, y, {.m = NAN}); }), "arcface_loss: m must be an angle");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_loss(x, w, y, {.m = 0}); }),
                  "lsoftmax_loss: m must be a whole number in [1, 100], got 0");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_loss(x, w, y, {.lambda = -1}); }),
                  "lsoftmax_loss: lambda must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([&] { sphereface_loss(x, w, y, {.iteration = -5}); }),
                  "sphereface_loss: iteration must be >= 0, got -5");
  EXPECT_CONTAINS(error_of([&] { sphereface_loss(x, w, y, {.gamma = -0.1}); }),
                  "sphereface_loss: gamma must be finite and >= 0");
  EXPECT_CONTAINS(error_of([&] { combined_margin_loss(x, w, y, {.m1 = 0}); }),
                  "combined_margin_loss: m1 must be in (0, 100], got 0");
  EXPECT_CONTAINS(error_of([&] { combined_margin_loss(x, w, y, {.m3 = -0.2}); }),
                  "combined_margin_loss: m3 must be finite and >= 0");
  EXPECT_CONTAINS(error_of([] { lsoftmax_lambda(0, -1, 0.12, 1, 5); }),
                  "lsoftmax_lambda: base must be finite and >= 0, got -1");
  Tensor c = tensor({0.5}, DType::Float64);
  EXPECT_CONTAINS(error_of([&] { arcface_target_logit(c, -1, 0.5); }), "arcface_target_logit: s must be positive");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_psi(c, 0); }), "lsoftmax_psi: m must be a whole number in [1, 100]");
  // Through the catalog: whole numbers, flags and parameter names.
  std::vector<Tensor> in{x, w, y};
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("lsoftmax_loss").call(in, {{"m", 2.5}}, Reduction::Mean);
                  }),
                  "lsoftmax_loss: m: expected a whole number in [1, 100], got 2.5");
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("arcface_loss").call(in, {{"easy_margin", 2}}, Reduction::Mean);
                  }),
                  "arcface_loss: easy_margin: expected 0 or 1, got 2");
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("cosface_loss").call(in, {{"margin", 0.2}}, Reduction::Mean);
                  }),
                  "cosface_loss: unknown parameter \"margin\"; its parameters: s, m");
  EXPECT_CONTAINS(error_of([&] {
                    find_loss("modified_softmax_loss").call(in, {{"s", 2}}, Reduction::Mean);
                  }),
                  "(it takes none)");
}

TEST(AngularLosses, CatalogDefaultsAreTheOptionsDefaults) {
  auto defaults = [](const std::string& name) {
    std::map<std::string, double> d;
    for (const LossParam& p : find_loss(name).params) d[p.name] = p.default_value;
    return d;
  };
  EXPECT_EQ(defaults("normface_loss"), (std::map<std::string, double>{{"s", 16}}));
  EXPECT_EQ(defaults("lsoftmax_loss"), (std::map<std::string, double>{{"m", 4}, {"lambda", 0}}));
  EXPECT_EQ(defaults("sphereface_loss"),
            (std::map<std::string, double>{
                {"m", 4}, {"iteration", 0}, {"base", 1000}, {"gamma", 0.12}, {"power", 1}, {"lambda_min", 5}}));
  EXPECT_EQ(defaults("cosface_loss"), (std::map<std::string, double>{{"s", 30}, {"m", 0.35}}));
  EXPECT_EQ(defaults("arcface_loss"), (std::map<std::string, double>{{"s", 64}, {"m", 0.5}, {"easy_margin", 0}}));
  EXPECT_EQ(defaults("combined_margin_loss"),
            (std::map<std::string, double>{{"s", 64}, {"m1", 1}, {"m2", 0.5}, {"m3", 0}}));
  // The catalog call with defaults is the function with default options.
  Problem p = sample_problem(10);
  EXPECT_DOUBLE_EQ(find_loss("arcface_loss").call({p.x, p.w, p.y}, {}, Reduction::Mean).item(),
                   arcface_loss(p.x, p.w, p.y).item());
  EXPECT_DOUBLE_EQ(find_loss("sphereface_loss").call({p.x, p.w, p.y}, {{"iteration", 100}}, Reduction::Sum).item(),
                   sphereface_loss(p.x, p.w, p.y, {.iteration = 100, .reduction = Reduction::Sum}).item());
}

// Past m1·θ + m2 = π the written formula cos(m1·θ + m2) would rise again; the ψ continuation keeps
// the target logit continuous and decreasing on the whole of [0, π], so no feature gains by
// turning away from its class.
TEST(AngularLosses, CombinedMarginTargetLogitDecreasesOverTheWholeCircle) {
  const int steps = 2001;
  std::vector<double> cosines;
  for (int i = 0; i < steps; ++i) cosines.push_back(std::cos(kPi * i / (steps - 1)));
  Tensor c = tensor(cosines, DType::Float64);
  for (auto [m1, m2, m3] : {std::tuple{1.0, 0.5, 0.0}, {1.0, 0.3, 0.2}, {0.9, 0.4, 0.15}, {2.0, 0.7, 0.1}, {1.35, 0.0, 0.0}}) {
    Vec z = combined_margin_target_logit(c, 1, m1, m2, m3).to_vector();
    for (int i = 1; i < steps; ++i) {
      ASSERT_LT(z[i], z[i - 1]) << m1 << " " << m2 << " " << m3 << " at θ = " << kPi * i / (steps - 1);
      ASSERT_LT(z[i - 1] - z[i], 0.01) << "a jump at θ = " << kPi * i / (steps - 1);  // continuous
    }
    double theta = 0.6;  // where m1·θ + m2 ≤ π the formula as written
    EXPECT_NEAR(combined_margin_target_logit(tensor({std::cos(theta)}, DType::Float64), 1, m1, m2, m3).item(),
                std::cos(m1 * theta + m2) - m3, 1e-12);
  }
}
