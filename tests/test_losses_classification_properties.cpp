// Properties of the classification family: reductions, weights, extra dims, extremes, equivalences, errors.
#include "zoograd/tests/test_losses_classification.h"

// Binary Brier score: ℓ = w(σ(x) - y)², dℓ/dx = 2w(σ(x) - y)σ(x)(1 - σ(x)).
TEST(ClassificationLosses, BinaryBrierScoreReference) {
  const V xs{-2.0, 0.0, 1.5, 0.4}, ys{0.0, 1.0, 1.0, 0.3};
  for (bool with_weight : {false, true}) {
    const V w = with_weight ? V{2.0, 0.5, 2.0, 0.5} : V(4, 1.0);
    const double n = with_weight ? 1.0 : 4.0;  // sum with weights, mean without
    double value = 0;
    V grad;
    for (std::size_t i = 0; i < 4; ++i) {
      double s = sigmoid_of(xs[i]);
      value += w[i] * (s - ys[i]) * (s - ys[i]) / n;
      grad.push_back(2 * w[i] * (s - ys[i]) * s * (1 - s) / n);
    }
    Tensor x = leaf(xs, {2, 2});
    BinaryBrierScoreOptions o;
    if (with_weight) o = {.reduction = Reduction::Sum, .weight = f64({2.0, 0.5}, {2})};
    expect_value_and_grads(binary_brier_score(x, f64(ys, {2, 2}), o), value, {{x, grad}});
  }
}

// ---- properties and edge cases ----

TEST(ClassificationLosses, NoneHasTheSampleShapeAndKlDivDividesAsPyTorch) {
  for (const LossSpec& s : losses_of_family("classification")) {
    std::vector<Tensor> in = sample(s, DType::Float64, false);
    bool per_sample = s.inputs[1].dtype == DType::Int64;  // class-index losses give one value per row
    EXPECT_EQ(s.call(in, {}, Reduction::None).shape(), per_sample ? Shape{in[0].size(0)} : in[0].shape()) << s.name;
  }
  std::vector<Tensor> in = sample(find_loss("kl_div"), DType::Float64, false);
  double total = kl_div(in[0], in[1], {.reduction = Reduction::Sum}).item();
  EXPECT_NEAR(kl_div(in[0], in[1], {.reduction = Reduction::BatchMean}).item(), total / 4, 1e-15);
  EXPECT_NEAR(kl_div(in[0], in[1]).item(), total / 12, 1e-15);  // PyTorch's mean: / numel, not / N
}

TEST(ClassificationLosses, WeightedMeanDividesByTheWeightOfTheKeptTargets) {
  Generator gen(5);
  Tensor x = randn({4, 3}, DType::Float64, gen), y = i64({0, 2, -100, 2}, {4}), w = f64({0.5, 1, 4}, {3});
  for (double eps : {0.0, 0.25}) {
    CrossEntropyOptions o{.weight = w, .label_smoothing = eps};
    double mean_v = cross_entropy(x, y, o).item();
    o.reduction = Reduction::Sum;
    EXPECT_NEAR(cross_entropy(x, y, o).item(), mean_v * (0.5 + 4 + 4), 1e-12) << eps;
  }
  Tensor lp = log_softmax(x, 1);
  EXPECT_NEAR(nll_loss(lp, y, {.reduction = Reduction::Sum, .weight = w}).item(),
              nll_loss(lp, y, {.weight = w}).item() * 8.5, 1e-12);
}

