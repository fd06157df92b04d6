#pragma once
// Classification losses: scores (logits), probabilities or log-probabilities against class labels.
// Names, arguments, defaults and reductions follow torch.nn.functional (cross_entropy, nll_loss,
// binary_cross_entropy, binary_cross_entropy_with_logits, kl_div) and torchvision.ops
// (sigmoid_focal_loss); focal_loss, brier_score and binary_brier_score are not in PyTorch.
// Every loss takes float32 or float64 and the reductions none, mean and sum; kl_div also batchmean.
//
// Shapes of the softmax losses (cross_entropy, nll_loss, focal_loss): input (N, C), or (N, C, d1, ..., dk)
// with the classes on dim 1, or unbatched (C); a class-index target has input's shape without the
// class dim, and so has the result of `none`.
//
// Optional tensors in the options default to undefined through `{}`, which also keeps designated
// initialisers that leave them out, {.reduction = r}, free of -Wmissing-field-initializers.
#include <cstdint>

#include "zoograd/losses/reduction.h"

namespace zg {

struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;  // first, so that cross_entropy(x, y, {Reduction::Sum}) reads well
  Tensor weight{};                        // (C) class weights w_c, or undefined for all ones
  std::int64_t ignore_index = -100;       // class-index targets equal to it count for nothing
  double label_smoothing = 0.0;           // ε ∈ [0, 1]
};

// F.cross_entropy, softmax cross-entropy with log p = log_softmax(x) over the classes.
// Class-index target y (int64):
//   ℓ_n = (1 - ε)·w_{y_n}·(-log p_{n,y_n}) + (ε/C)·Σ_c w_c·(-log p_{n,c})      (0 where y_n = ignore_index)
//   mean = Σ_n ℓ_n / Σ_{n: y_n ≠ ignore_index} w_{y_n}: both terms are divided by the weight of the kept
//   targets, as PyTorch; every target ignored gives 0/0 = NaN, as PyTorch.
// Probability target q (floating, input's shape; ignore_index must stay negative):
//   ℓ_n = -Σ_c w_c·((1 - ε)·q_{n,c} + ε/C)·log p_{n,c};   mean = Σ_n ℓ_n / (number of samples), weights
//   do not enter the denominator (PyTorch's rule).
// In float64 exact in the tails, unlike PyTorch: -log p_y is softplus(logsumexp_{j≠y} x_j - x_y)
// (losses/exact_softmax.h), so a margin x_y - max_{j≠y} x_j of 40 gives (C - 1)·e^-40 ≈ (C - 1)·4.2e-18,
// not 0, and value and gradient keep their relative precision up to margins of 700 and beyond
// (probability targets: at the largest logit). With class indices, float32 keeps -log_softmax(x)_y,
// bit for bit the form training runs were measured with (see target_nll in the .cpp).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

struct NllLossOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};  // (C) class weights, or undefined for all ones
  std::int64_t ignore_index = -100;
};

// F.nll_loss, input holds log-probabilities:
//   ℓ_n = -w_{y_n}·x_{n,y_n}   (0 where y_n = ignore_index);   mean = Σ_n ℓ_n / Σ_{kept n} w_{y_n} (NaN if none kept)
// cross_entropy(x, y) = nll_loss(log_softmax(x, 1), y).
Tensor nll_loss(const Tensor& input, const Tensor& target, const NllLossOptions& options = {});

// ---- sigmoid losses: input any shape, target the same shape (floating, values in [0, 1]) ----

struct BinaryCrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};  // broadcast to input's shape, or undefined
};

// F.binary_cross_entropy, input p ∈ [0, 1] (probabilities; outside it throws, as PyTorch):
//   ℓ = -w·[y·max(log p, -100) + (1 - y)·max(log(1 - p), -100)]
// PyTorch's clamp at -100 keeps ℓ finite at p = 0 or 1. The gradient is the derivative of this
// formula, 0 through a clamped log; PyTorch's hand-written backward, (p - y)/max(p(1 - p), 1e-12),
// differs only where a log is clamped or p(1 - p) < 1e-12.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BinaryCrossEntropyOptions& options = {});

struct BinaryCrossEntropyWithLogitsOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};      // broadcast to input's shape, or undefined
  Tensor pos_weight{};  // weight of the positive term, broadcast along the last dim: (C) for input (N, C)
};

// F.binary_cross_entropy_with_logits, input x logits, pw = pos_weight:
//   ℓ = -w·[pw·y·log σ(x) + (1 - y)·log(1 - σ(x))] = w·[(1 - y)·x + (1 + (pw - 1)·y)·softplus(-x)]
// computed as (1 - y)·softplus(x) + pw·y·softplus(-x): it never takes the log of a rounded σ nor
// subtracts, so ℓ is finite for |x| up to 1e4 and beyond and keeps its relative precision in the tails.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsOptions& options = {});

