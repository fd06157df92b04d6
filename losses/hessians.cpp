// Closed-form gradients and Hessian diagonals with respect to the logits; see losses/hessians.h.
//
// Notation: z the logits, σ the softmax of a row (multi-class) or the sigmoid (binary),
// p = σ(z), q = 1 - p = σ(-z), s = p·q = dp/dz, and for the softmax
//   ∂σ_j/∂z_l = σ_j(δ_jl - σ_l)                                                        (S1)
// (rows are independent, so every Hessian is block-diagonal over samples and the row index is
// dropped below). Binary losses use q = σ(-z) rather than 1 - p, and p - y is computed as
// (1 - y)p - y·q (equal since p + q = 1), so nothing cancels catastrophically near saturation.
//
// ---- Corrections to the seed (the "Analytical gradient/hessian derivation" post) ----
//  (a) It titles the first loss "Kulbach Lieber divergence"; the loss it writes is the
//      cross-entropy -Σ y log σ. (KL(y‖σ) differs from it by Σ y log y, a constant in z, so the
//      gradient and Hessian are the same.)
//  (b) Its cross-entropy Hessian reads σ(ŷ_kj)(1 - σ(ŷ_kl))·Σ_j y_kj: the first factor must be
//      σ(ŷ_kl) (j is the summation index, bound only inside Σ_j).
//  (c) It says "ŷ_ij is the target variable and y_ij the given proba": ŷ are the model's scores
//      (logits), y the target probabilities.
//  (d) In the Brier Hessian, the line
//        ∂/∂ŷ_kl Σ_j σ_kj(σ_kj - y_kj)w_kj = σ_kl(w_kl(2σ_kl - y_kl) - Σ_j w_kj σ_kl(2σ_kj - y_kj))
//      pulls σ_kl into the sum where σ_kj belongs; the line before it is right and gives
//        = σ_kl(w_kl(2σ_kl - y_kl) - Σ_j w_kj σ_kj(2σ_kj - y_kj)).
//  (e) Its final Brier Hessian carries the same slip, -2σ_kl σ_kl(w_kl(2σ_kl - y_kl) - σ_kl Σ_j
//      w_kj(2σ_kj - y_kj)); the correct last term is -2σ_kl²(w_kl(2σ_kl - y_kl) - Σ_j w_kj σ_kj
//      (2σ_kj - y_kj)). The two forms differ whenever the σ_kj of a row are unequal
//      (tests/test_hessians.cpp checks the corrected one against autograd and that the seed's
//      literal one disagrees).
#include "zoograd/losses/hessians.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "zoograd/core/ops.h"

