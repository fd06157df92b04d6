#pragma once
// Softmax cross-entropy's pieces, exact in the tails. With the gap of row n
//   d_n = logsumexp_{j≠y} x_nj - x_ny        (minus the target's margin over the others, smoothed)
// they are
//   -log p_y = log(1 + e^d) = softplus(d)      1 - p_y = σ(d)      p_y - 1 = -σ(d)
// Each is a well-conditioned function of d, so it keeps its relative precision however small it is
// (≈ e^-700 at a margin of 700), where x_y - logsumexp(x) (log_softmax) and 1 - softmax(x)_y lose
// every digit past a margin of about 37. Seed 000 reaches the same formula from the other side:
// softplus of the LogSumExp hinge is cross-entropy. Everything here is composed of differentiable
// ops, so gradients (σ(d) and σ(d)·softmax of the others) and second derivatives are exact too.
#include "zoograd/core/tensor.h"

namespace zg {

// d = logsumexp_{j≠y} x_j - x_y per row: rows (M, C) floating, index (M) int64 in [0, C) -> (M).
// With one class the sum is empty and d is -1e30 (so softplus(d) = 0 and σ(d) = 0, gradient 0); a
// row of -inf gives NaN.
Tensor target_gap(const Tensor& rows, const Tensor& index);

// log softmax over dim 1 of rows (M, C), with each row's largest entry computed as -softplus(d) for
// that entry: the one entry whose log p is near 0 and would otherwise lose its digits. For
// probability targets: -Σ_c q_c log p_c is then exact for a (nearly) one-hot q as well.
Tensor exact_log_softmax(const Tensor& rows);

}  // namespace zg
