// The metric-learning family (losses/metric.h): the rows' parameters and samples, reference values
// and gradients from the formulas, and properties (zeros, shapes, extremes, errors). The generic
// checks of every row are check_loss's (tests/test_loss_generic.cpp).
#include "zoograd/tests/test_losses_metric.h"

// The rows' parameter defaults are the options' defaults.
TEST(MetricCatalog, RowsDeclareTheOptionsDefaults) {
  using D = std::vector<std::pair<std::string, double>>;
  auto defaults = [](const std::string& name) {
    D d;
    for (const LossParam& p : find_loss(name).params) d.emplace_back(p.name, p.default_value);
    return d;
  };
  EXPECT_EQ(defaults("contrastive_loss"), (D{{"margin", 1.0}, {"eps", 1e-12}, {"similar_label", 1.0}, {"half", 0.0}}));
  EXPECT_EQ(defaults("unified_loss"), (D{{"m", 0.25}, {"gamma", 256.0}, {"factored", 1.0}}));
  EXPECT_EQ(defaults("triplet_margin_loss"), (D{{"margin", 1.0}, {"p", 2.0}, {"eps", 1e-6}, {"swap", 0.0}}));
  EXPECT_EQ(defaults("circle_loss"), (D{{"m", 0.25}, {"gamma", 256.0}, {"detach_weights", 1.0}}));
  EXPECT_EQ(defaults("circle_loss_from_embeddings"), defaults("circle_loss"));
  EXPECT_EQ(defaults("info_nce_loss"), (D{{"temperature", 0.1}}));
  EXPECT_EQ(defaults("multi_similarity_loss"), (D{{"alpha", 2.0}, {"beta", 50.0}, {"base", 0.5}}));
  EXPECT_EQ(defaults("cosine_embedding_loss"), (D{{"margin", 0.0}}));
  EXPECT_EQ(defaults("margin_ranking_loss"), (D{{"margin", 0.0}}));
}

// Over many generator seeds the samples keep every kink of the default parameters >= 0.05 away
// (and triplet's swap kink, d(p, n) = d(a, n)).
TEST(MetricCatalog, SamplesStayAwayFromKinks) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::vector<Tensor> c = sample(find_loss("contrastive_loss"), DType::Float64, seed);
    V d = sqrt(sum(pow(c[0] - c[1], 2.0), {1})).to_vector(), y = c[2].to_vector();
    for (std::size_t n = 0; n < d.size(); ++n) {
      if (y[n] != 0) continue;  // similar pairs have no kink
      EXPECT_GE(std::abs(d[n] - 1.0), 0.05);
    }

    std::vector<Tensor> t = sample(find_loss("triplet_margin_loss"), DType::Float64, seed);
    for (double p : {2.0, 3.0}) {
      auto dist = [p](const Tensor& a, const Tensor& b) { return pow(sum(pow(abs(a - b), p), {1}), 1.0 / p); };
      V hinge = (1.0 + dist(t[0], t[1]) - dist(t[0], t[2])).to_vector();
      V an = dist(t[0], t[2]).to_vector(), pn = dist(t[1], t[2]).to_vector();
      for (std::size_t n = 0; n < hinge.size(); ++n) {
        EXPECT_GE(std::abs(hinge[n]), 0.05);
        EXPECT_GE(std::abs(an[n] - pn[n]), 0.05);
        EXPECT_GE(std::abs(1.0 + dist(t[0], t[1]).to_vector()[n] - std::min(an[n], pn[n])), 0.05);
      }
    }

    std::vector<Tensor> s = sample(find_loss("circle_loss"), DType::Float64, seed);
    for (double v : s[0].to_vector()) EXPECT_LE(v, 1.25 - 0.05);
    for (double v : s[1].to_vector()) EXPECT_GE(v, -0.25 + 0.05);
    Tensor e = sample(find_loss("circle_loss_from_embeddings"), DType::Float64, seed)[0];
    Tensor unit_e = normalize(e, 2.0, 1);
    for (double v : mm(unit_e, unit_e, {.transpose_b = true}).to_vector()) EXPECT_GE(v, -0.25 + 0.05);

    std::vector<Tensor> ce = sample(find_loss("cosine_embedding_loss"), DType::Float64, seed);
    V cos = (sum(ce[0] * ce[1], {1}) / sqrt(sum(ce[0] * ce[0], {1}) * sum(ce[1] * ce[1], {1}))).to_vector();
    for (double v : cos) EXPECT_GE(std::abs(v), 1e-3);

    std::vector<Tensor> mr = sample(find_loss("margin_ranking_loss"), DType::Float64, seed);
    for (double v : abs(mr[0] - mr[1]).to_vector()) EXPECT_GE(v, 0.1);
  }
}

