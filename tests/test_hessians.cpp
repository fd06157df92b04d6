// The closed-form gradients and Hessian diagonals of losses/hessians.h against autograd, in
// float64: the gradient against the first derivative of the summed loss (written here directly
// with core ops), the Hessian diagonal against double backward (for each logit element k,
// d/dz_k of (dL/dz)_k through zg::grad with create_graph=true), to 1e-10. Also: the seed's Brier
// Hessian (corrected vs literal), negative Hessians next to their positive Gauss–Newton
// diagonals, finite values at ±1e4 logits, and argument checks.
#include "zoograd/tests/test_hessians.h"

TEST(Hessians, SoftmaxCrossEntropyMatchesAutograd) {
  Generator gen(11);
  int cases = 0;
  for (const Shape& shape : kMulticlassShapes)
    for (TargetKind tk : kTargetKinds)
      for (WeightKind wk : kWeightKinds) {
        Tensor z = randn(shape, F64, gen) * 2.0;
        Tensor y = make_multiclass_target(tk, shape[0], shape[1], gen);
        Tensor w = make_weight(wk, shape, gen);
        Tensor wb = broadcastable_weight(w, shape);
        std::string what = label(shape, std::string(target_name(tk)) + " target, weight " + weight_name(wk));
        Reference ref = autograd_grad_hess([&](const Tensor& v) { return -sum(wb * y * log_softmax(v, 1)); }, z);
        GradHess gh = softmax_cross_entropy_grad_hess(z, y, w);
        ASSERT_EQ(gh.grad.shape(), shape);
        ASSERT_EQ(gh.hess.shape(), shape);
        expect_near_all(gh.grad, ref.grad, what + ": grad");
        expect_near_all(gh.hess, ref.hess, what + ": hess");
        expect_all_nonnegative(gh.hess, what + ": hess");
        ++cases;
      }
  EXPECT_EQ(cases, 36);
}

TEST(Hessians, SoftmaxCrossEntropyWithProbabilityTargetsIsSigmaMinusY) {
  // Σ_j y_j = 1 and no weight: grad = σ - y, hess = σ(1 - σ), by hand for one row.
  Tensor z = f64({0.3, -1.2, 2.0}, {1, 3});
  Tensor y = f64({0.2, 0.5, 0.3}, {1, 3});
  double e0 = std::exp(0.3), e1 = std::exp(-1.2), e2 = std::exp(2.0), t = e0 + e1 + e2;
  std::vector<double> sig{e0 / t, e1 / t, e2 / t}, yv{0.2, 0.5, 0.3};
  GradHess gh = softmax_cross_entropy_grad_hess(z, y);
  std::vector<double> g = gh.grad.to_vector(), h = gh.hess.to_vector();
  for (std::size_t l = 0; l < 3; ++l) {
    EXPECT_NEAR(g[l], sig[l] - yv[l], 1e-15);
    EXPECT_NEAR(h[l], sig[l] * (1 - sig[l]), 1e-15);
  }
  // With Σ_j y_j = 2 both scale: grad = 2σ - y, hess = 2σ(1 - σ).
  GradHess gh2 = softmax_cross_entropy_grad_hess(z, y * 2.0);
  for (std::size_t l = 0; l < 3; ++l) {
    EXPECT_NEAR(gh2.grad.to_vector()[l], 2 * sig[l] - 2 * yv[l], 1e-15);
    EXPECT_NEAR(gh2.hess.to_vector()[l], 2 * sig[l] * (1 - sig[l]), 1e-15);
  }
}

// ---- multi-class Brier score ----

