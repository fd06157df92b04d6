#include "zoograd/layers/batchnorm.h"

#include <stdexcept>

#include "zoograd/core/ops.h"

namespace zg {

BatchNorm::BatchNorm(std::int64_t num_features, double eps_, double momentum_, std::int64_t min_rank,
                     std::int64_t max_rank, const char* name)
    : eps(eps_), momentum(momentum_), min_rank_(min_rank), max_rank_(max_rank), name_(name) {
  if (num_features < 1)
    throw std::invalid_argument(std::string(name) + ": num_features must be positive, got " + std::to_string(num_features));
  weight = register_parameter("weight", ones({num_features}));
  bias = register_parameter("bias", zeros({num_features}));
  running_mean = register_buffer("running_mean", zeros({num_features}));
  running_var = register_buffer("running_var", ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
}

Tensor BatchNorm::forward(const Tensor& x) {
  std::int64_t c = weight.numel();
  if (x.dim() < min_rank_ || x.dim() > max_rank_ || x.size(1) != c)
    throw std::invalid_argument(std::string(name_) + ": expected input with " + std::to_string(c) +
                                " channels in dimension 1 and rank " + std::to_string(min_rank_) +
                                (max_rank_ > min_rank_ ? " or " + std::to_string(max_rank_) : "") + ", got shape " +
                                to_string(x.shape()));
  if (is_training() && x.numel() / c < 2)
    throw std::invalid_argument(std::string(name_) + ": training needs more than one value per channel, got input " +
                                to_string(x.shape()));
  Tensor y = batch_norm(x, running_mean, running_var, weight, bias,
                        {.training = is_training(), .momentum = momentum, .eps = eps});
  if (is_training()) num_batches_tracked.data<std::int64_t>()[0] += 1;
  return y;
}

}  // namespace zg
