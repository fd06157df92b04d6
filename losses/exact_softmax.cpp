#include "losses/exact_softmax.h"

#include "core/ops.h"

namespace zg {

// A logit that adds exactly 0 to a logsumexp with any real logit in it (e^(-1e30 - x) underflows) yet
// is finite, in float32 too: masking with it rather than -inf keeps every intermediate finite, so
// anomaly mode (which stops at the first inf) runs through cross-entropy. With one class the sum has
// only it, and softplus(-1e30 - x_y) is exactly 0 with gradient 0.
constexpr double kMasked = -1e30;

Tensor target_gap(const Tensor& rows, const Tensor& index) {
  const Tensor is_target = one_hot(index, rows.size(1), rows.dtype());
  // where() selects rather than adds: the target's entry gets a zero gradient.
  const Tensor others = where(is_target, scalar(kMasked, rows.dtype()), rows);
  const Tensor x_y = reshape(gather(rows, 1, unsqueeze(index, 1)), {index.numel()});
  return logsumexp(others, {1}) - x_y;
}

Tensor exact_log_softmax(const Tensor& rows) {
  const Tensor top = argmax(rows, 1);
  const Tensor log_p_top = unsqueeze(-softplus(target_gap(rows, top)), 1);
  return where(one_hot(top, rows.size(1), rows.dtype()), log_p_top, log_softmax(rows, 1));
}

}  // namespace zg
