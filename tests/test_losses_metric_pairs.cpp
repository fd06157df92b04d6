// The pair and ranking metric losses (multi-similarity, cosine embedding, margin ranking) and family properties.
#include "zoograd/tests/test_losses_metric.h"

TEST(MultiSimilarityLoss, ReferenceValues) {
  // Eq. (8) without mining, defaults α = 2, β = 50, λ = 0.5; labels {0, 0, 1}: anchor 2 has no
  // positive (its pull term is log(1 + 0) = 0); mean over 3.
  Matrix e{{1, 0.5}, {0.8, 1}, {-0.3, 1}};
  BatchRef ref = multi_similarity_ref(e, {0, 0, 1}, 2, 50, 0.5, 1.0 / 3);
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return multi_similarity_loss(t[0], ids({0, 0, 1})); }, {matrix_tensor(e)});
  EXPECT_NEAR(a.value, ref.value, 1e-10);
  expect_all_near(a.grads[0], ref.grad, 1e-10);

  // α = 1, β = 10, λ = 0.3, labels {0, 1, 0, 2}, sum.
  Matrix e2{{1, 0.2, -0.4}, {0.1, 1.2, 0.3}, {0.7, -0.1, -0.2}, {-0.3, 0.9, 0.6}};
  BatchRef ref2 = multi_similarity_ref(e2, {0, 1, 0, 2}, 1, 10, 0.3, 1.0);
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return multi_similarity_loss(t[0], ids({0, 1, 0, 2}),
                                     {.alpha = 1, .beta = 10, .base = 0.3, .reduction = Reduction::Sum});
      },
      {matrix_tensor(e2)});
  EXPECT_NEAR(b.value, ref2.value, 1e-10);
  expect_all_near(b.grads[0], ref2.grad, 1e-10);
}

TEST(CosineEmbeddingLoss, ReferenceValues) {
  // F.cosine_embedding_loss(x1, x2, tensor([1, -1]), margin=0.1): [1 - cos_0, max(0, cos_1 - 0.1)], mean.
  V a0{1, 2, 2}, b0{2, 0, 1}, a1{0.5, -1, 1}, b1{1, -0.5, 2};
  CosRef c0 = torch_cos(a0, b0), c1 = torch_cos(a1, b1);
  ASSERT_GT(c1.cos, 0.2);
  ValueAndGrads r = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return cosine_embedding_loss(t[0], t[1], f64({1, -1}, {2}), {.margin = 0.1});
      },
      {f64({1, 2, 2, 0.5, -1, 1}, {2, 3}), f64({2, 0, 1, 1, -0.5, 2}, {2, 3})});
  EXPECT_NEAR(r.value, ((1 - c0.cos) + (c1.cos - 0.1)) / 2, 1e-10);
  expect_all_near(r.grads[0], {-c0.d_x1[0] / 2, -c0.d_x1[1] / 2, -c0.d_x1[2] / 2, c1.d_x1[0] / 2, c1.d_x1[1] / 2,
                               c1.d_x1[2] / 2}, 1e-10);
  expect_all_near(r.grads[1], {-c0.d_x2[0] / 2, -c0.d_x2[1] / 2, -c0.d_x2[2] / 2, c1.d_x2[0] / 2, c1.d_x2[1] / 2,
                               c1.d_x2[2] / 2}, 1e-10);

  // Unbatched: inputs (D), target () = -1, margin -0.5: max(0, cos + 0.5) with cos ≈ -0.2.
  V x1{1, 0, 1}, x2{-1, 1, 0.5};
  CosRef c = torch_cos(x1, x2);
  ValueAndGrads u = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return cosine_embedding_loss(t[0], t[1], scalar(-1.0, DType::Float64), {.margin = -0.5});
      },
      {f64(x1, {3}), f64(x2, {3})});
  EXPECT_NEAR(u.value, c.cos + 0.5, 1e-10);
  expect_all_near(u.grads[0], c.d_x1, 1e-10);
  expect_all_near(u.grads[1], c.d_x2, 1e-10);
}