// Both sides of each hinge are present, so the gradchecks (check_loss) cover the flat and the sloped part.
TEST(MetricCatalog, SamplesExerciseActiveAndInactiveHinges) {
  for (const char* name : {"triplet_margin_loss", "cosine_embedding_loss", "margin_ranking_loss"}) {
    V values = find_loss(name).call(sample(find_loss(name), DType::Float64), {}, Reduction::None).to_vector();
    EXPECT_TRUE(std::any_of(values.begin(), values.end(), [](double v) { return v == 0; })) << name;
    EXPECT_TRUE(std::any_of(values.begin(), values.end(), [](double v) { return v > 0.05; })) << name;
  }
  // contrastive: label 0 pairs inside (loss > 0) and outside (loss 0) the margin
  V values = find_loss("contrastive_loss").call(sample(find_loss("contrastive_loss"), DType::Float64), {}, Reduction::None).to_vector();
  EXPECT_GT(values[1], 0.05);
  EXPECT_EQ(values[2], 0.0);
  // batch losses: label 2 is alone, so anchor 4 has no positive (and the circle loss gives it 0)
  V circle = find_loss("circle_loss_from_embeddings")
                 .call(sample(find_loss("circle_loss_from_embeddings"), DType::Float64), {}, Reduction::None)
                 .to_vector();
  EXPECT_EQ(circle[4], 0.0);
  EXPECT_GT(*std::min_element(circle.begin(), circle.begin() + 4), 0.0);
}

TEST(MetricCatalog, CallPassesParametersAndRefusesUnknownOnes) {
  std::vector<Tensor> in = sample(find_loss("triplet_margin_loss"), DType::Float64);
  EXPECT_EQ(find_loss("triplet_margin_loss").call(in, {{"margin", 0.3}, {"swap", 1}}, Reduction::Sum).item(),
            triplet_margin_loss(in[0], in[1], in[2], {.margin = 0.3, .swap = true, .reduction = Reduction::Sum}).item());
  std::string e = error_of([&] { find_loss("triplet_margin_loss").call(in, {{"margn", 2.0}}, Reduction::Mean); });
  EXPECT_CONTAINS(e, "triplet_margin_loss: unknown parameter \"margn\"");
  EXPECT_CONTAINS(e, "its parameters: margin, p, eps, swap");
  EXPECT_CONTAINS(error_of([&] { find_loss("triplet_margin_loss").call(in, {{"swap", 0.5}}, Reduction::Mean); }),
                  "triplet_margin_loss: swap: expected 0 or 1, got 0.5");
  EXPECT_CONTAINS(error_of([&] { find_loss("triplet_margin_loss").call({in[0], in[1]}, {}, Reduction::Mean); }),
                  "triplet_margin_loss: expects 3 input tensors, got 2");
  std::vector<Tensor> s = sample(find_loss("circle_loss"), DType::Float64);
  EXPECT_EQ(find_loss("circle_loss").call(s, {{"gamma", 80}}, Reduction::None).to_vector(),
            circle_loss(s[0], s[1], {.gamma = 80, .reduction = Reduction::None}).to_vector());
}

// ---- reference values and gradients, float64, to 1e-10 ----

