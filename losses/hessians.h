#pragma once
// Closed-form gradients and Hessian DIAGONALS of classification losses with respect to the logits,
// in the form a gradient-boosting library (XGBoost, LightGBM, CatBoost) takes from a custom
// objective: for every logit z, g = ∂L/∂z and h = ∂²L/∂z² (the diagonal of the Hessian only).
//
// Conventions shared by every function here:
//   * The loss is SUMMED over all elements (no reduction), so g and h of one element do not depend
//     on the batch size. Divide by N yourself for a mean.
//   * grad, hess and gauss_newton have the logits' shape and dtype (float32 or float64); targets,
//     weights and pos_weight are converted to that dtype.
//   * The results carry no autograd history (they are computed under NoGradGuard).
//   * Everything is written with overflow-free ops (softmax, sigmoid(z) and sigmoid(-z) instead of
//     1 - sigmoid(z), softplus instead of log(1 + e^z)), so logits of ±1e4 give finite values.
//   * Weights w are ≥ 0 in the statements "h ≥ 0" below (a negative weight flips the sign).
//
// Below σ is the softmax of a row (multi-class) or the sigmoid (binary), p = σ(z), q = 1 - p
// = σ(-z), s = p·q = σ'(z). The derivations are in losses/hessians.cpp; the multi-class ones follow
// the seed (docs "Analytical gradient/hessian derivation of some common objectives") with its slips
// corrected (see the .cpp).
//
// WHICH HESSIANS CAN BE NEGATIVE
//   * Softmax cross-entropy and binary cross-entropy: never. log Σ e^z is convex, so the full
//     Hessian (Σ_j y_j)·(diag σ - σσᵀ) is positive semi-definite and its diagonal σ(1-σ)·Σ_j y_j
//     is ≥ 0. These are safe to hand to a booster as is.
//   * Brier score (multi-class and binary): yes. The loss is bounded in z (σ ∈ [0, 1]) and
//     saturates as a wrong logit grows, so it cannot be convex: for a confidently wrong prediction
//     (e.g. y = 1 and σ ≈ 0) the curvature is negative. Example: binary, y = 1, z = -3 gives
//     h = 2σ(1-σ)[σ(1-σ) + (σ-1)(1-2σ)] ≈ -0.0738 (Gauss–Newton 2σ²(1-σ)² ≈ +0.0041).
//   * Focal loss (γ > 0): yes. For a confidently wrong prediction (p_t → 0) the loss approaches the
//     cross-entropy's linear asymptote -z_t FROM BELOW, because its modulating factor (1-p_t)^γ
//     rises towards 1; that bend is concave. Example: y = 1, γ = 2, p ≈ 0.02 gives h ≈ -0.047·α.
//     (γ = 0 is α_t·BCE, whose Hessian is ≥ 0.)
//   A booster fed a negative h takes a Newton step uphill (or divides by ~0). For these losses the
//   functions also return `gauss_newton`, an always-≥ 0 diagonal (see each function).

#include "zoograd/core/tensor.h"