// PyTorch's EPSILON is the float 1e-12f: for x1 = x2 = (1e-6, 0), cos = 1e-12 / (1e-12 + ε) is
// 0.50000000010 with it, and exactly 0.5 with a double 1e-12.
TEST(CosineEmbeddingLoss, UsesPyTorchsFloatEpsilon) {
  Tensor x = f64({1e-6, 0}, {2});
  double loss = cosine_embedding_loss(x, x, scalar(1.0, DType::Float64)).item();
  EXPECT_NEAR(loss, 1 - 1e-12 / (1e-12 + kTorchEpsilon), 1e-15);
  EXPECT_GT(std::abs(loss - 0.5), 5e-11);
}

TEST(MarginRankingLoss, ReferenceValues) {
  // F.margin_ranking_loss(x1, x2, y, margin=0.1): max(0, -y(x1 - x2) + 0.1) = [0.3, 0], mean;
  // d/dx1 = -y·[active] / 2, d/dx2 = y·[active] / 2.
  ValueAndGrads a = value_and_grads(
      [](const std::vector<Tensor>& t) { return margin_ranking_loss(t[0], t[1], f64({1, -1}, {2}), {.margin = 0.1}); },
      {f64({0.3, -1}, {2}), f64({0.5, 0.2}, {2})});
  EXPECT_NEAR(a.value, 0.15, 1e-10);
  expect_all_near(a.grads[0], {-0.5, 0}, 1e-10);
  expect_all_near(a.grads[1], {0.5, 0}, 1e-10);

  // (2, 2) inputs, margin 0, sum: -y(x1 - x2) = [-0.5, 1.5, 0.25, -2]
  ValueAndGrads b = value_and_grads(
      [](const std::vector<Tensor>& t) {
        return margin_ranking_loss(t[0], t[1], f64({1, -1, -1, 1}, {2, 2}), {.reduction = Reduction::Sum});
      },
      {f64({1, 2, 1.25, 3}, {2, 2}), f64({0.5, 0.5, 1, 1}, {2, 2})});
  EXPECT_NEAR(b.value, 1.5 + 0.25, 1e-10);
  expect_all_near(b.grads[0], {0, 1, 1, 0}, 1e-10);
  expect_all_near(b.grads[1], {0, -1, -1, 0}, 1e-10);
}

// ---- properties ----

TEST(MetricProperties, ZeroAtAPerfectPrediction) {
  // contrastive: a similar pair at distance 0 and a dissimilar pair beyond the margin; gradient 0 too
  Tensor x1 = f64({1, 2, 0, 0}, {2, 2}).requires_grad_(), x2 = f64({1, 2, 3, 0}, {2, 2}).requires_grad_();
  Tensor c = contrastive_loss(x1, x2, f64({1, 0}, {2}));
  c.backward();
  EXPECT_EQ(c.item(), 0.0);
  EXPECT_EQ(x1.grad().to_vector(), (V{0, 0, 0, 0}));
  EXPECT_EQ(x2.grad().to_vector(), (V{0, 0, 0, 0}));
  // triplet: the negative farther than the positive by more than the margin
  EXPECT_EQ(triplet_margin_loss(f64({0, 0}, {1, 2}), f64({0.5, 0}, {1, 2}), f64({0, 2}, {1, 2})).item(), 0.0);
  // ranking: correctly ordered by more than the margin
  EXPECT_EQ(margin_ranking_loss(f64({2, -1}, {2}), f64({1, 0}, {2}), f64({1, -1}, {2}), {.margin = 0.5}).item(), 0.0);
  // cosine embedding: parallel similar pair (1 - cos is 0 up to PyTorch's ε), orthogonal dissimilar pair
  EXPECT_NEAR(cosine_embedding_loss(f64({1, 2, 0, 1}, {2, 2}), f64({2, 4, 1, 0}, {2, 2}), f64({1, -1}, {2})).item(), 0.0,
              1e-12);
  // circle, InfoNCE and multi-similarity are log(1 + Σ e^·) or a cross-entropy: positive everywhere, no zero.
}