TEST(ContrastiveLoss, ReferenceValues) {
  // One dissimilar pair inside margin 2: (2 - d)², d = √(‖x1 - x2‖² + 1e-12); d/dx1 = -2(2 - d)(x1 - x2)/d
  V x1{1, 2}, x2{1.5, 1};
  double d = std::sqrt(1.25 + 1e-12);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return contrastive_loss(t[0], t[1], f64({0}, {1}), {.margin = 2.0, .reduction = Reduction::Sum});
      },
      {f64(x1, {1, 2}), f64(x2, {1, 2})});
  EXPECT_NEAR(a.value, (2 - d) * (2 - d), 1e-10);
  double k = -2 * (2 - d) / d;
  expect_all_near(a.grads[0], {k * -0.5, k * 1.0}, 1e-10);
  expect_all_near(a.grads[1], {-k * -0.5, -k * 1.0}, 1e-10);

  // A similar pair (‖x1 - x2‖² = 1.25, gradient 2(x1 - x2)) and a dissimilar pair at d ≈ 2.83 > 1
  // (no loss, no gradient); mean over 2.
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) { return contrastive_loss(t[0], t[1], f64({1, 0}, {2})); },
      {f64({0, 1, 2, 1, 1, 1}, {2, 3}), f64({0.5, 1, 1, 3, -1, 1}, {2, 3})});
  EXPECT_NEAR(b.value, 1.25 / 2, 1e-10);
  expect_all_near(b.grads[0], {-0.5, 0, 1, 0, 0, 0}, 1e-10);
  expect_all_near(b.grads[1], {0.5, 0, -1, 0, 0, 0}, 1e-10);
}

TEST(TripletMarginLoss, ReferenceValues) {
  // F.triplet_margin_loss(a, p, n): max(0, 1 + ‖a - p + 1e-6‖ - ‖a - n + 1e-6‖);
  // d/da = u_p - u_n, d/dp = -u_p, d/dn = u_n with u = v / ‖v‖.
  V a{0.5, -1, 2}, p{1, -1.5, 2.5}, n{0, 0, 1};
  V vp = shifted_difference(a, p, 1e-6), vn = shifted_difference(a, n, 1e-6);
  double hinge = 1 + norm2(vp) - norm2(vn);
  ASSERT_GT(hinge, 0.1);
  ValueAndGrads r = value_and_grads(
      [](const std::vector<Tensor>& t) { return triplet_margin_loss(t[0], t[1], t[2]); },
      {f64(a, {1, 3}), f64(p, {1, 3}), f64(n, {1, 3})});
  EXPECT_NEAR(r.value, hinge, 1e-10);
  V up = pnorm_grad(vp, 2), un = pnorm_grad(vn, 2);
  expect_all_near(r.grads[0], {up[0] - un[0], up[1] - un[1], up[2] - un[2]}, 1e-10);
  expect_all_near(r.grads[1], {-up[0], -up[1], -up[2]}, 1e-10);
  expect_all_near(r.grads[2], un, 1e-10);

  // F.triplet_margin_loss(a, p, n, p=3, swap=True, reduction='sum'). Row 0: d(p, n) < d(a, n), so
  // the loss is 1 + d(a, p) - d(p, n): d/da = g_ap, d/dp = -g_ap - g_pn, d/dn = g_pn (g = ∂‖v‖_3/∂v).
  // Row 1: 1 + d(a, p) - min(d(a, n), d(p, n)) < 0, no loss.
  V a0{0, 0}, p0{0.3, 0.1}, n0{0.5, 0.4};
  V vap = shifted_difference(a0, p0, 1e-6), van = shifted_difference(a0, n0, 1e-6), vpn = shifted_difference(p0, n0, 1e-6);
  ASSERT_LT(pnorm(vpn, 3), pnorm(van, 3));
  ValueAndGrads s = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return triplet_margin_loss(t[0], t[1], t[2], {.p = 3, .swap = true, .reduction = Reduction::Sum});
      },
      {f64({0, 0, 1, 1}, {2, 2}), f64({0.3, 0.1, 1.5, 0.5}, {2, 2}), f64({0.5, 0.4, 3, 3}, {2, 2})});
  EXPECT_NEAR(s.value, 1 + pnorm(vap, 3) - pnorm(vpn, 3), 1e-10);
  V gap = pnorm_grad(vap, 3), gpn = pnorm_grad(vpn, 3);
  expect_all_near(s.grads[0], {gap[0], gap[1], 0, 0}, 1e-10);
  expect_all_near(s.grads[1], {-gap[0] - gpn[0], -gap[1] - gpn[1], 0, 0}, 1e-10);
  expect_all_near(s.grads[2], {gpn[0], gpn[1], 0, 0}, 1e-10);
}

