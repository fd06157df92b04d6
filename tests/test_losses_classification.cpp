// The classification losses (losses/classification.h): gradchecks of the options the catalog rows
// leave out, reference values and gradients computed from each loss's formula, and properties and
// edge cases. The generic checks of every row are check_loss's (tests/test_loss_generic.cpp).
#include "zoograd/tests/test_losses_classification.h"

// Options the rows leave to their defaults or out (class weights, ignored targets, probability
// targets, extra dims), gradchecked under every reduction.
TEST(ClassificationLosses, GradcheckWithWeightsIgnoredTargetsAndExtraDims) {
  Generator gen(3);
  Tensor w = f64({0.5, 2.0, 1.5}, {3});
  Tensor x = randn({5, 3}, DType::Float64, gen).requires_grad_();
  Tensor y = i64({2, -100, 0, 1, 0}, {5});
  Tensor q = softmax(randn({5, 3}, DType::Float64, gen), 1).detach().requires_grad_();
  Tensor x4 = randn({2, 3, 2, 2}, DType::Float64, gen).requires_grad_();
  Tensor y4 = randint(0, 3, {2, 2, 2}, gen);
  Tensor p = sigmoid(randn({4, 3}, DType::Float64, gen)).detach().requires_grad_();
  Tensor t = rand({4, 3}, DType::Float64, gen).requires_grad_();
  Tensor logits = randn({4, 3}, DType::Float64, gen).requires_grad_();
  Tensor row_weight = f64({1.0, 0.5, 2.0, 0.25}, {4, 1});
  for (Reduction r : kAll) {
    std::string red = reduction_name(r);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], y, {.reduction = r, .weight = w, .label_smoothing = 0.2});
        },
        {x}, "cross_entropy weight+ignore+smoothing " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], in[1], {.reduction = r, .weight = w, .label_smoothing = 0.1});
        },
        {x, q}, "cross_entropy probabilities " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], y4, {.reduction = r, .weight = w}); }, {x4},
        "cross_entropy (N, C, d1, d2) " + red);
    expect_gradcheck([&](const std::vector<Tensor>& in) { return nll_loss(in[0], y, {.reduction = r, .weight = w}); },
                     {x}, "nll_loss weight+ignore " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return focal_loss(in[0], y4, {.reduction = r, .gamma = 1, .alpha = w}); },
        {x4}, "focal_loss alpha (N, C, d1, d2) " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy(in[0], in[1], {.reduction = r, .weight = w});
        },
        {p, t}, "binary_cross_entropy weight " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy_with_logits(in[0], in[1],
                                                  {.reduction = r, .weight = row_weight, .pos_weight = w});
        },
        {logits, t}, "binary_cross_entropy_with_logits weight+pos_weight " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return brier_score(in[0], in[1], {.reduction = r, .weight = row_weight * w});
        },
        {logits, slice(q.detach(), 0, 0, 4)}, "brier_score probabilities+weight " + red);
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return binary_brier_score(in[0], in[1], {.reduction = r, .weight = w}); },
        {logits, t}, "binary_brier_score weight " + red);
  }
}

// ---- reference values and gradients from the formulas ----

// F.cross_entropy(x, y): mean of logsumexp(x_n) - x_{n,y_n}; d/dx_n = (softmax(x_n) - onehot(y_n)) / N.
TEST(ClassificationLosses, CrossEntropyReferenceClassIndices) {
  const V xs{1, 2, 0.5, 0.1, -1, 3};
  const std::vector<std::size_t> ys{1, 2};
  Tensor x = leaf(xs, {2, 3});
  double value = 0;
  V grad;
  for (std::size_t n = 0; n < 2; ++n) {
    V p = softmax_of(row_of(xs, n, 3));
    value += -std::log(p[ys[n]]) / 2;
    for (std::size_t c = 0; c < 3; ++c) grad.push_back((p[c] - (c == ys[n])) / 2);
  }
  expect_value_and_grads(cross_entropy(x, i64({1, 2}, {2})), value, {{x, grad}});
}

