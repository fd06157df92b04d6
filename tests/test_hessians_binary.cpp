// Hessians of the binary losses (BCE with logits, focal), their limits and argument checks.
#include "zoograd/tests/test_hessians.h"

TEST(Hessians, BinaryCrossEntropyWithLogitsMatchesAutograd) {
  Generator gen(14);
  int cases = 0;
  for (const Shape& shape : kBinaryShapes)
    for (bool hard : {true, false})
      for (WeightKind wk : kWeightKinds)
        for (bool with_pos_weight : {false, true}) {
          Tensor z = randn(shape, F64, gen) * 2.0;
          Tensor y = make_binary_target(hard, shape, gen);
          Tensor w = make_weight(wk, shape, gen);
          Tensor wb = broadcastable_weight(w, shape);
          // pos_weight per last-dimension entry, as PyTorch's (C) for (N, C).
          Tensor pw = with_pos_weight ? rand({shape.back()}, F64, gen) * 3.0 + 0.1 : Tensor();
          Tensor pwb = with_pos_weight ? pw : scalar(1.0, F64);
          std::string what = label(shape, std::string(hard ? "hard" : "soft") + " target, weight " + weight_name(wk) +
                                              (with_pos_weight ? ", pos_weight" : ""));
          Reference ref = autograd_grad_hess(
              [&](const Tensor& v) { return -sum(wb * (pwb * y * log_sigmoid(v) + (1.0 - y) * log_sigmoid(-v))); }, z);
          GradHess gh = binary_cross_entropy_with_logits_grad_hess(z, y, w, pw);
          expect_near_all(gh.grad, ref.grad, what + ": grad");
          expect_near_all(gh.hess, ref.hess, what + ": hess");
          expect_all_nonnegative(gh.hess, what + ": hess");
          ++cases;
        }
  EXPECT_EQ(cases, 48);
}

TEST(Hessians, BinaryCrossEntropyIsPMinusY) {
  std::vector<double> zv{-2.0, 0.0, 1.5}, yv{1.0, 0.3, 0.0};
  GradHess gh = binary_cross_entropy_with_logits_grad_hess(f64(zv, {3}), f64(yv, {3}));
  for (std::size_t i = 0; i < 3; ++i) {
    double p = 1 / (1 + std::exp(-zv[i]));
    EXPECT_NEAR(gh.grad.to_vector()[i], p - yv[i], 1e-15);
    EXPECT_NEAR(gh.hess.to_vector()[i], p * (1 - p), 1e-15);
  }
}

// ---- focal loss ----

namespace {

// torchvision.ops.sigmoid_focal_loss, elementwise, times the weight.
Tensor focal_reference(const Tensor& z, const Tensor& y, const Tensor& wb, double alpha, double gamma) {
  Tensor p = sigmoid(z);
  Tensor ce = y * softplus(-z) + (1.0 - y) * softplus(z);  // binary_cross_entropy_with_logits
  Tensor p_t = p * y + (1.0 - p) * (1.0 - y);
  Tensor loss = ce * pow(1.0 - p_t, gamma);
  if (alpha >= 0) loss = (alpha * y + (1.0 - alpha) * (1.0 - y)) * loss;
  return wb * loss;
}

}  // namespace