TEST(CircleLoss, ReferenceValues) {
  // Eq. (6) at γ = 2, one anchor: ℓ = softplus(lse(z_n) + lse(z_p)); with α detached
  // dℓ/ds_p^i = σ(Z)·softmax(z_p)_i·(-γα_p^i), dℓ/ds_n^j = σ(Z)·softmax(z_n)_j·γα_n^j.
  V sp{0.8, 0.6}, sn{0.3, -0.1, 0.5};
  CircleRef ref = circle_ref(sp, sn, 0.25, 2.0, true);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return circle_loss(t[0], t[1], {.gamma = 2.0}); },
      {f64(sp, {1, 2}), f64(sn, {1, 3})});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad_sp, 1e-10);
  expect_all_near(a.grads[1], ref.grad_sn, 1e-10);

  // The default γ = 256, m = 0.25, two anchors, mean: each row's reference halved.
  Matrix sp2{{0.9, 0.7}, {0.5, 0.95}}, sn2{{0.1, 0.4}, {-0.2, 0.2}};
  ValueAndGrads b = value_and_grads([](const std::vector<Tensor>& t) { return circle_loss(t[0], t[1]); },
                                    {matrix_tensor(sp2), matrix_tensor(sn2)});
  double value = 0;
  V grad_sp, grad_sn;
  for (std::size_t n = 0; n < 2; ++n) {
    CircleRef r = circle_ref(sp2[n], sn2[n], 0.25, 256.0, true);
    value += r.value / 2;
    for (double g : r.grad_sp) grad_sp.push_back(g / 2);
    for (double g : r.grad_sn) grad_sn.push_back(g / 2);
  }
  ASSERT_GT(value, 10.0);
  EXPECT_NEAR(b.value, value, 1e-10);
  expect_all_near(b.grads[0], grad_sp, 1e-10);
  expect_all_near(b.grads[1], grad_sn, 1e-10);
}

TEST(CircleLoss, ReferenceGradientWithWeightsDifferentiated) {
  // detach_weights = false: dz_p/ds_p = -γ(α_p - (s_p - Δ_p)), dz_n/ds_n = γ(α_n + (s_n - Δ_n)).
  V sp{0.8, 0.6}, sn{0.3, -0.1, 0.5};
  CircleRef ref = circle_ref(sp, sn, 0.25, 2.0, false);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return circle_loss(t[0], t[1], {.gamma = 2.0, .detach_weights = false}); },
      {f64(sp, {1, 2}), f64(sn, {1, 3})});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad_sp, 1e-10);
  expect_all_near(a.grads[1], ref.grad_sn, 1e-10);
}

// The paper's gradient (α detached) is not the derivative of the value, so finite differences of
// the loss disagree with it; the same value with α differentiated passes (see the row gradchecks).
TEST(CircleLoss, DetachedGradientIsNotTheDerivative) {
  std::vector<Tensor> in = sample(find_loss("circle_loss"), DType::Float64);
  for (Tensor& t : in) t.requires_grad_();
  auto loss = [](bool detach) {
    return [detach](const std::vector<Tensor>& x) { return circle_loss(x[0], x[1], {.gamma = 8.0, .detach_weights = detach}); };
  };
  EXPECT_FALSE(gradcheck(loss(true), in).ok);
  EXPECT_TRUE(gradcheck(loss(false), in).ok);
  EXPECT_EQ(loss(true)(in).item(), loss(false)(in).item());
}