// ---- focal losses (Lin et al. 2017): cross-entropy scaled by (1 - p_t)^γ, p_t the probability of the truth ----
//
// Both evaluate (1 - p_t)^γ at max(1 - p_t, the dtype's smallest normal number). Why: for γ < 1 the
// derivative γ·(1 - p_t)^(γ-1) is infinite at p_t = 1, which a logit of 1e4 reaches exactly, and
// ∞·0 would make the gradient NaN. Below the clamp its gradient is 0, which is also the limit of
// the true gradient (the loss behaves like (1 - p_t)^(γ+1) there); above it γ·u^(γ-1) ≤ γ/2.2e-308
// (float64) or γ/1.2e-38 (float32) stays finite. The value changes only where 1 - p_t is below that
// number, and by at most the cross-entropy there, which is 0 or nearly so. 1 - p_t is computed
// without the cancellation of 1 - p: as σ(x)(1 - y) + σ(-x)·y (binary), as σ(d) with
// d = logsumexp_{j≠y} x_j - x_y (softmax, with -log p_t = softplus(d); losses/exact_softmax.h).

struct SigmoidFocalLossOptions {
  Reduction reduction = Reduction::None;  // torchvision's default is "none" (not "mean")
  double alpha = 0.25;                    // α ∈ [0, 1], or negative to drop the α_t factor
  double gamma = 2.0;                     // γ ≥ 0
};

// torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha, gamma, reduction):
//   p = σ(x),  p_t = p·y + (1 - p)·(1 - y),  α_t = α·y + (1 - α)·(1 - y)
//   ℓ = α_t·(1 - p_t)^γ·binary_cross_entropy_with_logits(x, y)
// γ = 0 and α < 0 give binary_cross_entropy_with_logits itself.
Tensor sigmoid_focal_loss(const Tensor& inputs, const Tensor& targets, const SigmoidFocalLossOptions& options = {});

struct FocalLossOptions {
  Reduction reduction = Reduction::Mean;
  double gamma = 2.0;  // γ ≥ 0
  Tensor alpha{};      // (C) per-class α_c, or undefined for all ones
};

// Multi-class (softmax) focal loss, input logits, target class indices (int64):
//   ℓ_n = -α_{y_n}·(1 - p_{n,y_n})^γ·log p_{n,y_n},   p = softmax(x) over the classes
// mean divides by the number of samples (not by Σ α). γ = 0 without α is cross_entropy.
Tensor focal_loss(const Tensor& input, const Tensor& target, const FocalLossOptions& options = {});

// ---- divergence and proper scoring rules ----

struct KlDivOptions {
  Reduction reduction = Reduction::Mean;
  bool log_target = false;
};

// F.kl_div(input, target), input = log q (log-probabilities), target p (or log p if log_target), same shape:
//   ℓ = p·(log p - input)   (0 where p = 0, gradient 0 there, as PyTorch);   log_target: ℓ = e^t·(t - input)
// batchmean = Σ ℓ / N is KL(p‖q) per sample; mean divides by every element (N·C), as PyTorch,
// which warns that this is not the KL divergence (losses do not log: this line is the warning).
// A negative probability target throws.
Tensor kl_div(const Tensor& input, const Tensor& target, const KlDivOptions& options = {});

struct BrierScoreOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};  // w broadcast to (N, C): (C) class weights or seed 003's per-entry (N, C); undefined for ones
};

// Multi-class Brier score (Brier 1950) on softmax, input logits (N, C), target (N) int64 class
// indices (one-hot y) or (N, C) probabilities y:
//   ℓ_n = Σ_c w_{n,c}·(p_{n,c} - y_{n,c})²,   p = softmax(x_n)
// none gives (N); mean is (1/N)·Σ_n ℓ_n, the usual Brier score in [0, 2] (not divided by C);
// sum is seed 003's L = Σ_i Σ_j (σ(ŷ_ij) - y_ij)²·w_ij. With class indices, p_y - 1 is taken as
// -σ(logsumexp_{j≠y} x_j - x_y), so a confident correct row keeps its small loss exactly.
Tensor brier_score(const Tensor& input, const Tensor& target, const BrierScoreOptions& options = {});

struct BinaryBrierScoreOptions {
  Reduction reduction = Reduction::Mean;
  Tensor weight{};  // broadcast to input's shape, or undefined
};

// Binary Brier score, input logits any shape, target y ∈ [0, 1] the same shape:
//   ℓ = w·(σ(x) - y)²     mean = sklearn's brier_score_loss(y, σ(x)) when w = 1
// σ(x) - y is computed as (1 - y)·σ(x) - y·σ(-x): no cancellation for 0/1 labels.
Tensor binary_brier_score(const Tensor& input, const Tensor& target, const BinaryBrierScoreOptions& options = {});

}  // namespace zg
