// The angular-margin losses (losses/angular.h): the rows' samples; values and gradients against an
// independent reference written from the papers' formulas in θ, on inputs placed in every branch;
// and properties: ψ, the λ schedule, the margin-free limits, shapes, finiteness at cos θ = ±1,
// zero-norm and huge embeddings, and the error messages. The generic checks of every row
// (gradcheck under every reduction, reductions, float32 against float64) are check_loss's
// (tests/test_loss_generic.cpp).
#include "zoograd/tests/test_losses_angular.h"

// The samples (seeds 1 and 2, the draws check_loss gradchecks) keep every target cosine at least 1e-5 from
// the kinks of the default parameters: ±1, L-Softmax's thresholds cos(jπ/4), ArcFace's switch
// cos(π - 0.5) and easy margin's 0. Every row draws the same samples.
TEST(AngularLosses, SamplesStayAwayFromKinks) {
  Vec kinks{-1, 1, 0, std::cos(kPi - 0.5)};
  for (int j = 1; j < 4; ++j) kinks.push_back(std::cos(j * kPi / 4));
  for (std::uint64_t seed : {1, 2}) {
    Generator gen(seed);
    std::vector<Tensor> in = find_loss("arcface_loss").sample(DType::Float64, gen);
    for (const LossSpec& row : losses_of_family("angular")) {
      Generator again(seed);
      std::vector<Tensor> other = row.sample(DType::Float64, again);
      for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(other[i].to_vector(), in[i].to_vector()) << row.name;
    }
    Vec cos_y = gather(cos_theta(in[0], in[1]), 1, unsqueeze(in[2], 1)).to_vector();
    for (double c : cos_y)
      for (double k : kinks) EXPECT_GT(std::abs(c - k), 1e-5) << "seed " << seed << " cos " << c << " kink " << k;
  }
}

// ---- values and gradients against the reference ----

TEST(AngularLosses, ModifiedSoftmaxMatchesReference) {
  // z_j = ‖x‖ cos θ_j, i.e. F.cross_entropy(x @ F.normalize(W).T, y)
  for (const auto& [thetas, norms] : {std::pair{Vec{0.4, 1.9, 2.8}, Vec{1.3, 0.6, 2.2}},
                                      std::pair{Vec{1.1, 0.2, 3.0, 2.2}, Vec{3.0, 0.9, 0.4, 1.7}}}) {
    Problem p = problem(thetas, norms);
    expect_matches(
        p, [](const Problem& q, Reduction r) { return modified_softmax_loss(q.x, q.w, q.y, {.reduction = r}); },
        reference(p, modified_logit, modified_logit));
  }
}

TEST(AngularLosses, NormFaceMatchesReference) {
  // z_j = s cos θ_j, i.e. F.cross_entropy(s * F.normalize(x) @ F.normalize(W).T, y)
  for (double s : {16.0, 1.0}) {
    Problem p = problem({0.4, 1.9, 2.8}, {1.3, 0.6, 2.2});
    expect_matches(
        p, [s](const Problem& q, Reduction r) { return normface_loss(q.x, q.w, q.y, {.s = s, .reduction = r}); },
        reference(p, cosine_logit(scaled_cos(s)), cosine_logit(scaled_cos(s))));
  }
}

TEST(AngularLosses, LSoftmaxMatchesReferenceInEveryInterval) {
  // z_y = ‖W_y‖‖x‖(λ cos θ + ψ(θ))/(1 + λ), ψ from θ; z_j = W_j·x. The angles visit every
  // interval [kπ/m, (k+1)π/m].
  struct Case {
    int m;
    double lambda;
    Vec thetas, norms;
  };
  for (const Case& c :
       {Case{2, 0.0, {0.5, 2.2, 1.2}, {1.3, 0.6, 2.2}}, Case{3, 0.5, {0.4, 1.5, 2.5, 3.0}, {0.8, 1.6, 1.1, 2.0}},
        Case{4, 0.0, {0.3, 1.0, 1.9, 2.9}, {1.2, 0.7, 1.5, 0.9}}}) {
    Problem p = problem(c.thetas, c.norms);
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          return lsoftmax_loss(q.x, q.w, q.y, {.m = c.m, .lambda = c.lambda, .reduction = r});
        },
        reference(p, large_margin_logit(c.m, c.lambda, false), linear_logit));
  }
}

TEST(AngularLosses, SphereFaceMatchesReference) {
  // As L-Softmax with ŵ; λ = max(λ_min, base(1 + γ·iteration)^-power).
  struct Case {
    SphereFaceOptions options;
    double lambda;
    Vec thetas;
  };
  for (const Case& c :
       {Case{{}, 1000.0, {0.3, 1.0, 1.9, 2.9}}, Case{{.iteration = 50}, 1000.0 / 7.0, {0.3, 1.0, 1.9, 2.9}},
        Case{{.m = 3, .base = 0, .lambda_min = 0}, 0.0, {0.4, 1.5, 2.5}}}) {
    EXPECT_NEAR(c.options.lambda(), c.lambda, 1e-12);
    Problem p = problem(c.thetas, {1.2, 0.7, 1.5, 0.9});
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          SphereFaceOptions o = c.options;
          o.reduction = r;
          return sphereface_loss(q.x, q.w, q.y, o);
        },
        reference(p, large_margin_logit(static_cast<int>(c.options.m), c.lambda, true), modified_logit));
  }
}

