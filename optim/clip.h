#pragma once
// Gradient clipping by the global norm, PyTorch's torch.nn.utils.clip_grad_norm_:
//   total = ‖(g₁, …, gₖ)‖₂ over every parameter's gradient;  if total > max_norm, each g ← g·max_norm/total.
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

// Scales the gradients of `params` in place (parameters without a gradient are skipped) and
// returns their total norm before clipping. max_norm must be positive.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

}  // namespace zg