// F.cross_entropy(x, y, weight=w, ignore_index=-100, label_smoothing=0.1): for kept rows
// ℓ_n = (1-ε)·w_y·(-log p_y) + (ε/C)·Σ_c w_c·(-log p_c), mean = Σ ℓ_n / Σ_kept w_y;
// dℓ_n/dx_c = (1-ε)·w_y·(p_c - δ_cy) + (ε/C)·(W·p_c - w_c), W = Σ_c w_c.
TEST(ClassificationLosses, CrossEntropyReferenceWeightsSmoothingAndIgnoredRow) {
  const V xs{0.3, -1.2, 2.0, 1.0, 0.0, -1.0, -0.5, 0.7, 0.1}, w{0.2, 1.0, 3.0};
  const std::vector<int> ys{2, -100, 0};
  const double eps = 0.1, C = 3, W = 4.2;
  double total = 0, den = 0;
  V grad(9, 0.0);
  for (std::size_t n = 0; n < 3; ++n) {
    if (ys[n] < 0) continue;
    auto y = static_cast<std::size_t>(ys[n]);
    V p = softmax_of(row_of(xs, n, 3));
    total += (1 - eps) * w[y] * -std::log(p[y]);
    for (std::size_t c = 0; c < 3; ++c) {
      total += eps / C * w[c] * -std::log(p[c]);
      grad[n * 3 + c] = (1 - eps) * w[y] * (p[c] - (c == y)) + eps / C * (W * p[c] - w[c]);
    }
    den += w[y];
  }
  for (double& g : grad) g /= den;
  Tensor x = leaf(xs, {3, 3});
  expect_value_and_grads(cross_entropy(x, i64({2, -100, 0}, {3}), {.weight = f64(w, {3}), .label_smoothing = eps}),
                         total / den, {{x, grad}});
}

// F.cross_entropy(x, q, weight=w, label_smoothing=0.2, reduction='sum') with probabilities q:
// ℓ_n = -Σ_c w_c·q'_c·log p_c, q' = 0.8·q + 0.2/3;  dℓ/dx_c = p_c·Σ_j w_j q'_j - w_c q'_c;  dℓ/dq_c = -0.8·w_c·log p_c.
TEST(ClassificationLosses, CrossEntropyReferenceProbabilityTargets) {
  const V xs{0.5, -0.25, 1.5, 2.0, 0.0, -2.0}, qs{0.1, 0.6, 0.3, 1.0, 0.0, 0.0}, w{1.0, 0.5, 2.0};
  double value = 0;
  V gx, gq;
  for (std::size_t n = 0; n < 2; ++n) {
    V p = softmax_of(row_of(xs, n, 3));
    double wq = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      double q = 0.8 * qs[n * 3 + c] + 0.2 / 3;
      value += -w[c] * q * std::log(p[c]);
      wq += w[c] * q;
    }
    for (std::size_t c = 0; c < 3; ++c) {
      gx.push_back(p[c] * wq - w[c] * (0.8 * qs[n * 3 + c] + 0.2 / 3));
      gq.push_back(-0.8 * w[c] * std::log(p[c]));
    }
  }
  Tensor x = leaf(xs, {2, 3}), q = leaf(qs, {2, 3});
  expect_value_and_grads(
      cross_entropy(x, q, {.reduction = Reduction::Sum, .weight = f64(w, {3}), .label_smoothing = 0.2}), value,
      {{x, gx}, {q, gq}});
}

// F.nll_loss(x, y): mean of -x_{n,y_n}; then with weight=w, ignore_index=1: Σ -w_y x_y / Σ_kept w_y.
TEST(ClassificationLosses, NllLossReference) {
  Tensor x = leaf({-0.5, -1.2, -2.0, -0.1, -3.0, -2.5}, {2, 3});
  expect_value_and_grads(nll_loss(x, i64({2, 0}, {2})), (2.0 + 0.1) / 2, {{x, {0, 0, -0.5, -0.5, 0, 0}}});

  Tensor z = leaf({-0.5, -1.2, -2.0, -0.1, -3.0, -2.5, -1.0, -0.7, -0.9}, {3, 3});
  // rows: y = 1 (ignored), y = 0 (w 2), y = 2 (w 0.5): (2·0.1 + 0.5·0.9) / 2.5
  expect_value_and_grads(nll_loss(z, i64({1, 0, 2}, {3}), {.weight = f64({2, 1, 0.5}, {3}), .ignore_index = 1}),
                         (2 * 0.1 + 0.5 * 0.9) / 2.5, {{z, {0, 0, 0, -2 / 2.5, 0, 0, 0, 0, -0.5 / 2.5}}});
}