TEST(MetricProperties, NoneGivesOneValuePerItem) {
  for (const LossSpec& s : rows())
    for (std::uint64_t seed : {1, 2, 3}) {
      SCOPED_TRACE(s.name);
      std::vector<Tensor> in = sample(s, DType::Float64, seed);
      EXPECT_EQ(s.call(in, {}, Reduction::None).shape(), (Shape{in[0].size(0)}));
    }
  // Unbatched inputs: one triplet (D) or one cosine pair (D) gives a scalar under none.
  Tensor a = f64({0, 1}, {2}), p = f64({0.5, 1}, {2}), n = f64({2, 2}, {2});
  EXPECT_EQ(triplet_margin_loss(a, p, n, {.reduction = Reduction::None}).dim(), 0);
  EXPECT_EQ(cosine_embedding_loss(a, p, scalar(1.0, DType::Float64), {.reduction = Reduction::None}).dim(), 0);
  // margin_ranking_loss keeps the input's shape
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(margin_ranking_loss(x, x * 0.5, ones({2, 3}, DType::Float64), {.reduction = Reduction::None}).shape(),
            (Shape{2, 3}));
}

// Zero embeddings have cosine 0 with everything (F.normalize's max(‖x‖, 1e-12)): finite values, and
// gradients that are large (up to 1/1e-12 times the upstream) but finite, in float32 too.
TEST(MetricProperties, ZeroNormEmbeddingsGiveFiniteLossAndGradient) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    SCOPED_TRACE(dtype_name(dt));
    auto check = [](const Tensor& loss, const std::vector<Tensor>& leaves) {
      ASSERT_TRUE(all_finite(loss));
      loss.backward();
      for (const Tensor& t : leaves) EXPECT_TRUE(all_finite(t.grad()));
    };
    Tensor q = tensor({0, 0, 0, 1, 2, 3, 0.5, -1, 0}, {3, 3}, dt).requires_grad_();
    Tensor k = tensor({1, 0, 0, 0, 0, 0, 0, 1, 1}, {3, 3}, dt).requires_grad_();
    Tensor nce = info_nce_loss(q, k, {.reduction = Reduction::None});
    EXPECT_NEAR(nce.to_vector()[0], std::log(3.0), 1e-6);  // a zero query: all logits 0
    check(sum(nce), {q, k});

    Tensor e = tensor({0, 0, 0, 1, 2, 3, 0.5, -1, 0, 0, 0, 0}, {4, 3}, dt).requires_grad_();
    check(circle_loss_from_embeddings(e, ids({0, 0, 1, 1})), {e});
    e.set_grad(Tensor());
    check(multi_similarity_loss(e, ids({0, 0, 1, 1})), {e});

    Tensor x1 = tensor({0, 0, 0, 0, 1, 2}, {2, 3}, dt).requires_grad_();
    Tensor x2 = tensor({0, 0, 0, 0, 0, 0}, {2, 3}, dt).requires_grad_();
    Tensor cel = cosine_embedding_loss(x1, x2, tensor({1, -1}, {2}, dt), {.margin = -0.5, .reduction = Reduction::None});
    EXPECT_EQ(cel.to_vector(), (V{1.0, 0.5}));  // cos = 0: 1 - 0 and max(0, 0 + 0.5)
    check(sum(cel), {x1, x2});
  }
}