TEST(Hessians, FocalLossMatchesAutograd) {
  Generator gen(15);
  int cases = 0;
  for (const Shape& shape : kBinaryShapes)
    for (bool hard : {true, false})
      for (double alpha : {0.25, -1.0, 0.8})
        for (double gamma : {0.0, 0.5, 1.0, 2.0, 3.7}) {
          WeightKind wk = kWeightKinds[static_cast<std::size_t>(cases) % 3];
          Tensor z = randn(shape, F64, gen) * 2.0;
          Tensor y = make_binary_target(hard, shape, gen);
          Tensor w = make_weight(wk, shape, gen);
          Tensor wb = broadcastable_weight(w, shape);
          std::string what = label(shape, std::string(hard ? "hard" : "soft") + " target, alpha " + std::to_string(alpha) +
                                              ", gamma " + std::to_string(gamma) + ", weight " + weight_name(wk));
          Reference ref = autograd_grad_hess([&](const Tensor& v) { return sum(focal_reference(v, y, wb, alpha, gamma)); }, z);
          GradHessGN gh = sigmoid_focal_loss_grad_hess(z, y, alpha, gamma, w);
          ASSERT_EQ(gh.hess.shape(), shape);
          expect_near_all(gh.grad, ref.grad, what + ": grad");
          expect_near_all(gh.hess, ref.hess, what + ": hess");

          // Gauss–Newton: w·α_t·max(0, ℓ''(p))·(dp/dz)², ℓ(p) = ce(p)·m(p)^γ as a function of the
          // probability, ℓ'' by double backward and dp/dz by autograd.
          Tensor p = sigmoid(z);
          std::vector<double> l2 = elementwise_second_derivative(
              [&](const Tensor& pv) {
                Tensor ce = -(y * log(pv) + (1.0 - y) * log(1.0 - pv));
                return ce * pow(y * (1.0 - pv) + (1.0 - y) * pv, gamma);
              },
              p);
          std::vector<double> ds = elementwise_derivative([](const Tensor& v) { return sigmoid(v); }, z);
          Tensor at = alpha >= 0 ? alpha * y + (1.0 - alpha) * (1.0 - y) : ones(shape, F64);
          std::vector<double> c = (broadcast_to(wb, shape) * at).to_vector(), gn(ds.size());
          for (std::size_t i = 0; i < ds.size(); ++i) {
            EXPECT_GE(l2[i], 0.0) << what << ": ℓ''(p) at element " << i;  // convex in p here
            gn[i] = c[i] * std::max(0.0, l2[i]) * ds[i] * ds[i];
          }
          // ℓ'' comes from autograd through log(1 - p), so the reference is a little less exact.
          std::vector<double> actual_gn = gh.gauss_newton.to_vector();
          for (std::size_t i = 0; i < gn.size(); ++i)
            EXPECT_NEAR(actual_gn[i], gn[i], 1e-10 * std::max(1.0, std::abs(gn[i]))) << what << ": gauss_newton " << i;
          expect_all_nonnegative(gh.gauss_newton, what + ": gauss_newton");
          ++cases;
        }
  EXPECT_EQ(cases, 120);
}

TEST(Hessians, FocalLossHardLabelClosedFormInPt) {
  // The header's p_t form for hard labels, evaluated with scalars.
  const double alpha = 0.25, gamma = 2.0;
  std::vector<double> zv{-2.5, -0.3, 0.0, 1.2, 3.1}, yv{1.0, 0.0, 1.0, 0.0, 1.0};
  GradHessGN gh = sigmoid_focal_loss_grad_hess(f64(zv, {5}), f64(yv, {5}), alpha, gamma);
  for (std::size_t i = 0; i < zv.size(); ++i) {
    double p = 1 / (1 + std::exp(-zv[i]));
    double pt = yv[i] == 1.0 ? p : 1 - p, at = yv[i] == 1.0 ? alpha : 1 - alpha;
    double sign = yv[i] == 1.0 ? -1.0 : 1.0;
    double g = sign * at * std::pow(1 - pt, gamma) * ((1 - pt) - gamma * pt * std::log(pt));
    double h = at * pt * std::pow(1 - pt, gamma) *
               ((1 + 2 * gamma) * (1 - pt) + gamma * (1 - (gamma + 1) * pt) * std::log(pt));
    EXPECT_NEAR(gh.grad.to_vector()[i], g, 1e-14) << i;
    EXPECT_NEAR(gh.hess.to_vector()[i], h, 1e-14) << i;
  }
}

TEST(Hessians, FocalLossHessianCanBeNegativeGaussNewtonCannot) {
  // y = 1, γ = 2, p = 0.02 (confidently wrong): h = α·(-0.04714801922993597).
  const double alpha = 0.25, gamma = 2.0;
  Tensor z = f64({std::log(0.02 / 0.98)}, {1});
  Tensor y = f64({1.0}, {1});
  GradHessGN gh = sigmoid_focal_loss_grad_hess(z, y, alpha, gamma);
  Reference ref = autograd_grad_hess([&](const Tensor& v) { return sum(focal_reference(v, y, scalar(1.0, F64), alpha, gamma)); }, z);
  expect_near_all(gh.hess, ref.hess, "hess");
  EXPECT_NEAR(gh.hess.item(), alpha * -0.04714801922993597, 1e-12);
  EXPECT_LT(ref.hess[0], 0.0);
  EXPECT_GT(gh.gauss_newton.item(), 0.0);
}