namespace zg {

struct GradHess {
  Tensor grad;  // ∂L/∂z, the logits' shape
  Tensor hess;  // ∂²L/∂z², the exact Hessian diagonal, the logits' shape
};

struct GradHessGN {
  Tensor grad;          // ∂L/∂z
  Tensor hess;          // ∂²L/∂z², exact; CAN BE NEGATIVE
  Tensor gauss_newton;  // a Gauss–Newton diagonal, always ≥ 0 (for w ≥ 0)
};

// Softmax cross-entropy with probability, one-hot or any non-negative targets.
//   logits z:(N, C), target y:(N, C), weight: undefined, (N) per sample, or (N, C) per element.
//   L = -Σ_i Σ_j w_ij·y_ij·log σ_ij                       σ_i = softmax(z_i)
//   g_kl = σ_kl·Σ_j w_kj y_kj - w_kl y_kl                   (= w_k(σ_kl - y_kl) when Σ_j y_kj = 1
//                                                            and w is per sample)
//   h_kl = σ_kl(1 - σ_kl)·Σ_j w_kj y_kj                     ≥ 0 always
// (The seed writes σ(ŷ_kj) in the Hessian where it means σ(ŷ_kl).)
GradHess softmax_cross_entropy_grad_hess(const Tensor& logits, const Tensor& target,
                                         const Tensor& weight = Tensor());

// Multi-class Brier score on the softmax (the seed's L, with its weights w_ij).
//   logits z:(N, C), target y:(N, C), weight: undefined, (N) per sample, or (N, C) per element.
//   L = Σ_i Σ_j w_ij (σ_ij - y_ij)²
//   Per row (row index dropped), with r_j = w_j(σ_j - y_j) and A = Σ_j σ_j r_j:
//   g_l = 2σ_l (r_l - A)                                   (the seed's gradient)
//   h_l = 2σ_l²[w_l(1 - 2σ_l) + Σ_j w_j σ_j²] + 2σ_l(1 - 2σ_l)(r_l - A)      CAN BE NEGATIVE
//   gauss_newton_l = 2 Σ_j w_j (∂σ_j/∂z_l)² = 2σ_l²[w_l(1 - σ_l)² + Σ_{j≠l} w_j σ_j²]   ≥ 0
//     (the Jᵀ·∇²ℓ·J part of the Hessian, with ℓ(σ) = Σ_j w_j(σ_j - y_j)² and J = ∂σ/∂z; it drops
//     the term 2Σ_j r_j ∂²σ_j/∂z_l², which is the one that can be negative).
GradHessGN brier_score_grad_hess(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor());

// Binary Brier score on the sigmoid.
//   logits z: any shape, target y: same shape, weight: undefined, same shape, or (N) per sample
//   (broadcast over the trailing dimensions).
//   L = Σ w (p - y)²
//   g = 2w(p - y)·s
//   h = 2w·s·[s + (p - y)(1 - 2p)]                          CAN BE NEGATIVE (y = 1, p small)
//   gauss_newton = 2w·s²                                    ≥ 0
GradHessGN binary_brier_score_grad_hess(const Tensor& logits, const Tensor& target,
                                        const Tensor& weight = Tensor());

// Binary cross-entropy with logits (PyTorch's binary_cross_entropy_with_logits, reduction sum).
//   logits z: any shape, target y ∈ [0, 1]: same shape, weight as for binary_brier_score_grad_hess,
//   pos_weight P: undefined (P = 1) or broadcastable to the logits' shape (e.g. (C) for (N, C)).
//   L = -Σ w [P·y·log p + (1 - y)·log(1 - p)]
//   g = w[(1 - y)p - P·y·q]                                 (= w(p - y) when P = 1)
//   h = w(P·y + 1 - y)·s                                    ≥ 0 always (for P ≥ 0)
GradHess binary_cross_entropy_with_logits_grad_hess(const Tensor& logits, const Tensor& target,
                                                    const Tensor& weight = Tensor(),
                                                    const Tensor& pos_weight = Tensor());

// Binary focal loss, torchvision.ops.sigmoid_focal_loss (reduction "sum"), optionally weighted:
//   logits z: any shape, target y ∈ [0, 1]: same shape, weight as for binary_brier_score_grad_hess.
//   ce = -y log p - (1 - y) log(1 - p)        p_t = p·y + (1 - p)(1 - y)       m = 1 - p_t
//   α_t = α·y + (1 - α)(1 - y)  (α_t = 1 when alpha < 0, torchvision's "no weighting")
//   L = Σ w·α_t·ce·m^γ
//   With r = s/m (∈ [0, 1]; its limit p_t where m = 0) and d = 1 - 2y:
//   g = w·α_t·m^γ·[(p - y) + γ·d·ce·r]
//   h = w·α_t·m^γ·[s + 2γ(p - y)·d·r + γ·d·ce·r·((γ - 1)·d·r + (1 - 2p))]    CAN BE NEGATIVE
//     For a hard label this is, with z_t = ±z and p_t = σ(z_t),
//       g = ∓α_t(1-p_t)^γ·[(1-p_t) - γ·p_t·log p_t]      (minus for y = 1)
//       h = α_t·p_t(1-p_t)^γ·[(1+2γ)(1-p_t) + γ(1-(γ+1)p_t)·log p_t]
//   gauss_newton = w·α_t·max(0, ℓ''(p))·s², where ℓ(p) = ce·m^γ is the loss as a function of the
//     probability p = σ(z) — the outer-product (Gauss–Newton) form Jᵀℓ''J through the sigmoid,
//     the same split as the Brier score's. In closed form
//       ℓ''(p)·s² = m^γ·[y·q² + (1 - y)p² + 2γ(p - y)·d·r + γ(γ - 1)·ce·d²·r²].
//     For hard labels ℓ is convex in p for every γ ≥ 0 (ℓ(p_t) = -(1-p_t)^γ log p_t), so the max
//     never binds; for soft labels a scan over γ ∈ [0, 6], y, p ∈ (0, 1) found no negative value
//     either, and the max only guards the ≥ 0 promise. Note: at γ = 0 it is α_t[y·q² + (1-y)p²],
//     not the BCE Hessian α_t·s (Gauss–Newton through σ drops the ℓ'(p)·σ'' term).
//   Throws when gamma < 0, alpha > 1, or a target lies outside [0, 1].
GradHessGN sigmoid_focal_loss_grad_hess(const Tensor& logits, const Tensor& target, double alpha = 0.25,
                                        double gamma = 2.0, const Tensor& weight = Tensor());

}  // namespace zg