// F.binary_cross_entropy(p, y): ℓ = -[y log p + (1-y) log(1-p)]; dℓ/dp = -(y/p - (1-y)/(1-p)); dℓ/dy = -(log p -
// log(1-p)).
TEST(ClassificationLosses, BinaryCrossEntropyReference) {
  const V ps{0.2, 0.9, 0.5}, ys{0.0, 1.0, 0.3};
  double value = 0;
  V gp, gy;
  for (std::size_t i = 0; i < 3; ++i) {
    double p = ps[i], y = ys[i];
    value += -(y * std::log(p) + (1 - y) * std::log(1 - p)) / 3;
    gp.push_back(-(y / p - (1 - y) / (1 - p)) / 3);
    gy.push_back(-(std::log(p) - std::log(1 - p)) / 3);
  }
  Tensor p = leaf(ps, {3}), y = leaf(ys, {3});
  expect_value_and_grads(binary_cross_entropy(p, y), value, {{p, gp}, {y, gy}});
}

// F.binary_cross_entropy(p, y, weight=w, reduction='sum') at p = 0 and p = 1, where PyTorch clamps
// each log at -100: p = 1, y = 0 costs w·100; p = 0, y = 0 costs nothing. A clamped log passes no gradient.
TEST(ClassificationLosses, BinaryCrossEntropyReferenceAtTheClamp) {
  Tensor p = leaf({0.0, 1.0, 0.25, 1.0}, {2, 2}), y = leaf({0.0, 0.0, 1.0, 1.0}, {2, 2});
  Tensor w = f64({2.0, 0.5}, {2});
  double value = 0 + 0.5 * 100 + 2 * -std::log(0.25) + 0;
  V gp{2 * 1.0, 0.0, 2 * -1 / 0.25, 0.5 * -1.0};  // w·(1-y)/(1-p) at p = 0; -w·y/p elsewhere
  V gy{2 * -(-100 - 0.0), 0.5 * -(0.0 - -100), 2 * -(std::log(0.25) - std::log(0.75)), 0.5 * -(0.0 - -100)};
  expect_value_and_grads(binary_cross_entropy(p, y, {.reduction = Reduction::Sum, .weight = w}), value,
                         {{p, gp}, {y, gy}});
}

// F.binary_cross_entropy_with_logits(x, y): ℓ = (1-y)x + softplus(-x), dℓ/dx = σ(x) - y; then with
// pos_weight pw and weight w (reduction='sum'): ℓ = w[(1-y)x + (1+(pw-1)y)·softplus(-x)],
// dℓ/dx = w[(1-y) - (1+(pw-1)y)σ(-x)], dℓ/dy = w[-x + (pw-1)·softplus(-x)].
TEST(ClassificationLosses, BinaryCrossEntropyWithLogitsReference) {
  const V xs{-1.5, 0.3, 2.0}, ys{0.0, 1.0, 0.25};
  double value = 0;
  V gx;
  for (std::size_t i = 0; i < 3; ++i) {
    value += ((1 - ys[i]) * xs[i] + softplus_of(-xs[i])) / 3;
    gx.push_back((sigmoid_of(xs[i]) - ys[i]) / 3);
  }
  Tensor x = leaf(xs, {3});
  expect_value_and_grads(binary_cross_entropy_with_logits(x, f64(ys, {3})), value, {{x, gx}});

  const V xs2{-1.0, 0.5, 3.0, -0.2}, ys2{1.0, 0.0, 0.5, 1.0}, pw{3.0, 0.5}, w{1.0, 2.0};  // w per row, pw per column
  value = 0;
  V gx2, gy2;
  for (std::size_t i = 0; i < 4; ++i) {
    double xi = xs2[i], yi = ys2[i], pwi = pw[i % 2], wi = w[i / 2], lw = 1 + (pwi - 1) * yi;
    value += wi * ((1 - yi) * xi + lw * softplus_of(-xi));
    gx2.push_back(wi * ((1 - yi) - lw * sigmoid_of(-xi)));
    gy2.push_back(wi * (-xi + (pwi - 1) * softplus_of(-xi)));
  }
  Tensor x2 = leaf(xs2, {2, 2}), y2 = leaf(ys2, {2, 2});
  expect_value_and_grads(
      binary_cross_entropy_with_logits(
          x2, y2, {.reduction = Reduction::Sum, .weight = f64(w, {2, 1}), .pos_weight = f64(pw, {2})}),
      value, {{x2, gx2}, {y2, gy2}});
}