TEST(AngularLosses, CosFaceMatchesReference) {
  // z_y = s(cos θ_y - m), z_j = s cos θ_j
  for (const auto& [s, m] : {std::pair{30.0, 0.35}, std::pair{10.0, 0.2}}) {
    Problem p = problem({0.4, 1.9, 2.8}, {1.3, 0.6, 2.2});
    CosTransform target = [s, m](double c) { return std::pair{s * (c - m), s}; };
    expect_matches(
        p, [&](const Problem& q, Reduction r) { return cosface_loss(q.x, q.w, q.y, {.s = s, .m = m, .reduction = r}); },
        reference(p, cosine_logit(target), cosine_logit(scaled_cos(s))));
  }
}

// s cos(θ + m), d/dcos θ = s sin(θ + m)/sin θ, from θ; fallback s(cos θ - m sin m) where the
// margin does not apply.
CosTransform arcface_reference(double s, double m, bool easy_margin) {
  return [=](double c) {
    double theta = std::acos(c);
    bool margin = easy_margin ? c > 0 : theta + m < kPi;
    if (!margin) return std::pair{s * (c - (easy_margin ? 0.0 : m * std::sin(m))), s};
    return std::pair{s * std::cos(theta + m), s * std::sin(theta + m) / std::sin(theta)};
  };
}

TEST(AngularLosses, ArcFaceMatchesReferenceOnBothBranches) {
  struct Case {
    ArcFaceOptions options;
    Vec thetas;
  };
  // 2.9 > π - 0.5 takes the fallback; with easy margin, θ > π/2 takes s·cos θ.
  for (const Case& c : {Case{{}, {0.3, 1.2, 2.9}}, Case{{.s = 30, .m = 0.3, .easy_margin = true}, {0.5, 1.8, 2.7}}}) {
    Problem p = problem(c.thetas, {1.3, 0.6, 2.2});
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          ArcFaceOptions o = c.options;
          o.reduction = r;
          return arcface_loss(q.x, q.w, q.y, o);
        },
        reference(p, cosine_logit(arcface_reference(c.options.s, c.options.m, c.options.easy_margin)),
                  cosine_logit(scaled_cos(c.options.s))));
  }
}

TEST(AngularLosses, CombinedMarginMatchesReference) {
  // z_y = s(cos(m1 θ + m2) - m3), d/dcos θ = s m1 sin(m1 θ + m2)/sin θ
  for (const CombinedMarginOptions& o : {CombinedMarginOptions{.s = 30, .m1 = 0.9, .m2 = 0.4, .m3 = 0.15},
                                         CombinedMarginOptions{.s = 20, .m1 = 1.0, .m2 = 0.3, .m3 = 0.2}}) {
    Problem p = problem({0.4, 1.9, 2.8}, {1.3, 0.6, 2.2});
    CosTransform target = [o](double c) {
      double theta = std::acos(c);
      return std::pair{o.s * (std::cos(o.m1 * theta + o.m2) - o.m3),
                       o.s * o.m1 * std::sin(o.m1 * theta + o.m2) / std::sin(theta)};
    };
    expect_matches(
        p,
        [&](const Problem& q, Reduction r) {
          CombinedMarginOptions with = o;
          with.reduction = r;
          return combined_margin_loss(q.x, q.w, q.y, with);
        },
        reference(p, cosine_logit(target), cosine_logit(scaled_cos(o.s))));
  }
}

// ---- properties ----

TEST(AngularLosses, PsiIsContinuousAndDecreasingOverZeroToPi) {
  Vec thetas = grid(0, kPi, 20001);
  double step = kPi / 20000;
  for (int m : {2, 3, 4}) {
    Vec psi = lsoftmax_psi(tensor(cosines(thetas), DType::Float64), m).to_vector();
    EXPECT_NEAR(psi.front(), 1.0, 1e-12) << "m " << m;
    EXPECT_NEAR(psi.back(), 1.0 - 2.0 * m, 1e-9) << "m " << m;
    for (std::size_t i = 1; i < psi.size(); ++i) {
      ASSERT_LE(psi[i], psi[i - 1] + 1e-12) << "m " << m << " not decreasing at θ " << thetas[i];
      // |dψ/dθ| ≤ m, so a step of the grid moves ψ by at most m·step: no jumps.
      ASSERT_LE(psi[i - 1] - psi[i], m * step + 1e-9) << "m " << m << " jumps at θ " << thetas[i];
    }
  }
}