TEST(Hessians, FocalLossWithGammaZeroAndNoAlphaIsBce) {
  Generator gen(16);
  Tensor z = randn({4, 3}, F64, gen) * 3.0;
  Tensor y = rand({4, 3}, F64, gen);
  Tensor w = rand({4}, F64, gen) + 0.5;
  GradHessGN focal = sigmoid_focal_loss_grad_hess(z, y, -1.0, 0.0, w);
  GradHess bce = binary_cross_entropy_with_logits_grad_hess(z, y, w);
  expect_near_all(focal.grad, bce.grad.to_vector(), "grad");
  expect_near_all(focal.hess, bce.hess.to_vector(), "hess");
}

// ---- extreme logits ----

TEST(Hessians, FiniteAtExtremeLogits) {
  // Under anomaly mode every op inside the functions is checked for NaN/Inf as well.
  DetectAnomalyGuard anomaly;
  for (DType dt : {DType::Float64, DType::Float32}) {
    std::string what = dtype_name(dt);
    Tensor z = tensor({1e4, -1e4, -1e4, 1e4, 40.0, -40.0, 0.0, 1e3}, {4, 2}, dt);
    Tensor y_hard = tensor({1, 0, 1, 0, 0, 1, 1, 0}, {4, 2}, dt);
    Tensor y_soft = tensor({0.7, 0.3, 0.5, 0.5, 0.1, 0.9, 0.4, 0.6}, {4, 2}, dt);
    for (const Tensor& y : {y_hard, y_soft}) {
      GradHess ce = softmax_cross_entropy_grad_hess(z, y);
      GradHessGN brier = brier_score_grad_hess(z, y);
      GradHessGN bbrier = binary_brier_score_grad_hess(z, y);
      GradHess bce = binary_cross_entropy_with_logits_grad_hess(z, y, Tensor(), tensor({2.0, 0.5}, dt));
      for (const Tensor& t : {ce.grad, ce.hess, brier.grad, brier.hess, brier.gauss_newton, bbrier.grad, bbrier.hess,
                              bbrier.gauss_newton, bce.grad, bce.hess})
        expect_all_finite(t, what);
      for (double gamma : {0.0, 0.5, 2.0}) {
        GradHessGN focal = sigmoid_focal_loss_grad_hess(z, y, 0.25, gamma);
        for (const Tensor& t : {focal.grad, focal.hess, focal.gauss_newton}) expect_all_finite(t, what);
        EXPECT_EQ(focal.grad.dtype(), dt);
      }
    }
  }
}