// torchvision.ops.sigmoid_focal_loss(x, y, alpha, gamma, reduction): p = σ(x), ce = BCE-with-logits,
// p_t = p·y + (1-p)(1-y), ℓ = α_t·ce·(1-p_t)^γ. With u = 1 - p_t, du/dx = p(1-p)(1-2y), dce/dx = p - y:
// dℓ/dx = α_t·(γ·u^(γ-1)·du/dx·ce + u^γ·(p - y)).
TEST(ClassificationLosses, SigmoidFocalLossReference) {
  struct Case {
    double alpha, gamma;
    Reduction reduction;
    V xs, ys;
  };
  for (const Case& k : {Case{0.25, 2.0, Reduction::Sum, {-1.0, 0.5, 2.5, -3.0}, {0, 1, 1, 0}},
                        Case{-1, 0.5, Reduction::Mean, {0.7, -0.4, 1.2}, {0.3, 1.0, 0.0}}}) {
    const double n = k.reduction == Reduction::Mean ? static_cast<double>(k.xs.size()) : 1.0;
    double value = 0;
    V grad;
    for (std::size_t i = 0; i < k.xs.size(); ++i) {
      double x = k.xs[i], y = k.ys[i], p = sigmoid_of(x);
      double ce = -(y * std::log(p) + (1 - y) * std::log(1 - p));
      double u = 1 - (p * y + (1 - p) * (1 - y));
      double alpha_t = k.alpha >= 0 ? k.alpha * y + (1 - k.alpha) * (1 - y) : 1.0;
      value += alpha_t * ce * std::pow(u, k.gamma) / n;
      double du = p * (1 - p) * (1 - 2 * y);
      grad.push_back(alpha_t * (k.gamma * std::pow(u, k.gamma - 1) * du * ce + std::pow(u, k.gamma) * (p - y)) / n);
    }
    Tensor x = leaf(k.xs, {static_cast<std::int64_t>(k.xs.size())});
    expect_value_and_grads(sigmoid_focal_loss(x, f64(k.ys, {static_cast<std::int64_t>(k.ys.size())}),
                                              {.reduction = k.reduction, .alpha = k.alpha, .gamma = k.gamma}),
                           value, {{x, grad}});
  }
}

// Multi-class focal loss: ℓ_n = -α_y·(1-p_y)^γ·log p_y, p = softmax(x_n). With u = 1 - p_y,
// du/dx_c = -p_y(δ_cy - p_c) and d(-log p_y)/dx_c = p_c - δ_cy:
// dℓ/dx_c = α_y·(γ·u^(γ-1)·du/dx_c·(-log p_y) + u^γ·(p_c - δ_cy)).
TEST(ClassificationLosses, FocalLossReference) {
  struct Case {
    double gamma;
    V alpha;
    Reduction reduction;
  };
  const V xs{0.2, 1.5, -0.3, -1.0, 0.4, 2.2};
  const std::vector<std::size_t> ys{1, 0};
  for (const Case& k : {Case{2.0, {}, Reduction::Mean}, Case{0.5, {0.25, 0.5, 1.0}, Reduction::Sum}}) {
    const double n = k.reduction == Reduction::Mean ? 2.0 : 1.0;
    double value = 0;
    V grad;
    for (std::size_t r = 0; r < 2; ++r) {
      V p = softmax_of(row_of(xs, r, 3));
      std::size_t y = ys[r];
      double a = k.alpha.empty() ? 1.0 : k.alpha[y], u = 1 - p[y], nll = -std::log(p[y]);
      value += a * std::pow(u, k.gamma) * nll / n;
      for (std::size_t c = 0; c < 3; ++c) {
        double d = c == y ? 1.0 : 0.0, du = -p[y] * (d - p[c]);
        grad.push_back(a * (k.gamma * std::pow(u, k.gamma - 1) * du * nll + std::pow(u, k.gamma) * (p[c] - d)) / n);
      }
    }
    Tensor x = leaf(xs, {2, 3});
    FocalLossOptions o{.reduction = k.reduction, .gamma = k.gamma};
    if (!k.alpha.empty()) o.alpha = f64(k.alpha, {3});
    expect_value_and_grads(focal_loss(x, i64({1, 0}, {2}), o), value, {{x, grad}});
  }
}

