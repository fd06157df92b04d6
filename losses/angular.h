#pragma once
// The angular-margin family: softmax cross-entropy over logits whose target entry is transformed.
// Every loss takes
//   embeddings x:(N, d) floating,  weight W:(C, d) floating (one row per class, no bias),
//   target y:(N) int64 in [0, C)
// and returns ℓ_n = -log softmax(z_n)[y_n] with z_nj = the logit of class j, reduced as
// PyTorch's F.cross_entropy (none: (N); mean; sum). θ_j is the angle between x_n and W_j.
// Each loss is "target-logit transform + one stable cross-entropy"; the transforms are public so a
// training program can plot target logits against θ and report the λ in force.
#include <cstdint>

#include "zoograd/losses/reduction.h"

namespace zg {

// The largest L-Softmax/SphereFace m and combined-margin m1, m2 accepted: the transforms loop once
// per branch of ψ (about m, or m1 + m2/π, times), so the bound keeps that loop short. The papers use
// m <= 4 and m1 < 2.
constexpr std::int64_t kMaxAngularMargin = 100;

// ---- the transforms (elementwise on cos θ; any shape) ----

// cos θ_nj = (x_n/‖x_n‖)·(W_j/‖W_j‖)   -> (N, C). A zero vector has cos θ = 0 with every class
// (normalize divides by max(‖·‖, 1e-12)), so zero-norm embeddings give finite values and gradients.
Tensor cos_theta(const Tensor& embeddings, const Tensor& weight);

// L-Softmax's ψ(θ) = (-1)^k cos(mθ) - 2k for θ ∈ [kπ/m, (k+1)π/m], k ∈ {0, …, m-1}: continuous,
// monotonically decreasing from 1 at θ = 0 to 1 - 2m at θ = π. Evaluated without acos:
// cos(mθ) = T_m(cos θ) (Chebyshev polynomial), and k counts the thresholds cos(jπ/m), j = 1…m-1,
// that cos θ lies at or below.
Tensor lsoftmax_psi(const Tensor& cos_theta, std::int64_t m);

// L-Softmax's target logit per unit norms: (λ·cos θ + ψ(θ)) / (1 + λ). The loss multiplies it by
// ‖W_y‖‖x‖; λ ≥ 0 blends in the plain softmax logit to ease early training.
Tensor lsoftmax_target_logit(const Tensor& cos_theta, std::int64_t m, double lambda);

// The annealing schedule of L-Softmax/SphereFace (their Caffe layer):
//   λ = max(λ_min, base·(1 + γ·iteration)^(-power))
double lsoftmax_lambda(std::int64_t iteration, double base, double gamma, double power, double lambda_min);

// CosFace / AM-Softmax: s·(cos θ - m).
Tensor cosface_target_logit(const Tensor& cos_theta, double s, double m);

// ArcFace: s·cos(θ + m) = s·(cos θ cos m - sin θ sin m), sin θ = √max(1 - cos²θ, 1e-12) (the clamp
// keeps the gradient finite at cos θ = ±1 and shifts sin θ there by at most 1e-6).
// Past θ + m > π, cos(θ + m) would rise again; like insightface, where cos θ ≤ cos(π - m) the
// logit is s·(cos θ - m·sin m) instead. Note that this fallback (insightface's th / mm) is not
// continuous: at θ = π - m it lies cos m + m·sin m - 1 (≈ m²/2) below cos(π) = -1; the logit
// still decreases monotonically in θ. easy_margin: the margin applies only where cos θ > 0, and
// the logit is s·cos θ elsewhere.
Tensor arcface_target_logit(const Tensor& cos_theta, double s, double m, bool easy_margin = false);
// The same with sin θ given (≥ 0, cos θ's shape), as the losses do in float64: they take it from
// the rejection of x̂ from ŵ_y, which keeps value and gradient exact down to θ = 1e-12 (and at 0 and
// π themselves finite), where √(1 - cos²θ) has lost every digit. (float32 losses keep the form above,
// bit for bit what training has always computed.)
Tensor arcface_target_logit(const Tensor& cos_theta, const Tensor& sin_theta, double s, double m,
                            bool easy_margin = false);

// insightface's combined margin: s·(cos(m1·θ + m2) - m3) with θ = acos(clamp(cos θ, -1, 1)),
// wherever t = m1·θ + m2 ≤ π. Beyond, cos t would rise again, and training finds the degenerate
// minimum with every feature opposite its class's weight; so, as SphereFace's ψ, t continues as
// ψ(t) = (-1)^k cos t - 2k on [kπ, (k+1)π): continuous and decreasing in θ everywhere.
// core's acos clamps 1 - cos²θ at 1e-12 in its gradient, so the gradient stays finite (at most
// 1e6·|d/dθ|) at cos θ = ±1. m1 = 1, m2 = 0 is CosFace; m1 = 1, m3 = 0 is ArcFace for θ ≤ π - m2
// (with a continuous extension beyond, where ArcFace has insightface's fallback).
Tensor combined_margin_target_logit(const Tensor& cos_theta, double s, double m1, double m2, double m3);
// The same with sin θ given (≥ 0): θ = atan2(sin θ, cos θ), exact at both ends of [0, π] with a
// gradient as exact (acos's derivative -1/sin θ is clamped at 1e6). The losses use this one in float64.
Tensor combined_margin_target_logit(const Tensor& cos_theta, const Tensor& sin_theta, double s, double m1, double m2,
                                    double m3);

// ---- the losses ----

// Modified softmax (SphereFace §3.1): normalized weights, raw features, no bias.
//   z_nj = ‖x_n‖·cos θ_nj = x_n·W_j/‖W_j‖
struct ModifiedSoftmaxOptions {
  Reduction reduction = Reduction::Mean;
};
Tensor modified_softmax_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                             const ModifiedSoftmaxOptions& options = {});