TEST(MetricProperties, IdenticalPairsGiveFiniteLossAndGradient) {
  for (DType dt : {DType::Float64, DType::Float32}) {
    SCOPED_TRACE(dtype_name(dt));
    // contrastive at distance 0: similar → 0; dissimilar → (margin - √eps)², gradient 0 (the smooth
    // distance's gradient vanishes at 0 instead of being 0/0)
    Tensor x1 = tensor({1, 2, 3, 1, 2, 3}, {2, 3}, dt).requires_grad_(), x2 = tensor({1, 2, 3, 1, 2, 3}, {2, 3}, dt);
    Tensor c = contrastive_loss(x1, x2, tensor({1, 0}, {2}, dt), {.reduction = Reduction::None});
    EXPECT_EQ(c.to_vector()[0], 0.0);
    EXPECT_NEAR(c.to_vector()[1], (1 - 1e-6) * (1 - 1e-6), 1e-6);
    sum(c).backward();
    EXPECT_EQ(x1.grad().to_vector(), (V(6, 0.0)));

    // triplet with a = p = n: ℓ = margin; d/da = u - u = 0, d/dp = -u, d/dn = u with u = eps·1/‖eps·1‖
    Tensor a = tensor({0.5, -2}, {1, 2}, dt).requires_grad_(), p = tensor({0.5, -2}, {1, 2}, dt).requires_grad_(),
           n = tensor({0.5, -2}, {1, 2}, dt).requires_grad_();
    Tensor t = triplet_margin_loss(a, p, n);
    EXPECT_NEAR(t.item(), 1.0, 1e-6);
    t.backward();
    expect_all_near(a.grad().to_vector(), {0, 0}, 1e-6);
    expect_all_near(p.grad().to_vector(), {-std::sqrt(0.5), -std::sqrt(0.5)}, 1e-3);
    expect_all_near(n.grad().to_vector(), {std::sqrt(0.5), std::sqrt(0.5)}, 1e-3);

    // triplet with eps = 0 and a = p: the distance is 0 and its gradient is taken as 0, not 0·∞
    Tensor a0 = tensor({1, 1}, {1, 2}, dt).requires_grad_();
    Tensor t0 = triplet_margin_loss(a0, tensor({1, 1}, {1, 2}, dt), tensor({2, 1}, {1, 2}, dt), {.margin = 2, .eps = 0});
    EXPECT_NEAR(t0.item(), 1.0, 1e-6);
    t0.backward();
    expect_all_near(a0.grad().to_vector(), {1, 0}, 1e-6);  // only -d(a, n) moves: d/da = -(a - n)/‖a - n‖

    // InfoNCE with query = key
    Tensor q = tensor({1, 0, 0, 1}, {2, 2}, dt).requires_grad_();
    Tensor nce = info_nce_loss(q, q);
    EXPECT_NEAR(nce.item(), std::log1p(std::exp(-10.0)), 1e-6);  // logits 10 on the diagonal, 0 off it
    nce.backward();
    EXPECT_TRUE(all_finite(q.grad()));
  }
}

// γ = 256 (the default) and beyond at the worst scores, s_p = -1 and s_n = 1: the logits reach
// γ·2.25·1.75 and γ·1.25·0.75, far beyond exp's range, yet loss and gradient are finite and exact.
TEST(MetricProperties, CircleLossIsFiniteAtLargeScales) {
  for (double gamma : {256.0, 4096.0})
    for (DType dt : {DType::Float64, DType::Float32}) {
      SCOPED_TRACE(std::to_string(gamma) + " " + dtype_name(dt));
      Tensor sp = tensor({-1, -1}, {1, 2}, dt).requires_grad_(), sn = tensor({1, 1, 1}, {1, 3}, dt).requires_grad_();
      Tensor loss = circle_loss(sp, sn, {.gamma = gamma});
      // Z = log 3 + γ·1.25·0.75 + log 2 + γ·2.25·1.75; softplus(Z) = Z + log1p(e^-Z) = Z
      double z = std::log(6.0) + gamma * (1.25 * 0.75 + 2.25 * 1.75);
      EXPECT_NEAR(loss.item(), z, (dt == DType::Float64 ? 1e-12 : 1e-6) * z);
      loss.backward();
      // σ(Z) = 1 and uniform softmax: dℓ/ds_p = -γ·2.25/2, dℓ/ds_n = γ·1.25/3. float32 rounds each
      // logsumexp y (≈ Z/2) to its ulp, which e^(x - y) turns into a relative error of about 1e-7·y:
      // 3e-5 at γ = 256, 1e-3 at γ = 4096.
      double relative = dt == DType::Float64 ? 1e-12 : 1e-7 * z;
      expect_all_near(sp.grad().to_vector(), {-gamma * 2.25 / 2, -gamma * 2.25 / 2}, relative * gamma);
      expect_all_near(sn.grad().to_vector(), V(3, gamma * 1.25 / 3), relative * gamma);
    }
  // The batch forms with antipodal positives and identical negatives, and β = 1e4 in multi-similarity.
  for (DType dt : {DType::Float64, DType::Float32}) {
    Tensor e = tensor({1, 0, -1, 0, -1, 1e-3, 1, 1e-3}, {4, 2}, dt).requires_grad_();
    Tensor circle = circle_loss_from_embeddings(e, ids({0, 0, 1, 1}));
    ASSERT_TRUE(all_finite(circle));
    EXPECT_GT(circle.item(), 1000.0);
    circle.backward();
    EXPECT_TRUE(all_finite(e.grad()));
    e.set_grad(Tensor());
    Tensor ms = multi_similarity_loss(e, ids({0, 0, 1, 1}), {.beta = 1e4});
    ASSERT_TRUE(all_finite(ms));
    ms.backward();
    EXPECT_TRUE(all_finite(e.grad()));
  }
}