// F.kl_div(x, p, reduction='batchmean'): Σ p(log p - x) / N, 0 where p = 0; dℓ/dx = -p/N;
// dℓ/dp = (log p + 1 - x)/N where p > 0 and 0 where p = 0 (PyTorch's masked gradient).
// F.kl_div(x, t, log_target=True, reduction='mean'): Σ e^t(t - x) / numel; dℓ/dx = -e^t/numel,
// dℓ/dt = e^t(t - x + 1)/numel.
TEST(ClassificationLosses, KlDivReference) {
  const V xs{std::log(0.2), std::log(0.5), std::log(0.3), std::log(0.6), std::log(0.1), std::log(0.3)};
  const V ps{0.5, 0.5, 0.0, 0.1, 0.2, 0.7};
  double value = 0;
  V gx, gp;
  for (std::size_t i = 0; i < 6; ++i) {
    value += ps[i] > 0 ? ps[i] * (std::log(ps[i]) - xs[i]) / 2 : 0.0;
    gx.push_back(-ps[i] / 2);
    gp.push_back(ps[i] > 0 ? (std::log(ps[i]) + 1 - xs[i]) / 2 : 0.0);
  }
  Tensor x = leaf(xs, {2, 3}), p = leaf(ps, {2, 3});
  expect_value_and_grads(kl_div(x, p, {.reduction = Reduction::BatchMean}), value, {{x, gx}, {p, gp}});

  const V ts{-0.5, -1.5, -2.0, -0.1};
  value = 0;
  V gx2, gt2;
  for (std::size_t i = 0; i < 4; ++i) {
    value += std::exp(ts[i]) * (ts[i] - xs[i]) / 4;
    gx2.push_back(-std::exp(ts[i]) / 4);
    gt2.push_back(std::exp(ts[i]) * (ts[i] - xs[i] + 1) / 4);
  }
  Tensor x2 = leaf(V(xs.begin(), xs.begin() + 4), {2, 2}), t2 = leaf(ts, {2, 2});
  expect_value_and_grads(kl_div(x2, t2, {.log_target = true}), value, {{x2, gx2}, {t2, gt2}});
}

// Brier score on softmax: ℓ_n = Σ_c w_c (p_c - y_c)², and seed 003's gradient
// dℓ/dx_l = 2 p_l ((p_l - y_l) w_l - Σ_j p_j (p_j - y_j) w_j).
TEST(ClassificationLosses, BrierScoreReference) {
  const V xs{0.1, 1.2, -0.7, 2.0, -1.0, 0.3};
  const V onehot{0, 1, 0, 0, 0, 1}, soft{0.2, 0.5, 0.3, 0.6, 0.0, 0.4}, weights{1.0, 2.0, 0.5, 0.25, 1.0, 3.0};
  struct Case {
    V y, w;
    Reduction reduction;
  };
  for (const Case& k : {Case{onehot, V(6, 1.0), Reduction::Mean}, Case{soft, weights, Reduction::Sum}}) {
    const double n = k.reduction == Reduction::Mean ? 2.0 : 1.0;
    double value = 0;
    V grad;
    for (std::size_t r = 0; r < 2; ++r) {
      V p = softmax_of(row_of(xs, r, 3)), y = row_of(k.y, r, 3), w = row_of(k.w, r, 3);
      double inner = 0;
      for (std::size_t j = 0; j < 3; ++j) {
        value += w[j] * (p[j] - y[j]) * (p[j] - y[j]) / n;
        inner += p[j] * (p[j] - y[j]) * w[j];
      }
      for (std::size_t l = 0; l < 3; ++l) grad.push_back(2 * p[l] * ((p[l] - y[l]) * w[l] - inner) / n);
    }
    Tensor x = leaf(xs, {2, 3});
    Tensor target = k.reduction == Reduction::Mean ? i64({1, 2}, {2}) : f64(k.y, {2, 3});
    Tensor weight = k.reduction == Reduction::Mean ? Tensor() : f64(k.w, {2, 3});
    expect_value_and_grads(brier_score(x, target, {.reduction = k.reduction, .weight = weight}), value, {{x, grad}});
  }
}