TEST(ClassificationLosses, ExtraDimsAndUnbatchedInputAsPyTorch) {
  Generator gen(9);
  Tensor x = randn({2, 3, 2, 2}, DType::Float64, gen), y = randint(0, 3, {2, 2, 2}, gen);
  Tensor flat_x = reshape(permute(x, {0, 2, 3, 1}), {8, 3}), flat_y = reshape(y, {8});
  Tensor w = f64({1, 2, 0.5}, {3});
  Tensor none = cross_entropy(x, y, {.reduction = Reduction::None, .weight = w, .label_smoothing = 0.1});
  EXPECT_EQ(none.shape(), (Shape{2, 2, 2}));
  expect_values(
      none,
      cross_entropy(flat_x, flat_y, {.reduction = Reduction::None, .weight = w, .label_smoothing = 0.1}).to_vector(),
      1e-14, "ce (N,C,d1,d2)");
  EXPECT_NEAR(cross_entropy(x, y, {.weight = w}).item(), cross_entropy(flat_x, flat_y, {.weight = w}).item(), 1e-14);
  EXPECT_EQ(focal_loss(x, y, {.reduction = Reduction::None}).shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(nll_loss(x, y, {.reduction = Reduction::None}).shape(), (Shape{2, 2, 2}));
  Tensor q = softmax(randn({2, 3, 2, 2}, DType::Float64, gen), 1);
  EXPECT_NEAR(cross_entropy(x, q).item(), cross_entropy(flat_x, reshape(permute(q, {0, 2, 3, 1}), {8, 3})).item(),
              1e-14);

  Tensor one = f64({0.5, -1.0, 2.0}, {3});
  Tensor unbatched = cross_entropy(one, scalar(2, DType::Int64), {.reduction = Reduction::None});
  EXPECT_EQ(unbatched.shape(), Shape{});
  EXPECT_NEAR(unbatched.item(), cross_entropy(reshape(one, {1, 3}), i64({2}, {1})).item(), 1e-15);
}

TEST(ClassificationLosses, ZeroAtAPerfectPrediction) {
  const double big = 1e4;
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor logits = tensor({big, -big, -big, -big, -big, big}, {2, 3}, dt);
    Tensor y = i64({0, 2}, {2});
    EXPECT_EQ(cross_entropy(logits, y).item(), 0.0);
    EXPECT_EQ(nll_loss(tensor({0, -1, -2, -3, -4, 0}, {2, 3}, dt), y).item(), 0.0);
    EXPECT_EQ(focal_loss(logits, y).item(), 0.0);
    EXPECT_EQ(brier_score(logits, y).item(), 0.0);
    Tensor labels = tensor({1, 0, 0, 0, 0, 1}, {2, 3}, dt);
    EXPECT_EQ(binary_cross_entropy(labels, labels).item(), 0.0);
    EXPECT_EQ(binary_cross_entropy_with_logits(logits, labels).item(), 0.0);
    EXPECT_EQ(sigmoid_focal_loss(logits, labels, {.reduction = Reduction::Sum}).item(), 0.0);
    EXPECT_EQ(binary_brier_score(logits, labels).item(), 0.0);
    Tensor p = tensor({0.25, 0.75, 0.0, 1.0}, {2, 2}, dt);
    EXPECT_NEAR(kl_div(log(where(gt(p, 0.0), p, scalar(1.0, dt))), p).item(), 0.0, 1e-7);
  }
}

TEST(ClassificationLosses, FiniteLossAndGradientAtLogitsOf1e4) {
  for (DType dt : {DType::Float64, DType::Float32})
    for (double gamma : {0.0, 0.5, 1.0, 2.0, 5.0}) {
      // right and wrong saturated predictions, and a saturated row with a soft target
      auto logits = [&] { return tensor({1e4, -1e4, 0, -1e4, 1e4, -1e4}, {2, 3}, dt).requires_grad_(); };
      Tensor y = i64({0, 2}, {2}), labels = tensor({1, 0, 1, 1, 0.5, 0}, {2, 3}, dt);
      std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> losses{
          {"cross_entropy", [&](const Tensor& x) { return cross_entropy(x, y, {.label_smoothing = 0.1}); }},
          {"nll_loss", [&](const Tensor& x) { return nll_loss(log_softmax(x, 1), y); }},
          {"focal_loss", [&](const Tensor& x) { return focal_loss(x, y, {.gamma = gamma}); }},
          {"sigmoid_focal_loss",
           [&](const Tensor& x) {
             return sigmoid_focal_loss(x, labels, {.reduction = Reduction::Mean, .gamma = gamma});
           }},
          {"bce_with_logits", [&](const Tensor& x) { return binary_cross_entropy_with_logits(x, labels); }},
          {"brier_score", [&](const Tensor& x) { return brier_score(x, y); }},
          {"binary_brier_score", [&](const Tensor& x) { return binary_brier_score(x, labels); }}};
      for (const auto& [name, f] : losses) {
        Tensor x = logits();
        Tensor l = f(x);
        l.backward();
        std::string what = name + " gamma " + std::to_string(gamma) + " " + dtype_name(dt);
        EXPECT_TRUE(all_finite(l)) << what << ": " << l.item();
        EXPECT_TRUE(all_finite(x.grad())) << what;
      }
    }
}