// An anchor without positives or without negatives has an empty sum: loss exactly 0, gradient 0,
// and no inf anywhere, so anomaly mode (which stops at the first non-finite op output) stays quiet.
TEST(MetricProperties, AnchorsWithoutPairsGiveZeroUnderAnomalyMode) {
  DetectAnomalyGuard anomaly;
  for (const V& labels : {V{0, 1, 2}, V{5, 5, 5}}) {
    Tensor e = f64({1, 0.5, 0.8, 1, -0.3, 1}, {3, 2}).requires_grad_();
    Tensor circle = circle_loss_from_embeddings(e, ids(labels), {.reduction = Reduction::None});
    EXPECT_EQ(circle.to_vector(), (V{0, 0, 0}));
    sum(circle).backward();
    EXPECT_EQ(e.grad().to_vector(), (V(6, 0.0)));
  }
  // multi-similarity keeps the other term: all labels distinct leaves only the push term
  Tensor e = f64({1, 0.5, 0.8, 1, -0.3, 1}, {3, 2}).requires_grad_();
  Tensor ms = multi_similarity_loss(e, ids({0, 1, 2}), {.reduction = Reduction::Sum});
  BatchRef ref = multi_similarity_ref({{1, 0.5}, {0.8, 1}, {-0.3, 1}}, {0, 1, 2}, 2, 50, 0.5, 1.0);
  EXPECT_NEAR(ms.item(), ref.value, 1e-10);
  ms.backward();
  expect_all_near(e.grad().to_vector(), ref.grad, 1e-10);
}

// ---- errors ----

