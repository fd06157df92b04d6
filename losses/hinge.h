#pragma once
// Margin-based (hinge) classification losses: the score of the true class (or y·x for ±1 labels)
// must beat the others by a margin. They differ in which violations count (every other class, or
// only the strongest) and in how the kinks are smoothed. Seed 000 walks that path: hinge over all
// classes -> hinge against the max (Crammer–Singer) -> max smoothed by LogSumExp and the ReLU by
// softplus, which lands exactly on softmax cross-entropy.
#include <cstdint>

#include "zoograd/losses/reduction.h"

namespace zg {

// ---- binary: input any shape, target the same shape holding -1/+1 labels; `none` keeps the shape ----

struct HingeLossOptions {
  double margin = 1.0;
  Reduction reduction = Reduction::Mean;
};

//   ℓ = max(0, margin - y·x)
Tensor hinge_loss(const Tensor& input, const Tensor& target, const HingeLossOptions& options = {});

//   ℓ = max(0, margin - y·x)²
Tensor squared_hinge_loss(const Tensor& input, const Tensor& target, const HingeLossOptions& options = {});

struct SoftMarginLossOptions {
  Reduction reduction = Reduction::Mean;
};

// F.soft_margin_loss, the logistic loss:   ℓ = log(1 + exp(-y·x)) = softplus(-y·x)
Tensor soft_margin_loss(const Tensor& input, const Tensor& target, const SoftMarginLossOptions& options = {});

// ---- multi-class: input (N, C) scores, target (N) int64 class indices; `none` gives (N) ----

struct MultiMarginLossOptions {
  std::int64_t p = 1;  // 1 or 2, as in PyTorch
  double margin = 1.0;
  Tensor weight{};     // (C) class weights, or undefined for all ones
  Reduction reduction = Reduction::Mean;
  bool divide_by_classes = true;  // PyTorch's / C; false: seed 000's plain sum over i ≠ y
};

// F.multi_margin_loss (Weston–Watkins):   ℓ_n = Σ_{i≠y} w_y · max(0, margin - x_y + x_i)^p / C
// Divided by C, not by C - 1; w_y multiplies the powered term, which is what PyTorch computes
// (its documentation before 2.1 put w_y inside the max). `mean` divides by N, not by Σ w_y.
// divide_by_classes = false drops the / C: seed 000's Σ_{i≠y} max(z_i - z_y + m, 0) (p = 1),
// Weston and Watkins' (1999) own form; z = (1, 2, 3, 0), y = 0, m = 1 gives 5 (PyTorch: 5/4).
Tensor multi_margin_loss(const Tensor& input, const Tensor& target, const MultiMarginLossOptions& options = {});

struct CrammerSingerLossOptions {
  double margin = 1.0;
  Reduction reduction = Reduction::Mean;
};

// Crammer & Singer (2001), the hinge against the strongest other class:
//   ℓ_n = max(0, margin + max_{i≠y} x_i - x_y)           needs C >= 2
Tensor crammer_singer_loss(const Tensor& input, const Tensor& target, const CrammerSingerLossOptions& options = {});

struct LogSumExpHingeLossOptions {
  double temperature = 1.0;  // T > 0
  Reduction reduction = Reduction::Mean;
  bool softplus = true;  // false: seed 000's step before, the hinge max(·, 0) on the smoothed max
};

// Seed 000, Crammer–Singer with margin 0 smoothed at temperature T: max -> T·logsumexp(·/T) and
// max(·, 0) -> T·softplus(·/T):
//   ℓ_n = T · softplus(logsumexp_{i≠y}(x_i / T) - x_y / T) = T · log(1 + Σ_{i≠y} exp((x_i - x_y) / T))
// At T = 1 this is exactly softmax cross-entropy, logsumexp(x) - x_y. As T -> 0 it tends to
// max(0, max_{i≠y} x_i - x_y), never more than T·log(2(C - 1)) above it.   Needs C >= 2.
// softplus = false keeps the ReLU (seed 000's max(log Σ_{i≠y} e^{z_i} - z_y, 0) at T = 1):
//   ℓ_n = max(T·logsumexp_{i≠y}(x_i / T) - x_y, 0)
// which is 0 once the target beats the smoothed max, and lies below cross-entropy by at most log 2.
Tensor logsumexp_hinge_loss(const Tensor& input, const Tensor& target, const LogSumExpHingeLossOptions& options = {});

}  // namespace zg