TEST(Hessians, BrierScoreMatchesAutograd) {
  Generator gen(12);
  int cases = 0;
  for (const Shape& shape : kMulticlassShapes)
    for (TargetKind tk : kTargetKinds)
      for (WeightKind wk : kWeightKinds) {
        Tensor z = randn(shape, F64, gen) * 2.0;
        Tensor y = make_multiclass_target(tk, shape[0], shape[1], gen);
        Tensor w = make_weight(wk, shape, gen);
        Tensor wb = broadcastable_weight(w, shape);
        std::string what = label(shape, std::string(target_name(tk)) + " target, weight " + weight_name(wk));
        Reference ref = autograd_grad_hess(
            [&](const Tensor& v) {
              Tensor d = softmax(v, 1) - y;
              return sum(wb * d * d);
            },
            z);
        GradHessGN gh = brier_score_grad_hess(z, y, w);
        expect_near_all(gh.grad, ref.grad, what + ": grad");
        expect_near_all(gh.hess, ref.hess, what + ": hess");

        // Gauss–Newton: 2 Σ_j w_j (∂σ_j/∂z_l)², the softmax Jacobian taken from autograd.
        const std::int64_t n = shape[0], c = shape[1];
        Tensor wfull = broadcast_to(wb, shape);
        std::vector<double> wv = wfull.to_vector(), gn(static_cast<std::size_t>(n * c), 0.0);
        Tensor zl = z.detach().clone();
        zl.requires_grad_();
        Tensor sig = softmax(zl, 1);
        for (std::int64_t j = 0; j < c; ++j) {
          // Row i of this gradient holds ∂σ_ij/∂z_il for every l (rows do not interact).
          std::vector<double> jac = grad({sum(slice(sig, 1, j, j + 1))}, {zl}, {}, {.retain_graph = true})[0].to_vector();
          for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t l = 0; l < c; ++l) {
              auto il = static_cast<std::size_t>(i * c + l), ij = static_cast<std::size_t>(i * c + j);
              gn[il] += 2.0 * wv[ij] * jac[il] * jac[il];
            }
        }
        expect_near_all(gh.gauss_newton, gn, what + ": gauss_newton");
        expect_all_nonnegative(gh.gauss_newton, what + ": gauss_newton");
        ++cases;
      }
  EXPECT_EQ(cases, 36);
}

TEST(Hessians, BrierScoreSeedHessianCorrectedNotLiteral) {
  // One row, C = 4, per-element weights. The seed's own long form with slip (d)/(e) corrected,
  //   2σ_l(1-σ_l)(r_l - A) + 2σ_l² w_l(1-σ_l) - 2σ_l²[w_l(2σ_l - y_l) - Σ_j w_j σ_j(2σ_j - y_j)],
  // equals the function's simplified form and autograd; the literal last line,
  //   ... - 2σ_l σ_l[w_l(2σ_l - y_l) - σ_l Σ_j w_j(2σ_j - y_j)],
  // does not.
  std::vector<double> zv{0.4, -1.1, 1.7, 0.2}, yv{0.1, 0.6, 0.2, 0.1}, wv{1.0, 0.5, 2.0, 1.5};
  Tensor z = f64(zv, {1, 4}), y = f64(yv, {1, 4}), w = f64(wv, {1, 4});
  double total = 0;
  for (double v : zv) total += std::exp(v);
  std::vector<double> sig(4);
  for (std::size_t j = 0; j < 4; ++j) sig[j] = std::exp(zv[j]) / total;
  double a = 0, b = 0, b_literal = 0;
  for (std::size_t j = 0; j < 4; ++j) {
    double r = wv[j] * (sig[j] - yv[j]);
    a += sig[j] * r;
    b += wv[j] * sig[j] * (2 * sig[j] - yv[j]);
    b_literal += wv[j] * (2 * sig[j] - yv[j]);
  }
  Reference ref = autograd_grad_hess(
      [&](const Tensor& v) {
        Tensor d = softmax(v, 1) - y;
        return sum(w * d * d);
      },
      z);
  GradHessGN gh = brier_score_grad_hess(z, y, w);
  std::vector<double> corrected(4), literal(4), seed_grad(4);
  double max_literal_error = 0;
  for (std::size_t l = 0; l < 4; ++l) {
    double s = sig[l], r = wv[l] * (s - yv[l]);
    double head = 2 * s * (1 - s) * (r - a) + 2 * s * wv[l] * s * (1 - s);
    corrected[l] = head - 2 * s * s * (wv[l] * (2 * s - yv[l]) - b);
    literal[l] = head - 2 * s * s * (wv[l] * (2 * s - yv[l]) - s * b_literal);
    seed_grad[l] = 2 * s * (r - a);  // the seed's gradient, as written
    max_literal_error = std::max(max_literal_error, std::abs(literal[l] - ref.hess[l]));
  }
  expect_near_all(gh.hess, corrected, "function vs corrected seed Hessian");
  expect_near_all(f64(corrected, {1, 4}), ref.hess, "corrected seed Hessian vs autograd");
  expect_near_all(gh.grad, seed_grad, "function vs seed gradient");
  expect_near_all(f64(seed_grad, {1, 4}), ref.grad, "seed gradient vs autograd");
  EXPECT_GT(max_literal_error, 1e-2) << "the seed's literal last line should disagree with autograd";
}