// The guard of (1 - p_t)^γ for γ < 1: at an exactly saturated right prediction the gradient is the
// limit 0 (torchvision's formula gives 0·∞ = NaN there), and just before saturation it is untouched.
TEST(ClassificationLosses, FocalGradientGuardGivesTheLimitAndLeavesOtherValuesAlone) {
  for (double gamma : {0.5, 0.1}) {
    Tensor x = f64({800, -800}, {2}).requires_grad_();  // σ(-800) underflows to 0: 1 - p_t = 0 exactly
    sigmoid_focal_loss(x, f64({1, 0}, {2}), {.reduction = Reduction::Sum, .gamma = gamma}).backward();
    expect_values(x.grad(), {0, 0}, 0, "saturated binary");

    Tensor z = f64({0, 800, 0}, {1, 3}).requires_grad_();
    focal_loss(z, i64({1}, {1}), {.gamma = gamma}).backward();
    expect_values(z.grad(), {0, 0, 0}, 0, "saturated softmax");
  }
  // x = 30, y = 1: u = 1 - p = σ(-30) ≈ 9.4e-14 (far above the clamp);
  // dℓ/dx = α·(γ u^(γ-1)·du·ce + u^γ·(p - 1)) with du = -p(1-p) = -p·u, p - 1 = -u, ce = softplus(-30).
  const double xv = 30, gamma = 0.5, p = sigmoid_of(xv), u = sigmoid_of(-xv), ce = softplus_of(-xv);
  Tensor x = f64({xv}, {1}).requires_grad_();
  sigmoid_focal_loss(x, f64({1}, {1}), {.reduction = Reduction::Sum, .gamma = gamma}).backward();
  double expected = 0.25 * (gamma * std::pow(u, gamma - 1) * -p * u * ce + std::pow(u, gamma) * -u);
  EXPECT_NEAR(x.grad().item(), expected, 1e-12 * std::abs(expected));
}

TEST(ClassificationLosses, BinaryCrossEntropyAtProbabilitiesZeroAndOne) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor p = tensor({0, 1, 0, 1}, {4}, dt).requires_grad_(), y = tensor({0, 0, 1, 1}, {4}, dt).requires_grad_();
    Tensor l = binary_cross_entropy(p, y, {.reduction = Reduction::None});
    expect_values(l, {0, 100, 100, 0}, 0, dtype_name(dt));  // -log clamped at 100, as PyTorch
    sum(l).backward();
    EXPECT_TRUE(all_finite(p.grad())) << dtype_name(dt);
    EXPECT_TRUE(all_finite(y.grad())) << dtype_name(dt);
  }
}

TEST(ClassificationLosses, KlDivWithZeroTargetsIsFinite) {
  Tensor x = f64({std::log(0.5), std::log(0.5), -1e4, 0.0}, {2, 2}).requires_grad_();
  Tensor p = f64({1, 0, 0, 1}, {2, 2}).requires_grad_();
  Tensor l = kl_div(x, p, {.reduction = Reduction::BatchMean});
  EXPECT_NEAR(l.item(), std::log(2.0) / 2, 1e-15);
  l.backward();
  expect_values(x.grad(), {-0.5, 0, 0, -0.5}, 0, "d/dinput");
  expect_values(p.grad(), {(0 + 1 - std::log(0.5)) / 2, 0, 0, 0.5}, 1e-15, "d/dtarget");
}

// PyTorch: every target ignored gives 0/0 = NaN under mean (nll_loss and cross_entropy alike).
TEST(ClassificationLosses, EveryTargetIgnoredGivesNaNMeanAndZeroSum) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_(), y = i64({-100, -100}, {2});
  EXPECT_TRUE(std::isnan(cross_entropy(x, y).item()));
  EXPECT_TRUE(std::isnan(cross_entropy(x, y, {.label_smoothing = 0.1}).item()));
  EXPECT_TRUE(std::isnan(nll_loss(x, y, {.weight = f64({1, 2, 3}, {3})}).item()));
  expect_values(cross_entropy(x, y, {.reduction = Reduction::None, .label_smoothing = 0.1}), {0, 0}, 0, "none");
  Tensor total = cross_entropy(x, y, {.reduction = Reduction::Sum, .label_smoothing = 0.1});
  EXPECT_EQ(total.item(), 0.0);
  total.backward();
  expect_values(x.grad(), V(6, 0.0), 0, "gradient");
  EXPECT_TRUE(std::isnan(cross_entropy(zeros({0, 3}, DType::Float64), zeros({0}, DType::Int64)).item()));
}