TEST(Hessians, LimitsAtExtremeLogits) {
  Tensor z = f64({1e4, -1e4}, {1, 2});
  // Softmax CE: right and saturated -> 0; wrong and saturated -> grad σ - y = (1, -1), hess 0.
  GradHess right = softmax_cross_entropy_grad_hess(z, f64({1, 0}, {1, 2}));
  GradHess wrong = softmax_cross_entropy_grad_hess(z, f64({0, 1}, {1, 2}));
  EXPECT_EQ(right.grad.to_vector(), (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(right.hess.to_vector(), (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(wrong.grad.to_vector(), (std::vector<double>{1.0, -1.0}));
  EXPECT_EQ(wrong.hess.to_vector(), (std::vector<double>{0.0, 0.0}));
  // Binary, per element: z = 1e4, -1e4 with y = 0 and 1.
  Tensor zb = f64({1e4, -1e4, 1e4, -1e4}, {4});
  Tensor yb = f64({0, 1, 1, 0}, {4});
  GradHess bce = binary_cross_entropy_with_logits_grad_hess(zb, yb);
  EXPECT_EQ(bce.grad.to_vector(), (std::vector<double>{1.0, -1.0, 0.0, 0.0}));
  EXPECT_EQ(bce.hess.to_vector(), (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
  // Focal (α = 0.25, γ = 2): a saturated wrong prediction has gradient ±α_t (like BCE's ±1 times
  // α_t, as (1 - p_t)^γ = 1), a saturated right one 0; the exact curvature vanishes. The
  // Gauss–Newton diagonal of a saturated wrong prediction tends to α_t, not 0: through σ,
  // ℓ''(p)·s² → (1-y)p²/q²·q² = 1 (for y = 0) while s → 0.
  GradHessGN focal = sigmoid_focal_loss_grad_hess(zb, yb, 0.25, 2.0);
  EXPECT_EQ(focal.grad.to_vector(), (std::vector<double>{0.75, -0.25, 0.0, 0.0}));
  EXPECT_EQ(focal.hess.to_vector(), (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
  EXPECT_EQ(focal.gauss_newton.to_vector(), (std::vector<double>{0.75, 0.25, 0.0, 0.0}));
  // γ < 1 at a perfect prediction: m = 0, r takes its limit p_t instead of 0/0.
  GradHessGN focal_half = sigmoid_focal_loss_grad_hess(zb, yb, 0.25, 0.5);
  EXPECT_EQ(focal_half.grad.to_vector(), (std::vector<double>{0.75, -0.25, 0.0, 0.0}));
  EXPECT_EQ(focal_half.hess.to_vector(), (std::vector<double>{0.0, 0.0, 0.0, 0.0}));
}

// ---- dtypes, shapes, history and argument checks ----

TEST(Hessians, Float32InFloat32OutAndNoHistory) {
  Tensor z = tensor({0.5, -1.0, 2.0, 0.1, 0.2, -0.3}, {2, 3});
  z.requires_grad_();
  Tensor y = tensor({0, 1, 0, 0, 0, 1}, {2, 3}, F64);  // converted to the logits' dtype
  GradHessGN gh = brier_score_grad_hess(z, y);
  EXPECT_EQ(gh.grad.dtype(), DType::Float32);
  EXPECT_EQ(gh.hess.dtype(), DType::Float32);
  EXPECT_EQ(gh.gauss_newton.dtype(), DType::Float32);
  EXPECT_FALSE(gh.grad.requires_grad());
  EXPECT_FALSE(gh.hess.requires_grad());
  // Same numbers as in float64, to float32 precision.
  GradHessGN gh64 = brier_score_grad_hess(z.detach().to(F64), y);
  std::vector<double> a = gh.hess.to_vector(), b = gh64.hess.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(Hessians, ArgumentChecks) {
  Tensor z = f64({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {2, 3});
  Tensor y = f64({0, 1, 0, 1, 0, 0}, {2, 3});
  EXPECT_CONTAINS(error_of([&] { softmax_cross_entropy_grad_hess(reshape(z, {6}), reshape(y, {6})); }), "(N, C)");
  EXPECT_CONTAINS(error_of([&] { brier_score_grad_hess(z, reshape(y, {3, 2})); }), "target must have the logits' shape");
  EXPECT_CONTAINS(error_of([&] { softmax_cross_entropy_grad_hess(z, y, f64({1, 2, 3}, {3})); }), "weight must have shape");
  EXPECT_CONTAINS(error_of([&] { binary_brier_score_grad_hess(z, y, f64({1, 2}, {1, 2})); }), "[1, 2]");
  EXPECT_CONTAINS(error_of([&] { binary_cross_entropy_with_logits_grad_hess(z, y, Tensor(), f64({1, 2}, {2})); }),
                  "pos_weight");
  EXPECT_CONTAINS(error_of([&] { sigmoid_focal_loss_grad_hess(z, y, 0.25, -1.0); }), "gamma");
  EXPECT_CONTAINS(error_of([&] { sigmoid_focal_loss_grad_hess(z, y, 1.5, 2.0); }), "alpha");
  EXPECT_CONTAINS(error_of([&] { sigmoid_focal_loss_grad_hess(z, y * 2.0, 0.25, 2.0); }), "[0, 1]");
  EXPECT_CONTAINS(error_of([&] { binary_brier_score_grad_hess(tensor({1, 2}, DType::Int64), y); }), "float32 or float64");
  // (N) weights are accepted by every function and act per sample.
  Tensor w = f64({2.0, 0.5}, {2});
  GradHess weighted = softmax_cross_entropy_grad_hess(z, y, w), plain = softmax_cross_entropy_grad_hess(z, y);
  std::vector<double> gw = weighted.grad.to_vector(), gp = plain.grad.to_vector();
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR(gw[i], (i < 3 ? 2.0 : 0.5) * gp[i], 1e-15);
}