TEST(Hessians, BrierScoreHessianCanBeNegativeGaussNewtonCannot) {
  // A confidently wrong row: the true class 0 has σ_0 ≈ 0.0025.
  Tensor z = f64({-3.0, 3.0, 0.0}, {1, 3});
  Tensor y = f64({1.0, 0.0, 0.0}, {1, 3});
  GradHessGN gh = brier_score_grad_hess(z, y);
  Reference ref = autograd_grad_hess(
      [&](const Tensor& v) {
        Tensor d = softmax(v, 1) - y;
        return sum(d * d);
      },
      z);
  expect_near_all(gh.hess, ref.hess, "hess");
  std::vector<double> h = gh.hess.to_vector(), gn = gh.gauss_newton.to_vector();
  EXPECT_LT(h[0], -1e-3);
  EXPECT_LT(ref.hess[0], -1e-3);  // autograd agrees that the curvature is negative
  EXPECT_GT(gn[0], 0.0);
  for (double v : gn) EXPECT_GT(v, 0.0);
  // The exact diagonal is the Gauss–Newton one plus 2σ_l(1 - 2σ_l)(r_l - A).
  std::vector<double> g = gh.grad.to_vector(), sig = softmax(z, 1).to_vector();
  for (std::size_t l = 0; l < 3; ++l) {
    double r_minus_a = g[l] / (2 * sig[l]);
    EXPECT_NEAR(h[l], gn[l] + 2 * sig[l] * (1 - 2 * sig[l]) * r_minus_a, 1e-14);
  }
}

// ---- binary Brier score ----

TEST(Hessians, BinaryBrierScoreMatchesAutograd) {
  Generator gen(13);
  int cases = 0;
  for (const Shape& shape : kBinaryShapes)
    for (bool hard : {true, false})
      for (WeightKind wk : kWeightKinds) {
        Tensor z = randn(shape, F64, gen) * 2.0;
        Tensor y = make_binary_target(hard, shape, gen);
        Tensor w = make_weight(wk, shape, gen);
        Tensor wb = broadcastable_weight(w, shape);
        std::string what = label(shape, std::string(hard ? "hard" : "soft") + " target, weight " + weight_name(wk));
        Reference ref = autograd_grad_hess(
            [&](const Tensor& v) {
              Tensor d = sigmoid(v) - y;
              return sum(wb * d * d);
            },
            z);
        GradHessGN gh = binary_brier_score_grad_hess(z, y, w);
        ASSERT_EQ(gh.grad.shape(), shape);
        expect_near_all(gh.grad, ref.grad, what + ": grad");
        expect_near_all(gh.hess, ref.hess, what + ": hess");
        std::vector<double> ds = elementwise_derivative([](const Tensor& v) { return sigmoid(v); }, z);
        std::vector<double> wv = broadcast_to(wb, shape).to_vector(), gn(ds.size());
        for (std::size_t i = 0; i < ds.size(); ++i) gn[i] = 2 * wv[i] * ds[i] * ds[i];
        expect_near_all(gh.gauss_newton, gn, what + ": gauss_newton");
        expect_all_nonnegative(gh.gauss_newton, what + ": gauss_newton");
        ++cases;
      }
  EXPECT_EQ(cases, 24);
}

TEST(Hessians, BinaryBrierScoreHessianCanBeNegative) {
  // y = 1, z = -3: h = 2σ(1-σ)[σ(1-σ) + (σ-1)(1-2σ)] ≈ -0.0738, Gauss–Newton 2σ²(1-σ)² ≈ 0.0041.
  Tensor z = f64({-3.0, 3.0}, {2});
  Tensor y = f64({1.0, 1.0}, {2});
  GradHessGN gh = binary_brier_score_grad_hess(z, y);
  Reference ref = autograd_grad_hess(
      [&](const Tensor& v) {
        Tensor d = sigmoid(v) - y;
        return sum(d * d);
      },
      z);
  expect_near_all(gh.hess, ref.hess, "hess");
  EXPECT_NEAR(gh.hess.to_vector()[0], -0.0738226508851999, 1e-12);
  EXPECT_NEAR(gh.gauss_newton.to_vector()[0], 0.0040818611688852365, 1e-12);
  EXPECT_GT(gh.hess.to_vector()[1], 0.0);  // the right, confident prediction curves upwards
}

// ---- binary cross-entropy with logits ----
