// The multi-class hinge losses (Crammer-Singer, log-sum-exp hinge) and properties of the hinge family.
#include "zoograd/tests/test_losses_hinge.h"

// w_y scales the powered violation (PyTorch's kernel), not the violation before the power.
TEST(MultiMarginLoss, WeightMultipliesThePoweredTerm) {
  std::vector<Tensor> in = sample(find_loss("multi_margin_loss"), DType::Float64);
  Tensor doubled = full({5}, 2.0, DType::Float64);
  double plain = multi_margin_loss(in[0], in[1], {.p = 2}).item();
  ASSERT_GT(plain, 0.0);
  EXPECT_NEAR(multi_margin_loss(in[0], in[1], {.p = 2, .weight = doubled}).item(), 2 * plain, 1e-12);
}

TEST(CrammerSingerLoss, ReferenceValues) {
  // Row 0: max(0, 1 + 0.4 - 0.8) = 0.6, gradient +1 at the strongest other (0.4), -1 at the target.
  // Row 1: max(0, 1 + 0.5 - 2.0) = 0, no gradient. Mean over 2.
  ValueAndGrad a = value_and_grad([](const Tensor& x) { return crammer_singer_loss(x, labels({3, 0})); },
                                  {0.1, 0.2, 0.4, 0.8, 2.0, -1.0, 0.5, 0.0}, {2, 4});
  EXPECT_NEAR(a.value, 0.3, 1e-10);
  expect_all_near(a.grad, {0, 0, 0.5, -0.5, 0, 0, 0, 0}, 1e-10);

  // margin 0.25, sum: row 0 max(0, 0.25 + 1.3 - (-0.2)) = 1.75 (target not the largest);
  // row 1 max(0, 0.25 + 0.1 - 0.3) = 0.05
  ValueAndGrad b = value_and_grad(
      [](const Tensor& x) {
        return crammer_singer_loss(x, labels({0, 2}), {.margin = 0.25, .reduction = Reduction::Sum});
      },
      {-0.2, 1.3, 0.7, 0.1, -3.0, 0.3}, {2, 3});
  EXPECT_NEAR(b.value, 1.75 + 0.05, 1e-10);
  expect_all_near(b.grad, {-1, 1, 0, 1, 0, -1}, 1e-10);
}

TEST(LogSumExpHingeLoss, ReferenceValues) {
  // ℓ_n = T·log(1 + Σ_{i≠y} exp((x_i - x_y)/T)); with q_i = exp((x_i - x_y)/T) / (1 + Σ_{j≠y} exp(...)),
  // dℓ/dx_i = q_i for i ≠ y and dℓ/dx_y = -Σ q_i.
  V x{0.4, -1.1, 2.3, 0.0, 1.7, 0.9, -0.6, 3.1};
  std::vector<std::int64_t> y{2, 1};
  for (double t : {1.0, 0.5}) {
    double expected = 0;
    V grad(8, 0.0);
    for (std::size_t n = 0; n < 2; ++n) {
      double xy = x[n * 4 + y[n]], denominator = 1;
      for (std::size_t i = 0; i < 4; ++i)
        if (i != static_cast<std::size_t>(y[n])) denominator += std::exp((x[n * 4 + i] - xy) / t);
      expected += t * std::log(denominator) / 2;
      for (std::size_t i = 0; i < 4; ++i) {
        if (i == static_cast<std::size_t>(y[n])) continue;
        double q = std::exp((x[n * 4 + i] - xy) / t) / denominator;
        grad[n * 4 + i] += q / 2;
        grad[n * 4 + y[n]] -= q / 2;
      }
    }
    ValueAndGrad a = value_and_grad(
        [&](const Tensor& t_) { return logsumexp_hinge_loss(t_, labels({2, 1}), {.temperature = t}); }, x, {2, 4});
    EXPECT_NEAR(a.value, expected, 1e-10) << "T " << t;
    expect_all_near(a.grad, grad, 1e-10);
  }
}

// ---- properties ----

