#include "zoograd/losses/exact_softmax.h"

#include "zoograd/core/ops.h"

namespace zg {

Tensor target_gap(const Tensor& rows, const Tensor& index) {
  const Tensor is_target = one_hot(index, rows.size(1), rows.dtype());
  // The target's entry is replaced by a value 1e30 below the row's smallest: it adds exactly 0 to
  // the logsumexp (e^-1e30 underflows), yet it is finite wherever the row is, so anomaly mode (which
  // stops at the first inf) runs through; a row of -inf stays undefined, NaN, as in PyTorch. With
  // one class the sum has only it, and softplus(x_y - 1e30 - x_y) is exactly 0 with gradient 0.
  // where() selects rather than adds: the target's entry gets a zero gradient.
  const Tensor below = amin(rows.detach(), {1}, {.keepdim = true}) - 1e30;
  const Tensor others = where(is_target, below, rows);
  const Tensor x_y = reshape(gather(rows, 1, unsqueeze(index, 1)), {index.numel()});
  return logsumexp(others, {1}) - x_y;
}

Tensor exact_log_softmax(const Tensor& rows) {
  const Tensor top = argmax(rows, 1);
  const Tensor log_p_top = unsqueeze(-softplus(target_gap(rows, top)), 1);
  return where(one_hot(top, rows.size(1), rows.dtype()), log_p_top, log_softmax(rows, 1));
}

}  // namespace zg
