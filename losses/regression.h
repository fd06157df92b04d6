#pragma once
// Regression losses: a prediction x (`input`) against a real-valued target y of the same shape,
// any shape (N, *). Names, arguments, defaults and reductions follow torch.nn.functional where
// PyTorch has the loss (mse_loss, l1_loss, huber_loss, smooth_l1_loss, poisson_nll_loss,
// gaussian_nll_loss). Unlike PyTorch, input and target must have the same shape: PyTorch
// broadcasts them with only a warning, which hides (N) against (N, 1) bugs.
// Each supports the reductions none, mean and sum (PyTorch has no batchmean for them);
// none keeps input's shape, except rmse_loss's (N) (see there).
#include "zoograd/losses/reduction.h"

namespace zg {

// ℓ = (x - y)²;   half: ℓ = ½(x - y)², seed 001's L2 (gradient x - y instead of 2(x - y))
struct MseLossOptions {
  Reduction reduction = Reduction::Mean;
  bool half = false;
};
Tensor mse_loss(const Tensor& input, const Tensor& target, const MseLossOptions& options = {});

// ℓ = |x - y|   (gradient 0 at x = y, as PyTorch)
struct L1LossOptions {
  Reduction reduction = Reduction::Mean;
};
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossOptions& options = {});

// Root mean squared error, not in PyTorch. A root of a single squared error is just |d|, so the
// RMSE is taken per sample, over the non-batch dims, and the reduction then acts on the samples:
//   ℓ_n = √(mean_j (x_nj - y_nj)² + eps)      none -> (N); mean, sum: over the N samples
// (eps > 0 keeps the gradient finite, 0 instead of 0/0, at zero error). A 0-D or 1-D input has one
// value per sample, where ℓ_n = √(d_n² + eps) ≈ |d_n|. per_sample = false takes one RMSE over every
// element instead, seed 002's √((1/m)·Σ_i (y_i - ŷ_i)²) over the batch: ℓ = √(F.mse_loss(x, y) + eps),
// a scalar (none returns it as a 0-D tensor; mean and sum of one value are the value).
struct RmseLossOptions {
  Reduction reduction = Reduction::Mean;
  double eps = 1e-12;
  bool per_sample = true;
};
Tensor rmse_loss(const Tensor& input, const Tensor& target, const RmseLossOptions& options = {});

// F.huber_loss: with d = x - y,
//   ℓ = ½d²            if |d| < δ
//       δ(|d| - ½δ)    otherwise            δ = delta > 0
struct HuberLossOptions {
  Reduction reduction = Reduction::Mean;
  double delta = 1.0;
};
Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossOptions& options = {});

// F.smooth_l1_loss: with d = x - y,
//   ℓ = ½d²/β          if |d| < β
//       |d| - ½β       otherwise            β = beta ≥ 0; β = 0 is exactly l1_loss, as PyTorch.
// (smooth_l1 with β equals huber with δ = β, divided by β.)
struct SmoothL1LossOptions {
  Reduction reduction = Reduction::Mean;
  double beta = 1.0;
};
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossOptions& options = {});

// Log-cosh, not in PyTorch: ℓ = log cosh(d), d = x - y, computed as |d| + softplus(-2|d|) - log 2,
// which is the same number without cosh's overflow (cosh(1e4) = inf). Gradient tanh(d).
struct LogCoshLossOptions {
  Reduction reduction = Reduction::Mean;
};
Tensor log_cosh_loss(const Tensor& input, const Tensor& target, const LogCoshLossOptions& options = {});

// Quantile (pinball) loss, not in PyTorch: with d = y - x,
//   ℓ = max(τ·d, (τ - 1)·d)                 τ = tau ∈ (0, 1); τ = 0.5 is ½|d|.
// Minimising it makes x the τ-quantile of y: under-prediction costs τ, over-prediction 1 - τ.
struct QuantileLossOptions {
  Reduction reduction = Reduction::Mean;
  double tau = 0.5;
};
Tensor quantile_loss(const Tensor& input, const Tensor& target, const QuantileLossOptions& options = {});

// F.poisson_nll_loss, the negative log-likelihood of y ~ Poisson(λ) up to log(y!):
//   log_input (x = log λ):  ℓ = exp(x) - y·x
//   otherwise (x = λ ≥ 0):  ℓ = x - y·log(x + eps)
//   full adds Stirling's approximation of log(y!):  y·log y - y + ½·log(2πy), for y > 1 only.
// target y ≥ 0 (counts) is not differentiated in the catalog; a negative one, or a negative rate
// with log_input = false, throws.
struct PoissonNllLossOptions {
  bool log_input = true;
  bool full = false;
  double eps = 1e-8;
  Reduction reduction = Reduction::Mean;
};
Tensor poisson_nll_loss(const Tensor& input, const Tensor& target, const PoissonNllLossOptions& options = {});

// F.gaussian_nll_loss, the negative log-likelihood of y ~ N(x, var):
//   ℓ = ½·(log v + (x - y)² / v)   with v = max(var, eps);  full adds ½·log(2π).
// var ≥ 0 has input's shape (one variance per element), or input's shape with the last dim 1 or
// dropped (one variance shared along the last dim); a negative var throws. As PyTorch, the
// clamp changes the value only: the gradient reaches var unchanged where var < eps.
struct GaussianNllLossOptions {
  bool full = false;
  double eps = 1e-6;
  Reduction reduction = Reduction::Mean;
};
Tensor gaussian_nll_loss(const Tensor& input, const Tensor& target, const Tensor& var,
                         const GaussianNllLossOptions& options = {});

}  // namespace zg