namespace zg {

namespace {

void check_logits(const Tensor& logits, const char* fn, bool multiclass) {
  if (!logits.defined()) throw std::invalid_argument(std::string(fn) + ": logits are undefined");
  if (!is_floating(logits.dtype()))
    throw std::invalid_argument(std::string(fn) + ": logits must be float32 or float64, got " +
                                dtype_name(logits.dtype()));
  if (multiclass && logits.dim() != 2)
    throw std::invalid_argument(std::string(fn) + ": expected logits (N, C), got " + to_string(logits.shape()));
  if (!multiclass && logits.dim() < 1)
    throw std::invalid_argument(std::string(fn) + ": expected logits with at least one dimension, got " +
                                to_string(logits.shape()));
}

// The target, detached and in the logits' dtype; it must have the logits' shape.
Tensor prepare_target(const Tensor& target, const Tensor& logits, const char* fn) {
  if (!target.defined() || target.shape() != logits.shape())
    throw std::invalid_argument(std::string(fn) + ": target must have the logits' shape " + to_string(logits.shape()) +
                                ", got " + (target.defined() ? to_string(target.shape()) : std::string("undefined")));
  return target.detach().to(logits.dtype());
}

// The weight, detached, in the logits' dtype and broadcastable against them: undefined -> 1;
// the logits' shape -> per element; (N) -> per sample, reshaped to (N, 1, ..., 1).
Tensor prepare_weight(const Tensor& weight, const Tensor& logits, const char* fn) {
  if (!weight.defined()) return scalar(1.0, logits.dtype());
  Tensor w = weight.detach().to(logits.dtype());
  if (w.shape() == logits.shape()) return w;
  if (w.dim() == 1 && w.size(0) == logits.size(0)) {
    Shape shape(logits.shape().size(), 1);
    shape[0] = logits.size(0);
    return reshape(w, shape);
  }
  throw std::invalid_argument(std::string(fn) + ": weight must have shape (N) = [" + std::to_string(logits.size(0)) +
                              "] or the logits' shape " + to_string(logits.shape()) + ", got " + to_string(w.shape()));
}

}  // namespace

// ---- softmax cross-entropy ----
// L = -Σ_j w_j y_j log σ_j = -Σ_j w_j y_j z_j + (Σ_j w_j y_j)·log Σ_n e^{z_n}    (one row)
// With Y = Σ_j w_j y_j (w_j = w for a per-sample weight):
//   ∂L/∂z_l = -w_l y_l + Y·e^{z_l}/Σ_n e^{z_n} = σ_l·Y - w_l y_l
//   ∂²L/∂z_l² = Y·∂σ_l/∂z_l = Y·σ_l(1 - σ_l)                                    by (S1), j = l
// The whole block is Y·(diag σ - σσᵀ), the Hessian of log Σ e^z times Y ≥ 0: positive
// semi-definite, so its diagonal is ≥ 0. [Seed: σ(ŷ_kj) corrected to σ(ŷ_kl), see (b).]
GradHess softmax_cross_entropy_grad_hess(const Tensor& logits, const Tensor& target, const Tensor& weight) {
  constexpr const char* fn = "softmax_cross_entropy_grad_hess";
  check_logits(logits, fn, true);
  NoGradGuard no_grad;
  Tensor z = logits.detach();
  Tensor y = prepare_target(target, z, fn);
  Tensor w = prepare_weight(weight, z, fn);
  Tensor sig = softmax(z, 1);
  Tensor wy = w * y;                    // (N, C)
  Tensor total = sum(wy, {1}, {.keepdim = true});    // Y, (N, 1)
  return {sig * total - wy, sig * (1.0 - sig) * total};
}

// ---- multi-class Brier score ----
// L = Σ_j w_j(σ_j - y_j)²  (one row). Let r_j = w_j(σ_j - y_j) and A = Σ_j σ_j r_j.
// Gradient (the seed's):
//   ∂L/∂z_l = Σ_j 2 r_j ∂σ_j/∂z_l = 2Σ_j r_j σ_j(δ_jl - σ_l) = 2σ_l(r_l - A)
// Hessian diagonal, product rule on 2σ_l·(r_l - A):
//   ∂²L/∂z_l² = 2σ_l(1 - σ_l)(r_l - A) + 2σ_l(∂r_l/∂z_l - ∂A/∂z_l)
//   ∂r_l/∂z_l = w_l σ_l(1 - σ_l)
//   ∂A/∂z_l = Σ_j ∂σ_j/∂z_l·(r_j + w_j σ_j) = Σ_j σ_j(δ_jl - σ_l)(r_j + w_j σ_j)
//           = σ_l[w_l(2σ_l - y_l) - Σ_j w_j σ_j(2σ_j - y_j)]       [seed slip (d): σ_kj, not σ_kl]
//   so ∂²L/∂z_l² = 2σ_l(1-σ_l)(r_l - A) + 2σ_l² w_l(1-σ_l) - 2σ_l²[w_l(2σ_l - y_l) - B],
//   B = Σ_j w_j σ_j(2σ_j - y_j)                                         [the seed's line, fixed (e)]
// Simplified with B = Σ_j w_j σ_j² + A and w_l(2σ_l - y_l) = w_l σ_l + r_l:
//   ∂²L/∂z_l² = 2σ_l²[w_l(1 - 2σ_l) + Σ_j w_j σ_j²] + 2σ_l(1 - 2σ_l)(r_l - A)
// Cross-check through the Gauss–Newton split, H = 2JᵀWJ + 2Σ_j r_j ∇²σ_j with J_jl = ∂σ_j/∂z_l:
//   (2JᵀWJ)_ll = 2Σ_j w_j σ_j²(δ_jl - σ_l)² = 2σ_l²[w_l(1 - σ_l)² + Σ_{j≠l} w_j σ_j²]
//              = 2σ_l²[w_l(1 - 2σ_l) + Σ_j w_j σ_j²]                    (≥ 0: the Gauss–Newton diagonal)
//   ∂²σ_j/∂z_l² = σ_j[(δ_jl - σ_l)² - σ_l(1 - σ_l)] = σ_j(2σ_l - 1)(σ_l - δ_jl)
//   2Σ_j r_j ∂²σ_j/∂z_l² = 2(2σ_l - 1)σ_l(A - r_l) = 2σ_l(1 - 2σ_l)(r_l - A)   (any sign)
// which adds up to the same diagonal.
GradHessGN brier_score_grad_hess(const Tensor& logits, const Tensor& target, const Tensor& weight) {
  constexpr const char* fn = "brier_score_grad_hess";
  check_logits(logits, fn, true);
  NoGradGuard no_grad;
  Tensor z = logits.detach();
  Tensor y = prepare_target(target, z, fn);
  Tensor w = prepare_weight(weight, z, fn);
  Tensor sig = softmax(z, 1);
  Tensor r = w * (sig - y);                           // (N, C)
  Tensor r_minus_a = r - sum(sig * r, {1}, {.keepdim = true});     // r_l - A
  Tensor wsig2 = w * sig * sig;                       // w_j σ_j², (N, C)
  Tensor sum_wsig2 = sum(wsig2, {1}, {.keepdim = true});           // Σ_j w_j σ_j², (N, 1)
  Tensor one_minus_2sig = 1.0 - 2.0 * sig;
  Tensor sig2 = sig * sig;
  Tensor grad = 2.0 * sig * r_minus_a;
  Tensor hess = 2.0 * sig2 * (w * one_minus_2sig + sum_wsig2) + 2.0 * sig * one_minus_2sig * r_minus_a;
  // Σ_{j≠l} w_j σ_j² as a difference; clamped so rounding cannot push it below 0.
  Tensor others = clamp(sum_wsig2 - wsig2, 0.0);
  Tensor one_minus_sig = 1.0 - sig;
  Tensor gauss_newton = 2.0 * sig2 * (w * one_minus_sig * one_minus_sig + others);
  return {grad, hess, gauss_newton};
}

// ---- binary Brier score ----
// L = w(p - y)², dp/dz = s, ds/dz = s(1 - 2p)
//   ∂L/∂z = 2w(p - y)s
//   ∂²L/∂z² = 2w[s·s + (p - y)·s(1 - 2p)] = 2w·s[s + (p - y)(1 - 2p)]
//   Gauss–Newton: 2w·(dp/dz)² = 2w·s² ≥ 0; the dropped term 2w(p - y)s(1 - 2p) is negative when
//   y = 1 and p < 1/2 (or y = 0 and p > 1/2), i.e. for wrong predictions, and dominates when
//   they are confident.
GradHessGN binary_brier_score_grad_hess(const Tensor& logits, const Tensor& target, const Tensor& weight) {
  constexpr const char* fn = "binary_brier_score_grad_hess";
  check_logits(logits, fn, false);
  NoGradGuard no_grad;
  Tensor z = logits.detach();
  Tensor y = prepare_target(target, z, fn);
  Tensor w = prepare_weight(weight, z, fn);
  Tensor p = sigmoid(z), q = sigmoid(-z);
  Tensor s = p * q;
  Tensor p_minus_y = (1.0 - y) * p - y * q;
  Tensor grad = 2.0 * w * p_minus_y * s;
  Tensor hess = 2.0 * w * s * (s + p_minus_y * (q - p));
  Tensor gauss_newton = 2.0 * w * s * s;
  return {grad, hess, gauss_newton};
}

// ---- binary cross-entropy with logits ----
// L = -w[P·y·log p + (1 - y)·log q],  d log p/dz = q,  d log q/dz = -p
//   ∂L/∂z = w[-P·y·q + (1 - y)p]                  (P = 1: w[(1 - y)p - y(1 - p)] = w(p - y))
//   ∂²L/∂z² = w[P·y·s + (1 - y)s] = w(P·y + 1 - y)s ≥ 0     (dq/dz = -s, dp/dz = s)
GradHess binary_cross_entropy_with_logits_grad_hess(const Tensor& logits, const Tensor& target, const Tensor& weight,
                                                    const Tensor& pos_weight) {
  constexpr const char* fn = "binary_cross_entropy_with_logits_grad_hess";
  check_logits(logits, fn, false);
  NoGradGuard no_grad;
  Tensor z = logits.detach();
  Tensor y = prepare_target(target, z, fn);
  Tensor w = prepare_weight(weight, z, fn);
  Tensor pw = scalar(1.0, z.dtype());
  if (pos_weight.defined()) {
    Shape both;
    try {
      both = broadcast_shapes(pos_weight.shape(), z.shape(), fn);
    } catch (const std::invalid_argument&) {
      both.clear();  // reported below
    }
    if (both != z.shape())
      throw std::invalid_argument(std::string(fn) + ": pos_weight of shape " + to_string(pos_weight.shape()) +
                                  " does not broadcast to the logits' shape " + to_string(z.shape()));
    pw = pos_weight.detach().to(z.dtype());
  }
  Tensor p = sigmoid(z), q = sigmoid(-z);
  Tensor py = pw * y;
  return {w * ((1.0 - y) * p - py * q), w * (py + (1.0 - y)) * (p * q)};
}

// ---- binary focal loss (torchvision.ops.sigmoid_focal_loss) ----
// torchvision computes, elementwise,
//   p = σ(z),  ce = BCE-with-logits(z, y) = -y log p - (1 - y) log q,
//   p_t = p·y + (1 - p)(1 - y),  loss = ce·(1 - p_t)^γ,  and if α ≥ 0: loss *= α_t,
//   α_t = α·y + (1 - α)(1 - y).
// α_t and the weight w do not depend on z; write L = c·ce·M with c = w·α_t, m = 1 - p_t, M = m^γ.
// Step 1, the pieces and their z-derivatives (d = 1 - 2y, s = p·q):
//   ce'  = -y·q + (1 - y)p = p - y                    ce'' = s
//   m    = 1 - p_t = y·q + (1 - y)p = y + d·p         m'   = d·s           m'' = d·s(1 - 2p)
//   (so dp_t/dz = -d·s = (2y - 1)s: +s for y = 1, -s for y = 0)
// Step 2, the modulating factor M = m^γ:
//   M'  = γ m^(γ-1) m'                 = γ m^(γ-1) d s
//   M'' = γ(γ-1) m^(γ-2) m'² + γ m^(γ-1) m'' = γ(γ-1) m^(γ-2) d² s² + γ m^(γ-1) d s(1 - 2p)
// Step 3, the product rule on ce·M:
//   L'/c  = ce' M + ce M'
//   L''/c = ce'' M + 2 ce' M' + ce M''
// Step 4, remove the negative powers of m, which blow up (0·∞ = NaN) when m → 0 (a hard label
// predicted perfectly) and γ < 2. With r = s/m:
//   m^(γ-1) s = m^γ r,  m^(γ-2) s² = m^γ r².
//   r ∈ [0, 1], since m is a convex combination of q and p, each ≥ p·q = s; m = 0 only for a hard
//   label y ∈ {0, 1} with p_t = 1, where r → p_t (y = 1: s/m = p·q/q = p). Hence
//   L'/c  = m^γ [(p - y) + γ d ce r]
//   L''/c = m^γ [s + 2γ (p - y) d r + γ(γ-1) ce d² r² + γ ce d r (1 - 2p)]
//         = m^γ [s + 2γ (p - y) d r + γ d ce r ((γ - 1) d r + (1 - 2p))]
// Step 5, hard labels in p_t form (check): y = 1 gives d = -1, p - y = -(1 - p_t), r = p_t,
// ce = -log p_t, 1 - 2p = 1 - 2p_t:
//   L'  = -α_t(1-p_t)^γ [(1 - p_t) - γ p_t log p_t]
//   L'' =  α_t p_t (1-p_t)^γ [(1 + 2γ)(1 - p_t) + γ(1 - (γ + 1)p_t) log p_t]
// (y = 0 is the mirror image z → -z: L' flips sign, L'' is unchanged.) The log p_t term is negative
// for p_t < 1/(γ+1) and unbounded as p_t → 0, so L'' < 0 for confidently wrong predictions: e.g.
// γ = 2, p_t = 0.02 gives L''/α_t ≈ -0.047. For γ = 0 it reduces to α_t p_t(1 - p_t) ≥ 0 (BCE).
// Step 6, the Gauss–Newton alternative: write L = c·ℓ(p), ℓ(p) = ce(p)·m(p)^γ with
// ce = -y log p - (1-y) log(1-p), m = y + d·p, and split at p = σ(z):
//   L'' = c[ℓ''(p)·s² + ℓ'(p)·s(1 - 2p)];  keep the outer-product part c·ℓ''(p)·s².
//   dce/dp = (p - y)/s,  d²ce/dp² = y/p² + (1 - y)/q²,  dm/dp = d, so
//   ℓ''(p) s² = m^γ [s²·d²ce/dp² + 2γ (p - y) d r + γ(γ-1) ce d² r²]
//             = m^γ [y q² + (1 - y) p² + 2γ (p - y) d r + γ(γ-1) ce d² r²].
//   For hard labels ℓ = f(p_t) with f(u) = -(1-u)^γ log u, and (t = (1-u)/u, -log u = log(1+t))
//     f''(u)·u²(1-u)^(2-γ) = -γ(γ-1)u² log u + 2γu(1-u) + (1-u)² = u²[γ(γ-1)·log(1+t) + 2γt + t²]
//   which is ≥ 0 for every γ ≥ 0: for γ ≥ 1 each term is; for γ < 1, log(1+t) ≤ t gives
//   γ(γ-1)·log(1+t) ≥ -γ(1-γ)t ≥ -γt, leaving ≥ γt + t² ≥ 0. So the max never binds for hard
//   labels; it is kept for soft labels (a scan found no negative value there either) and rounding.
//   This outer-product form was chosen over clamping the exact Hessian at 0 because it keeps
//   curvature information exactly where the exact diagonal is negative, instead of flattening it.
GradHessGN sigmoid_focal_loss_grad_hess(const Tensor& logits, const Tensor& target, double alpha, double gamma,
                                        const Tensor& weight) {
  constexpr const char* fn = "sigmoid_focal_loss_grad_hess";
  check_logits(logits, fn, false);
  if (!(gamma >= 0) || !std::isfinite(gamma))
    throw std::invalid_argument(std::string(fn) + ": gamma must be finite and >= 0, got " + std::to_string(gamma));
  if (std::isnan(alpha) || alpha > 1)
    throw std::invalid_argument(std::string(fn) + ": alpha must be <= 1 (or negative for no weighting), got " +
                                std::to_string(alpha));
  NoGradGuard no_grad;
  Tensor z = logits.detach();
  Tensor y = prepare_target(target, z, fn);
  Tensor w = prepare_weight(weight, z, fn);
  if (y.numel() > 0 && (min(y).item() < 0 || max(y).item() > 1))
    throw std::invalid_argument(std::string(fn) + ": targets must lie in [0, 1], got values in [" +
                                std::to_string(min(y).item()) + ", " + std::to_string(max(y).item()) + "]");
  Tensor p = sigmoid(z), q = sigmoid(-z);
  Tensor s = p * q;
  Tensor one_minus_y = 1.0 - y;
  Tensor m = y * q + one_minus_y * p;                        // 1 - p_t
  Tensor p_t = y * p + one_minus_y * q;
  Tensor positive = gt(m, 0.0);
  Tensor r = where(positive, s / where(positive, m, scalar(1.0, z.dtype())), p_t);  // s/m, limit p_t
  Tensor ce = y * softplus(-z) + one_minus_y * softplus(z);  // -y log p - (1-y) log q, overflow-free
  Tensor d = 1.0 - 2.0 * y;
  Tensor p_minus_y = one_minus_y * p - y * q;
  Tensor alpha_t = alpha >= 0 ? alpha * y + (1.0 - alpha) * one_minus_y : scalar(1.0, z.dtype());
  Tensor c = w * alpha_t * pow(m, gamma);                    // w·α_t·m^γ
  Tensor gdr = gamma * d * r;                                // γ d r
  Tensor grad = c * (p_minus_y + ce * gdr);
  Tensor hess = c * (s + 2.0 * p_minus_y * gdr + ce * gdr * ((gamma - 1.0) * d * r + (q - p)));
  Tensor gn_inner = y * q * q + one_minus_y * p * p + 2.0 * p_minus_y * gdr + (gamma - 1.0) * ce * gdr * d * r;
  Tensor gauss_newton = c * clamp(gn_inner, 0.0);
  return {grad, hess, gauss_newton};
}

}  // namespace zg
