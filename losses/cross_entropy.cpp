#include "losses/cross_entropy.h"

namespace zg {

namespace {
void check_targets(const Tensor& input, const Tensor& target) {
  if (input.dim() != 2 || target.dim() != 1 || target.size(0) != input.size(0))
    throw std::invalid_argument("cross_entropy: expected input (N, C) and target (N), got " + to_string(input.shape()) +
                                " and " + to_string(target.shape()));
  if (target.dtype() != DType::Int64)
    throw std::invalid_argument(std::string("cross_entropy: target must hold int64 class indices, got ") +
                                dtype_name(target.dtype()));
  const auto* y = target.data<std::int64_t>();
  for (std::int64_t i = 0; i < target.numel(); ++i)
    if (y[i] < 0 || y[i] >= input.size(1))
      throw std::invalid_argument("cross_entropy: target " + std::to_string(y[i]) + " at position " + std::to_string(i) +
                                  " is out of range for " + std::to_string(input.size(1)) + " classes");
}
}  // namespace

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options) {
  check_targets(input, target);
  Tensor nll = -gather(log_softmax(input, 1), 1, unsqueeze(target, 1));  // (N, 1)
  return reduce(reshape(nll, {input.size(0)}), options.reduction);
}

}  // namespace zg