TEST(HingeLosses, ZeroAtAPerfectPrediction) {
  // Every margin met: y·x >= 1, and x_y >= x_i + 1 for every i ≠ y.
  V binary{1.0, -3.0, 2.5}, by{1, -1, 1};
  for (auto loss : {+[](const Tensor& x, const Tensor& t) { return hinge_loss(x, t); },
                    +[](const Tensor& x, const Tensor& t) { return squared_hinge_loss(x, t); }}) {
    ValueAndGrad a = value_and_grad([&](const Tensor& x) { return loss(x, f64(by, {3})); }, binary, {3});
    EXPECT_EQ(a.value, 0.0);
    EXPECT_EQ(a.grad, V(3, 0.0));
  }
  V scores{3.0, 1.5, 0.2, -1.0, 0.5, 1.6};
  for (auto loss : {+[](const Tensor& x, const Tensor& t) { return multi_margin_loss(x, t); },
                    +[](const Tensor& x, const Tensor& t) { return multi_margin_loss(x, t, {.p = 2}); },
                    +[](const Tensor& x, const Tensor& t) { return crammer_singer_loss(x, t); }}) {
    ValueAndGrad a = value_and_grad([&](const Tensor& x) { return loss(x, labels({0, 2})); }, scores, {2, 3});
    EXPECT_EQ(a.value, 0.0);
    EXPECT_EQ(a.grad, V(6, 0.0));
  }
  // The smooth losses never reach 0 but vanish with the gap: T·log(1 + (C-1)·e^(-gap/T)) <= T·(C-1)·e^(-gap/T).
  double lse = logsumexp_hinge_loss(f64({40, 0, 0}, {1, 3}), labels({0})).item();
  EXPECT_GT(lse, 0.0);
  EXPECT_LE(lse, 2 * std::exp(-40.0) * (1 + 1e-12));
  EXPECT_LT(soft_margin_loss(f64({40}, {1}), f64({1}, {1})).item(), std::exp(-40.0) * 1.0000001);
}

// Seed 000's identity: log(1 + Σ_{i≠y} exp(x_i - x_y)) = -log softmax(x)_y.
TEST(LogSumExpHingeLoss, AtTemperatureOneIsSoftmaxCrossEntropy) {
  CrossEntropyOptions per_sample;
  per_sample.reduction = Reduction::None;
  for (std::uint64_t seed : {1, 2, 3}) {
    std::vector<Tensor> in = sample(find_loss("logsumexp_hinge_loss"), DType::Float64, seed);
    expect_all_near(logsumexp_hinge_loss(in[0], in[1], {.reduction = Reduction::None}).to_vector(),
                    cross_entropy(in[0], in[1], per_sample).to_vector(), 1e-12);
    Tensor a = in[0].clone().detach().requires_grad_(), b = in[0].clone().detach().requires_grad_();
    logsumexp_hinge_loss(a, in[1]).backward();
    cross_entropy(b, in[1]).backward();
    expect_all_near(a.grad().to_vector(), b.grad().to_vector(), 1e-12);
  }
}

// T·logsumexp(v/T) falls to max(v) as T -> 0: the loss approaches crammer_singer_loss with margin 0
// from above, within T·log(2(C-1)), monotonically, and so do its gradients away from the kinks.
TEST(LogSumExpHingeLoss, TendsToCrammerSingerWithMarginZeroAsTemperatureFalls) {
  std::vector<Tensor> in = sample(find_loss("logsumexp_hinge_loss"), DType::Float64);
  V hard = crammer_singer_loss(in[0], in[1], {.margin = 0.0, .reduction = Reduction::None}).to_vector();
  V previous(hard.size(), INFINITY);
  for (double t : {1.0, 0.1, 0.01, 1e-3}) {
    V smooth = logsumexp_hinge_loss(in[0], in[1], {.temperature = t, .reduction = Reduction::None}).to_vector();
    for (std::size_t n = 0; n < hard.size(); ++n) {
      // 1e-12: at small T the excess is below rounding, and the two sides differ in the last bits
      EXPECT_GE(smooth[n], hard[n] - 1e-12) << "T " << t;
      EXPECT_LE(smooth[n], hard[n] + t * std::log(2.0 * 4) + 1e-12) << "T " << t;
      EXPECT_LE(smooth[n], previous[n] + 1e-12) << "T " << t;
    }
    previous = smooth;
  }
  EXPECT_NEAR(previous[0], hard[0], 1e-9);  // the sample's gaps are >= 0.05 = 50·T: e^-50 remains
  Tensor a = in[0].clone().detach().requires_grad_(), b = in[0].clone().detach().requires_grad_();
  logsumexp_hinge_loss(a, in[1], {.temperature = 1e-3}).backward();
  crammer_singer_loss(b, in[1], {.margin = 0.0}).backward();
  expect_all_near(a.grad().to_vector(), b.grad().to_vector(), 1e-12);
}

