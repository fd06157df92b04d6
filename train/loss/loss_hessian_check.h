#pragma once
// `zoograd loss eval --hessian-diag`: the closed-form Hessian diagonals of losses/hessians.h, for the
// catalog rows that have one, so that the tool prints the derived formula's numbers and how far
// autograd's double backward is from them.
#include <optional>
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"

namespace zg {

struct ClosedFormHessian {
  std::size_t input;   // the row's input it is the diagonal for (the logits)
  std::string source;  // the function of losses/hessians.h
  Tensor diag;         // ∂²(Σ loss)/∂x_i² for every element x_i of that input, its shape
};

// The Hessian diagonal of the loss, summed over its elements after the reduction as `loss eval`
// does, from a closed form: cross_entropy and brier_score (logits (N, C); class indices or
// probabilities, weights, ignore_index and label_smoothing as the row's call takes them),
// binary_brier_score, binary_cross_entropy_with_logits and sigmoid_focal_loss (any shape). Nullopt
// for the other losses and shapes. The inputs are those the row's call accepted.
std::optional<ClosedFormHessian> closed_form_hessian_diag(const LossSpec& spec, const std::vector<Tensor>& inputs,
                                                          const LossParams& given, Reduction reduction);

}  // namespace zg