TEST(ClassificationLosses, EquivalencesBetweenTheLosses) {
  Generator gen(21);
  Tensor x = randn({5, 4}, DType::Float64, gen), y = randint(0, 4, {5}, gen);
  Tensor onehot = one_hot(y, 4, DType::Float64);
  auto near = [](const Tensor& a, const Tensor& b, const std::string& what) {
    expect_values(a, b.to_vector(), 1e-12, what);
  };
  const Reduction none = Reduction::None;
  near(cross_entropy(x, y, {.reduction = none}), nll_loss(log_softmax(x, 1), y, {.reduction = none}),
       "ce = nll(log_softmax)");
  near(cross_entropy(x, y, {.reduction = none, .label_smoothing = 0.3}),
       cross_entropy(x, onehot, {.reduction = none, .label_smoothing = 0.3}), "smoothing = smoothed one-hot");
  near(cross_entropy(x, y, {.reduction = none, .label_smoothing = 1}),
       cross_entropy(x, full({5, 4}, 0.25, DType::Float64), {.reduction = none}), "ε = 1 is uniform");
  near(focal_loss(x, y, {.reduction = none, .gamma = 0}), cross_entropy(x, y, {.reduction = none}), "focal γ=0 = ce");
  Tensor w = f64({0.5, 1, 2, 3}, {4});
  near(focal_loss(x, y, {.reduction = Reduction::Sum, .gamma = 0, .alpha = w}),
       cross_entropy(x, y, {.reduction = Reduction::Sum, .weight = w}), "focal γ=0 α = weighted ce (sum)");
  Tensor t = rand({5, 4}, DType::Float64, gen);
  near(sigmoid_focal_loss(x, t, {.alpha = -1, .gamma = 0}), binary_cross_entropy_with_logits(x, t, {.reduction = none}),
       "sigmoid focal γ=0 α<0 = bce with logits");
  near(binary_cross_entropy(sigmoid(x), t, {.reduction = none}),
       binary_cross_entropy_with_logits(x, t, {.reduction = none}), "bce(σ(x)) = bce with logits");
  near(sum(kl_div(log_softmax(x, 1), onehot, {.reduction = none}), {1}), cross_entropy(x, y, {.reduction = none}),
       "kl to one-hot = ce");
  // two classes [0, x]: softmax is (σ(-x), σ(x)), so the Brier score is twice the binary one
  Tensor z = randn({6}, DType::Float64, gen), labels = randint(0, 2, {6}, gen);
  near(brier_score(stack({zeros_like(z), z}, 1), labels, {.reduction = none}),
       2.0 * binary_brier_score(z, labels.to(DType::Float64), {.reduction = none}), "2-class brier = 2·binary");
}

TEST(ClassificationLosses, TrainerStyleCallsKeepWorking) {
  Tensor x = f64({1, 2, 3, 0, 0, 1}, {2, 3}), y = i64({2, 0}, {2});
  EXPECT_NEAR(cross_entropy(x, y, {Reduction::Sum}).item(), 2 * cross_entropy(x, y).item(), 1e-15);
}