// NormFace: normalized weights and features, scale s.   z_nj = s·cos θ_nj
// The NormFace paper learns s or fixes it; its bound says the loss can only fall below -log P if
// s ≥ (C-1)/C · log((C-1)·P/(1-P)), e.g. 13.8 for C = 10⁴ classes and P = 0.99, so the default 16
// leaves room for thousands of classes.
struct NormFaceOptions {
  double s = 16.0;
  Reduction reduction = Reduction::Mean;
};
Tensor normface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                     const NormFaceOptions& options = {});

// L-Softmax (Liu et al. 2016), no bias:
//   z_ny = ‖W_y‖‖x_n‖·(λ·cos θ_y + ψ(θ_y))/(1 + λ),   z_nj = W_j·x_n for j ≠ y
// m = 1 is plain softmax on W·x. λ = 0 is the paper's loss; training anneals λ from large to small
// (lsoftmax_lambda).
struct LSoftmaxOptions {
  std::int64_t m = 4;
  double lambda = 0.0;
  Reduction reduction = Reduction::Mean;
};
Tensor lsoftmax_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                     const LSoftmaxOptions& options = {});

// A-Softmax / SphereFace (Liu et al. 2017): L-Softmax with normalized weights (‖W_j‖ = 1) and no
// bias, λ from the annealing schedule at `iteration` (defaults: SphereFace's prototxt).
//   z_ny = ‖x_n‖·(λ·cos θ_y + ψ(θ_y))/(1 + λ),   z_nj = ‖x_n‖·cos θ_j for j ≠ y
struct SphereFaceOptions {
  std::int64_t m = 4;
  std::int64_t iteration = 0;
  double base = 1000.0;
  double gamma = 0.12;
  double power = 1.0;
  double lambda_min = 5.0;
  Reduction reduction = Reduction::Mean;
  // The λ this loss uses at `iteration`.
  double lambda() const { return lsoftmax_lambda(iteration, base, gamma, power, lambda_min); }
};
Tensor sphereface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                       const SphereFaceOptions& options = {});

// AM-Softmax / CosFace: z_ny = s·(cos θ_y - m),  z_nj = s·cos θ_j   (defaults: AM-Softmax's)
struct CosFaceOptions {
  double s = 30.0;
  double m = 0.35;
  Reduction reduction = Reduction::Mean;
};
Tensor cosface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                    const CosFaceOptions& options = {});

// ArcFace: z_ny = s·cos(θ_y + m) (with the fallback of arcface_target_logit),  z_nj = s·cos θ_j
struct ArcFaceOptions {
  double s = 64.0;
  double m = 0.5;
  bool easy_margin = false;
  Reduction reduction = Reduction::Mean;
};
Tensor arcface_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                    const ArcFaceOptions& options = {});

// Combined margin (insightface): z_ny = s·(ψ(m1·θ_y + m2) - m3),  z_nj = s·cos θ_j, ψ as above
struct CombinedMarginOptions {
  double s = 64.0;
  double m1 = 1.0;
  double m2 = 0.5;
  double m3 = 0.0;
  Reduction reduction = Reduction::Mean;
};
Tensor combined_margin_loss(const Tensor& embeddings, const Tensor& weight, const Tensor& target,
                            const CombinedMarginOptions& options = {});

}  // namespace zg