TEST(HingeLosses, NoneKeepsThePerSampleShape) {
  for (const LossSpec& s : rows()) {
    std::vector<Tensor> in = sample(s, DType::Float64);
    Tensor none = s.call(in, {}, Reduction::None);
    Shape expected = s.inputs[1].dtype == DType::Int64 ? Shape{in[0].size(0)} : in[0].shape();
    EXPECT_EQ(none.shape(), expected) << s.name;
    EXPECT_GT(sum(none).item(), 0.0) << s.name;  // the samples violate some margins
  }
}

TEST(HingeLosses, FiniteLossAndGradientAtLogitsOf1e4) {
  const V binary{1e4, -1e4, 1e4, -1e4}, by{1, 1, -1, -1};
  // Targets on the largest, the smallest and a middle score; ties at ±1e4 included.
  const V scores{1e4, -1e4, 0, 1e4, -1e4, -1e4, 1e4, 0, 0, 1e4, -1e4, 5};
  for (const LossSpec& s : rows())
    for (DType dt : {DType::Float32, DType::Float64})
      for (const LossParams& params : {LossParams{}, s.params.empty() ? LossParams{} : LossParams{{s.params.back().name, 1e-3}}}) {
        SCOPED_TRACE(s.name + " " + dtype_name(dt));
        bool by_class = s.inputs[1].dtype == DType::Int64;
        Tensor x = by_class ? tensor(scores, {3, 4}, dt) : tensor(binary, {4}, dt);
        Tensor y = by_class ? labels({0, 1, 3}) : tensor(by, {4}, dt);
        x.requires_grad_();
        Tensor loss = s.call({x, y}, params, Reduction::Mean);
        loss.backward();
        EXPECT_TRUE(std::isfinite(loss.item()));
        EXPECT_TRUE(all_finite(x.grad().to_vector()));
      }
  // The values themselves, float64: the wrong-side margins are 1 + 1e4 and 1 + 2e4.
  EXPECT_EQ(hinge_loss(f64(binary, {4}), f64(by, {4}), {.reduction = Reduction::None}).to_vector(),
            (V{0, 1 + 1e4, 1 + 1e4, 0}));
  EXPECT_EQ(crammer_singer_loss(f64(scores, {3, 4}), labels({0, 1, 3}), {.reduction = Reduction::None}).to_vector(),
            (V{1, 1 + 2e4, 1 + 1e4 - 5}));
  // log(1 + e^0 + e^(2e4) + e^(1e4)) = 2e4 + log(1 + ~e^-1e4)
  EXPECT_EQ(logsumexp_hinge_loss(f64(scores, {3, 4}), labels({0, 1, 3}), {.reduction = Reduction::None}).to_vector()[1],
            2e4);
  EXPECT_NEAR(soft_margin_loss(f64(binary, {4}), f64(by, {4}), {.reduction = Reduction::Sum}).item(), 2e4, 1e-9);
}

// The target's score is masked with where(): its gradient is finite even where it ties the others.
TEST(HingeLosses, NoNaNGradientThroughTheMaskedTargetScore) {
  for (auto loss : {+[](const Tensor& x, const Tensor& t) { return crammer_singer_loss(x, t); },
                    +[](const Tensor& x, const Tensor& t) { return logsumexp_hinge_loss(x, t); }}) {
    ValueAndGrad a = value_and_grad([&](const Tensor& x) { return loss(x, labels({1})); }, {-1e4, -1e4, -1e4}, {1, 3});
    EXPECT_TRUE(std::isfinite(a.value));
    EXPECT_TRUE(all_finite(a.grad));
    EXPECT_LT(a.grad[1], 0.0);  // the target's score is pushed up
  }
}