TEST(ClassificationLosses, BadInputsThrowNamingTheLossAndTheValues) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}), p = f64({0.5, 0.5}, {2});
  auto msg = [](auto f) { return error_of(f); };
  EXPECT_CONTAINS(
      msg([&] {
        cross_entropy(x, i64({0, 3}, {2}));
      }),
      "cross_entropy: target 3 at position 1 is out of range for 3 classes; expected 0..2 or ignore_index -100");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1, 2}, {3}));
                  }),
                  "target of shape [3] does not match the input: expected [2]");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, f64({0, 1}, {2}));
                  }),
                  "must have the input's shape [2, 3], got [2]; pass class indices as int64");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1}, {2}), {.label_smoothing = 1.5});
                  }),
                  "label_smoothing must be in [0, 1], got 1.5");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1}, {2}), {.weight = f64({1, 2}, {2})});
                  }),
                  "weight must hold one value per class, shape [3], got [2]");
  EXPECT_CONTAINS(msg([&] { cross_entropy(x, x, {.ignore_index = 0}); }),
                  "ignore_index 0 is not supported with probability targets");
  EXPECT_CONTAINS(msg([&] {
                    cross_entropy(x, i64({0, 1}, {2}), {.reduction = Reduction::BatchMean});
                  }),
                  "cross_entropy: reduction batchmean is not defined for this loss");
  EXPECT_CONTAINS(msg([&] { cross_entropy(scalar(1.0, DType::Float64), i64({0}, {})); }), "needs a class dim");
  EXPECT_CONTAINS(msg([&] { nll_loss(x, i64({-1, 0}, {2})); }), "nll_loss: target -1 at position 0 is out of range");
  EXPECT_CONTAINS(msg([&] {
                    nll_loss(x, f64({0, 1}, {2}));
                  }),
                  "nll_loss: target must hold int64 class indices, got float64");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy(f64({0.5, 1.5}, {2}), p);
                  }),
                  "binary_cross_entropy: input 1.5 at position 1 is not a probability in [0, 1]; for logits use "
                  "binary_cross_entropy_with_logits");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy(p, f64({0.5, 0.5, 1}, {3}));
                  }),
                  "input [2] and target [3] must have the same shape");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy(p, i64({0, 1}, {2}));
                  }),
                  "target must be float32 or float64, got int64");
  EXPECT_CONTAINS(msg([&] {
                    binary_cross_entropy_with_logits(x, x, {.pos_weight = f64({1, 2}, {2})});
                  }),
                  "pos_weight of shape [2] does not broadcast to the input's shape [2, 3]");
  EXPECT_CONTAINS(msg([&] { sigmoid_focal_loss(x, x, {.gamma = -1}); }),
                  "sigmoid_focal_loss: gamma must be >= 0, got -1");
  EXPECT_CONTAINS(msg([&] { sigmoid_focal_loss(x, x, {.alpha = 1.5}); }),
                  "alpha must be in [0, 1] (or negative to turn the weighting off), got 1.5");
  EXPECT_CONTAINS(msg([&] { sigmoid_focal_loss(x, p); }), "inputs [2, 3] and targets [2] must have the same shape");
  EXPECT_CONTAINS(msg([&] {
                    focal_loss(x, i64({0, 1}, {2}), {.alpha = f64({1}, {1})});
                  }),
                  "focal_loss: alpha must hold one value per class");
  EXPECT_CONTAINS(msg([&] { focal_loss(x, i64({0, 1}, {2}), {.gamma = kNaN}); }), "gamma must be >= 0, got nan");
  EXPECT_CONTAINS(
      msg([&] {
        kl_div(p, f64({-0.5, 1.5}, {2}));
      }),
      "kl_div: target -0.5 at position 0 is not a probability (>= 0); for log-probabilities set log_target");
  EXPECT_CONTAINS(msg([&] { brier_score(p, i64({0}, {1})); }),
                  "brier_score: input must be (N, C) logits, got shape [2]");
  EXPECT_CONTAINS(msg([&] {
                    brier_score(x, i64({0, 5}, {2}));
                  }),
                  "brier_score: target 5 at position 1 is out of range for 3 classes; expected 0..2");
  EXPECT_CONTAINS(msg([&] {
                    brier_score(x, i64({0, 1}, {2}), {.weight = f64({1, 2}, {2})});
                  }),
                  "weight of shape [2] does not broadcast to the input's shape [2, 3]");
  EXPECT_CONTAINS(msg([&] { binary_brier_score(x, p); }),
                  "binary_brier_score: input [2, 3] and target [2] must have the same shape");
  EXPECT_CONTAINS(msg([&] {
                    find_loss("focal_loss").call({x, i64({0, 1}, {2})}, {{"margin", 1}}, Reduction::Mean);
                  }),
                  "focal_loss: unknown parameter \"margin\"; its parameters: gamma");
}