TEST(CircleLossFromEmbeddings, ReferenceValues) {
  // Labels {0, 0, 1}: anchors 0 and 1 have one positive and one negative; anchor 2 has no positive
  // (ℓ = 0). S = cosines; dℓ/dS from eq. (6), then through S_ij = ê_i·ê_j. γ = 4, mean over 3.
  Matrix e{{1, 0.5}, {0.8, 1}, {-0.3, 1}};
  BatchRef ref = circle_batch_ref(e, {0, 0, 1}, 0.25, 4.0, 1.0 / 3);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return circle_loss_from_embeddings(t[0], ids({0, 0, 1}), {.gamma = 4.0}); },
      {matrix_tensor(e)});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad, 1e-10);

  // Four anchors in 3-D, labels {0, 1, 0, 1}, m = 0.4, γ = 80, sum.
  Matrix e2{{1, 0.2, -0.4}, {0.1, 1.2, 0.3}, {0.7, -0.1, -0.2}, {-0.3, 0.9, 0.6}};
  BatchRef ref2 = circle_batch_ref(e2, {0, 1, 0, 1}, 0.4, 80.0, 1.0);
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return circle_loss_from_embeddings(t[0], ids({0, 1, 0, 1}), {.m = 0.4, .gamma = 80.0, .reduction = Reduction::Sum});
      },
      {matrix_tensor(e2)});
  EXPECT_NEAR(b.value, ref2.value, 1e-10);
  expect_all_near(b.grads[0], ref2.grad, 1e-10);
}

TEST(CircleLossFromEmbeddings, EqualsCircleLossOnGatheredScores) {
  // Labels {0, 0, 1, 1}: every anchor has one positive and two negatives, so its row of the batch
  // form is circle_loss of the gathered cosines.
  Tensor e = sample(find_loss("info_nce_loss"), DType::Float64)[0];  // (4, 3)
  Tensor unit_e = normalize(e, 2.0, 1);
  Tensor s = mm(unit_e, unit_e, {.transpose_b = true});
  Tensor sp = gather(s, 1, tensor({1, 0, 3, 2}, {4, 1}, DType::Int64));
  Tensor sn = gather(s, 1, tensor({2, 3, 2, 3, 0, 1, 0, 1}, {4, 2}, DType::Int64));
  for (bool detach : {true, false}) {
    CircleLossOptions o{.gamma = 64.0, .detach_weights = detach, .reduction = Reduction::None};
    expect_all_near(circle_loss_from_embeddings(e, ids({0, 0, 1, 1}), o).to_vector(), circle_loss(sp, sn, o).to_vector(),
                    1e-12);
  }
}

TEST(InfoNCELoss, ReferenceValues) {
  // cross_entropy(normalize(q) @ normalize(k).T / τ, arange(N)); τ = 0.5, mean over 2.
  Matrix q{{1, 0.5}, {-0.3, 2}}, k{{0.8, 0.2}, {0.1, -1}};
  PairRef ref = info_nce_ref(q, k, 0.5, 0.5);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return info_nce_loss(t[0], t[1], {.temperature = 0.5}); },
      {matrix_tensor(q), matrix_tensor(k)});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad_a, 1e-10);
  expect_all_near(a.grads[1], ref.grad_b, 1e-10);

  // The default τ = 0.1, N = 3 in 3-D, sum.
  Matrix q2{{1, 0.2, -0.4}, {0.1, 1.2, 0.3}, {0.7, -0.1, -0.2}}, k2{{0.9, 0.1, -0.3}, {-0.3, 0.9, 0.6}, {0.2, 0.2, 1}};
  PairRef ref2 = info_nce_ref(q2, k2, 0.1, 1.0);
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) { return info_nce_loss(t[0], t[1], {.reduction = Reduction::Sum}); },
      {matrix_tensor(q2), matrix_tensor(k2)});
  EXPECT_NEAR(b.value, ref2.value, 1e-10);
  expect_all_near(b.grads[0], ref2.grad_a, 1e-10);
  expect_all_near(b.grads[1], ref2.grad_b, 1e-10);
}