TEST(MetricErrors, BadShapesLabelsAndParametersAreRefused) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}), y = f64({1, 0}, {2});
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(f64({1, 2}, {2}), f64({1, 2}, {2}), f64({1}, {1})); }),
                  "contrastive_loss: x1 must be (N, D), one embedding per row, got shape [2]");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, f64({1, 2, 3}, {1, 3}), y); }),
                  "contrastive_loss: x1 and x2 must have the same shape, got [2, 3] and [1, 3]");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, f64({1}, {1})); }),
                  "contrastive_loss: label must be (N) with N = 2 (one per pair), got shape [1]");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, f64({1, -1}, {2})); }),
                  "contrastive_loss: label must hold 0/1 labels, got -1 at position 1; 1 = similar pair");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, y, {.margin = -1}); }),
                  "contrastive_loss: margin must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, y, {.eps = 0}); }), "contrastive_loss: eps must be positive");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x, x, y, {.reduction = Reduction::BatchMean}); }),
                  "contrastive_loss: reduction batchmean is not defined for this loss");
  EXPECT_CONTAINS(error_of([&] { contrastive_loss(x.to(DType::Int64), x, y); }),
                  "contrastive_loss: x1 must be float32 or float64, got int64");

  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, f64({1, 2}, {2})); }),
                  "triplet_margin_loss: anchor and negative must have the same shape, got [2, 3] and [2]");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(reshape(x, {1, 2, 3}), reshape(x, {1, 2, 3}), reshape(x, {1, 2, 3})); }),
                  "triplet_margin_loss: anchor must be (N, D) or (D), got shape [1, 2, 3]");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, x, {.p = 0}); }),
                  "triplet_margin_loss: p must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, x, {.eps = -1}); }),
                  "triplet_margin_loss: eps must be finite and >= 0, got -1");
  EXPECT_CONTAINS(error_of([&] { triplet_margin_loss(x, x, x, {.margin = NAN}); }),
                  "triplet_margin_loss: margin must be finite, got nan");

  Tensor sp = f64({0.5, 0.6}, {1, 2}), sn = f64({0.1, 0.2, 0.3}, {1, 3});
  EXPECT_CONTAINS(error_of([&] { circle_loss(f64({0.5, 0.6}, {2}), sn); }),
                  "circle_loss: expected sp (N, K) and sn (N, L) with K, L >= 1, one row of positive and negative "
                  "scores per anchor, got [2] and [1, 3]");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, f64({0.1, 0.2}, {2, 1})); }), "got [1, 2] and [2, 1]");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, zeros({1, 0}, DType::Float64)); }), "with K, L >= 1");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, sn, {.gamma = 0}); }), "circle_loss: gamma must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { circle_loss(sp, sn, {.m = INFINITY}); }), "circle_loss: m must be finite, got inf");
  EXPECT_CONTAINS(error_of([&] { circle_loss_from_embeddings(x, f64({0, 1}, {2})); }),
                  "circle_loss_from_embeddings: labels must hold int64 class ids, got float64");
  EXPECT_CONTAINS(error_of([&] { circle_loss_from_embeddings(x, ids({0, 1, 1})); }),
                  "circle_loss_from_embeddings: labels must be (N) with N = 2 (one per embedding), got shape [3]");
  EXPECT_CONTAINS(error_of([&] { circle_loss_from_embeddings(x, ids({0, 1}), {.gamma = -1}); }),
                  "circle_loss_from_embeddings: gamma must be positive and finite, got -1");

  EXPECT_CONTAINS(error_of([&] { info_nce_loss(x, x, {.temperature = 0}); }),
                  "info_nce_loss: temperature must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { info_nce_loss(x, f64({1, 2}, {1, 2})); }),
                  "info_nce_loss: query and key must have the same shape, got [2, 3] and [1, 2]");
  EXPECT_CONTAINS(error_of([&] { info_nce_loss(x, x, {.reduction = Reduction::BatchMean}); }),
                  "info_nce_loss: reduction batchmean");

  EXPECT_CONTAINS(error_of([&] { multi_similarity_loss(x, ids({0, 1}), {.alpha = 0}); }),
                  "multi_similarity_loss: alpha must be positive and finite, got 0");
  EXPECT_CONTAINS(error_of([&] { multi_similarity_loss(x, ids({0, 1}), {.beta = -2}); }),
                  "multi_similarity_loss: beta must be positive and finite, got -2");
  EXPECT_CONTAINS(error_of([&] { multi_similarity_loss(f64({1, 2}, {2}), ids({0, 1})); }),
                  "multi_similarity_loss: embeddings must be (N, D)");

  EXPECT_CONTAINS(error_of([&] { cosine_embedding_loss(x, x, f64({1, 0}, {2})); }),
                  "cosine_embedding_loss: target must hold 1/-1 labels, got 0 at position 1; map 0/1 labels with 2·y - 1");
  EXPECT_CONTAINS(error_of([&] { cosine_embedding_loss(x, x, f64({1, 1, 1}, {3})); }),
                  "cosine_embedding_loss: expected inputs (N, D) with target (N), or inputs (D) with target (), got "
                  "[2, 3] and target [3]");
  EXPECT_CONTAINS(error_of([&] { cosine_embedding_loss(f64({1, 2}, {2}), f64({1, 2}, {2}), f64({1}, {1})); }),
                  "got [2] and target [1]");

  EXPECT_CONTAINS(error_of([&] { margin_ranking_loss(y, y, f64({1, 0.5}, {2})); }),
                  "margin_ranking_loss: target must hold 1/-1 labels, got 0.5 at position 1");
  EXPECT_CONTAINS(error_of([&] { margin_ranking_loss(y, f64({1}, {1}), y); }),
                  "margin_ranking_loss: input1 and input2 must have the same shape, got [2] and [1]");
  EXPECT_CONTAINS(error_of([&] { margin_ranking_loss(y, y, f64({1, 1, 1}, {3})); }),
                  "margin_ranking_loss: input1 and target must have the same shape, got [2] and [3]");
}