TEST(AngularLosses, PsiMatchesItsDefinitionInThetaAndSoDoesItsGradient) {
  Vec thetas = grid(0.01, kPi - 0.01, 997);  // irregular step: no grid point on a threshold
  for (int m : {1, 2, 3, 4, 5}) {
    Tensor c = tensor(cosines(thetas), DType::Float64).requires_grad_();
    Tensor psi = lsoftmax_psi(c, m);
    sum(psi).backward();
    Vec value = psi.to_vector(), slope = c.grad().to_vector();
    for (std::size_t i = 0; i < thetas.size(); ++i) {
      auto [expected, expected_slope] = psi_from_theta(thetas[i], m);
      ASSERT_NEAR(value[i], expected, 1e-12) << "m " << m << " θ " << thetas[i];
      ASSERT_NEAR(slope[i], expected_slope, 1e-8 * (1 + std::abs(expected_slope))) << "m " << m << " θ " << thetas[i];
    }
  }
}

TEST(AngularLosses, LSoftmaxWithMOneIsPlainSoftmaxCrossEntropy) {
  // F.cross_entropy(x @ W.T, y) for any λ: ψ = cos θ when m = 1.
  for (double lambda : {0.0, 0.7, 1000.0})
    expect_same_loss(
        sample_problem(3),
        [&](const Problem& q, Reduction r) {
          return lsoftmax_loss(q.x, q.w, q.y, {.m = 1, .lambda = lambda, .reduction = r});
        },
        [](const Problem& q, Reduction r) { return plain_softmax_loss(q.x, q.w, q.y, r); }, 1e-12,
        "λ " + std::to_string(lambda));
}

TEST(AngularLosses, ZeroMarginsGiveNormFace) {
  Problem p = sample_problem(4);
  for (double s : {1.0, 30.0, 64.0}) {
    LossCall normface = [s](const Problem& q, Reduction r) {
      return normface_loss(q.x, q.w, q.y, {.s = s, .reduction = r});
    };
    expect_same_loss(
        p, [s](const Problem& q, Reduction r) { return cosface_loss(q.x, q.w, q.y, {.s = s, .m = 0, .reduction = r}); },
        normface, 1e-12, "cosface m = 0");
    for (bool easy : {false, true})
      expect_same_loss(
          p,
          [=](const Problem& q, Reduction r) {
            return arcface_loss(q.x, q.w, q.y, {.s = s, .m = 0, .easy_margin = easy, .reduction = r});
          },
          normface, 1e-12, "arcface m = 0");
    // acos then cos: equal up to rounding.
    expect_same_loss(
        p,
        [s](const Problem& q, Reduction r) {
          return combined_margin_loss(q.x, q.w, q.y, {.s = s, .m1 = 1, .m2 = 0, .m3 = 0, .reduction = r});
        },
        normface, 1e-10, "combined (1, 0, 0)");
  }
}

TEST(AngularLosses, CombinedMarginContainsCosFaceAndArcFace) {
  Problem p = sample_problem(5);
  expect_same_loss(
      p,
      [](const Problem& q, Reduction r) {
        return combined_margin_loss(q.x, q.w, q.y, {.s = 30, .m1 = 1, .m2 = 0, .m3 = 0.35, .reduction = r});
      },
      [](const Problem& q, Reduction r) { return cosface_loss(q.x, q.w, q.y, {.s = 30, .m = 0.35, .reduction = r}); },
      1e-10, "combined (1, 0, m3) = cosface");
  // The samples' target angles are below π - 0.5, where ArcFace has no fallback.
  expect_same_loss(
      p,
      [](const Problem& q, Reduction r) {
        return combined_margin_loss(q.x, q.w, q.y, {.s = 64, .m1 = 1, .m2 = 0.5, .m3 = 0, .reduction = r});
      },
      [](const Problem& q, Reduction r) { return arcface_loss(q.x, q.w, q.y, {.reduction = r}); }, 1e-10,
      "combined (1, m2, 0) = arcface");
}

TEST(AngularLosses, SphereFaceSpansModifiedSoftmaxToLSoftmaxOnNormalizedWeights) {
  Problem p = sample_problem(6);
  // λ = 0: L-Softmax with normalized weights.
  expect_same_loss(
      p,
      [](const Problem& q, Reduction r) {
        return sphereface_loss(q.x, q.w, q.y, {.m = 3, .base = 0, .lambda_min = 0, .reduction = r});
      },
      [](const Problem& q, Reduction r) {
        return lsoftmax_loss(q.x, normalize(q.w, 2.0, 1), q.y, {.m = 3, .lambda = 0, .reduction = r});
      },
      1e-12, "λ = 0");
  // λ → ∞: the margin fades and the modified softmax remains (the difference is O(1/λ)).
  expect_same_loss(
      p, [](const Problem& q, Reduction r) { return sphereface_loss(q.x, q.w, q.y, {.base = 1e12, .reduction = r}); },
      [](const Problem& q, Reduction r) { return modified_softmax_loss(q.x, q.w, q.y, {.reduction = r}); }, 1e-10,
      "λ = 1e12");
}
