#include "zoograd/train/loss/loss_hessian_check.h"

#include "zoograd/core/ops.h"
#include "zoograd/losses/hessians.h"

namespace zg {

namespace {

// The class-probability target of cross_entropy and brier_score as an (N, C) matrix: probabilities
// as given, class indices one-hot; rows whose index is `ignored` are all zero.
Tensor target_matrix(const Tensor& target, std::int64_t classes, DType dtype, std::optional<std::int64_t> ignored) {
  if (is_floating(target.dtype())) return target.detach().to(dtype);
  Tensor kept = ignored ? ne(target, static_cast<double>(*ignored)).to(dtype) : ones({target.numel()}, dtype);
  Tensor safe = ignored ? where(kept, target.to(dtype), scalar(0.0, dtype)).to(DType::Int64) : target;
  return one_hot(safe, classes, dtype) * unsqueeze(kept, 1);
}

// The factor by which `reduction` divides the sum: the number of elements for mean, else 1.
double mean_divisor(Reduction reduction, std::int64_t count) {
  return reduction == Reduction::Mean ? static_cast<double>(count) : 1.0;
}

}  // namespace

std::optional<ClosedFormHessian> closed_form_hessian_diag(const LossSpec& spec, const std::vector<Tensor>& inputs,
                                                          const LossParams& given, Reduction reduction) {
  const LossParams p = with_defaults(spec.name, spec.params, given);
  const Tensor& z = inputs.at(0);
  const DType dtype = z.dtype();
  if (spec.name == "cross_entropy" || spec.name == "brier_score") {
    if (z.dim() != 2) return std::nullopt;
    const std::int64_t n = z.size(0), classes = z.size(1);
    const bool probabilities = is_floating(inputs.at(1).dtype());
    const Tensor weight = optional_input(inputs, 2);
    const Tensor w = weight.defined() ? broadcast_to(weight.detach().to(dtype), z.shape()) : ones(z.shape(), dtype);
    if (spec.name == "brier_score") {
      const Tensor y = target_matrix(inputs[1], classes, dtype, std::nullopt);
      return ClosedFormHessian{0, "brier_score_grad_hess (losses/hessians.h)",
                               brier_score_grad_hess(z, y, w).hess / mean_divisor(reduction, n)};
    }
    // -Σ_c w_c·q_c·log p_c with q = (1 - ε)·target + ε/C on the kept rows: label smoothing and
    // ignore_index as cross_entropy applies them.
    const double eps = p.at("label_smoothing");
    const auto ignore = static_cast<std::int64_t>(p.at("ignore_index"));
    const Tensor y = target_matrix(inputs[1], classes, dtype, probabilities ? std::nullopt : std::optional(ignore));
    const Tensor kept = probabilities ? ones({n, 1}, dtype) : sum(y, {1}, {.keepdim = true});
    const Tensor q = (1.0 - eps) * y + (eps / static_cast<double>(classes)) * kept;
    // mean divides by the number of samples (probabilities), or by Σ_{kept n} w_{y_n} (class indices).
    double divisor = mean_divisor(reduction, n);
    if (reduction == Reduction::Mean && !probabilities) divisor = sum(y * w).item();
    return ClosedFormHessian{0, "softmax_cross_entropy_grad_hess (losses/hessians.h)",
                             softmax_cross_entropy_grad_hess(z, q, w).hess / divisor};
  }
  const double divisor = mean_divisor(reduction, z.numel());
  if (spec.name == "binary_brier_score")
    return ClosedFormHessian{0, "binary_brier_score_grad_hess (losses/hessians.h)",
                             binary_brier_score_grad_hess(z, inputs.at(1)).hess / divisor};
  if (spec.name == "binary_cross_entropy_with_logits")
    return ClosedFormHessian{0, "binary_cross_entropy_with_logits_grad_hess (losses/hessians.h)",
                             binary_cross_entropy_with_logits_grad_hess(z, inputs.at(1), Tensor(),
                                                                        scalar(p.at("pos_weight"), dtype))
                                     .hess /
                                 divisor};
  if (spec.name == "sigmoid_focal_loss")
    return ClosedFormHessian{0, "sigmoid_focal_loss_grad_hess (losses/hessians.h)",
                             sigmoid_focal_loss_grad_hess(z, inputs.at(1), p.at("alpha"), p.at("gamma")).hess / divisor};
  return std::nullopt;
}

}  // namespace zg