TEST(MultiMarginLoss, OneClassHasNothingToBeat) {
  // F.multi_margin_loss(torch.randn(3, 1), torch.zeros(3, dtype=torch.long)) == 0
  EXPECT_EQ(multi_margin_loss(f64({0.3, -2, 5}, {3, 1}), labels({0, 0, 0})).item(), 0.0);
}

TEST(HingeLosses, BadInputsThrowNamingTheLossAndTheFix) {
  Tensor x = f64({0.5, -0.5}, {2}), scores = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_CONTAINS(error_of([&] { hinge_loss(x, f64({1, -1, 1}, {3})); }),
                  "hinge_loss: target of shape [3] must have the input's shape [2]");
  std::string e = error_of([&] { squared_hinge_loss(x, f64({1, 0}, {2})); });
  EXPECT_CONTAINS(e, "squared_hinge_loss: target must hold -1/+1 labels, got 0 at position 1");
  EXPECT_CONTAINS(e, "2·y - 1");
  EXPECT_CONTAINS(error_of([&] { soft_margin_loss(x, f64({0.5, 1}, {2})); }), "soft_margin_loss: target must hold -1/+1");
  EXPECT_CONTAINS(error_of([&] { hinge_loss(x, f64({1, -1}, {2}), {.margin = NAN}); }),
                  "hinge_loss: margin must be finite, got nan");
  EXPECT_CONTAINS(error_of([&] { hinge_loss(tensor({1, 2}, {2}, DType::Int64), f64({1, -1}, {2})); }),
                  "hinge_loss: input must be float32 or float64 scores, got int64");

  EXPECT_CONTAINS(error_of([&] { multi_margin_loss(f64({1, 2, 3}, {3}), labels({0})); }),
                  "multi_margin_loss: expected input (N, C) and target (N), got [3] and [1]; unsqueeze");
  EXPECT_CONTAINS(error_of([&] { crammer_singer_loss(scores, labels({0, 1, 2})); }),
                  "crammer_singer_loss: expected input (N, C) and target (N), got [2, 3] and [3]");
  EXPECT_CONTAINS(error_of([&] { multi_margin_loss(scores, f64({0, 1}, {2})); }),
                  "multi_margin_loss: target must hold int64 class indices, got float64");
  EXPECT_CONTAINS(error_of([&] { logsumexp_hinge_loss(scores, labels({0, 3})); }),
                  "logsumexp_hinge_loss: target 3 at position 1 is out of range for 3 classes; expected 0..2");
  EXPECT_CONTAINS(error_of([&] { crammer_singer_loss(scores, labels({-1, 0})); }),
                  "crammer_singer_loss: target -1 at position 0 is out of range");
  EXPECT_CONTAINS(error_of([&] { multi_margin_loss(scores, labels({0, 1}), {.p = 3}); }),
                  "multi_margin_loss: p must be 1 or 2 (as in PyTorch), got 3");
  EXPECT_CONTAINS(error_of([&] { multi_margin_loss(scores, labels({0, 1}), {.weight = f64({1, 2}, {2})}); }),
                  "multi_margin_loss: weight must be a floating tensor of shape [3] (one weight per class), got float64 [2]");
  EXPECT_CONTAINS(error_of([&] { multi_margin_loss(scores, labels({0, 1}), {.margin = INFINITY}); }),
                  "multi_margin_loss: margin must be finite, got inf");
  EXPECT_CONTAINS(error_of([&] { crammer_singer_loss(f64({1, 2}, {2, 1}), labels({0, 0})); }),
                  "crammer_singer_loss: needs at least 2 classes (a target and another class to beat), got 1");
  for (double t : {0.0, -1.0, double(NAN), double(INFINITY)})
    EXPECT_CONTAINS(error_of([&] { logsumexp_hinge_loss(scores, labels({0, 1}), {.temperature = t}); }),
                    "logsumexp_hinge_loss: temperature must be positive and finite, got ");
  EXPECT_CONTAINS(error_of([&] { logsumexp_hinge_loss(scores, labels({0, 1}), {.temperature = -2}); }),
                  "got -2; small values approach crammer_singer_loss");
}
