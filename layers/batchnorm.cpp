#include "layers/batchnorm.h"

#include <stdexcept>

#include "core/ops.h"

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
  Dims dims{0};
  for (std::int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  Shape channel(static_cast<std::size_t>(x.dim()), 1);
  channel[1] = c;
  Tensor mu, var;
  if (is_training()) {
    std::int64_t n = x.numel() / c;
    if (n < 2)
      throw std::invalid_argument(std::string(name_) + ": training needs more than one value per channel, got input " +
                                  to_string(x.shape()));
    mu = mean(x, dims, true);
    Tensor centered = x - mu;
    var = mean(centered * centered, dims, true);
    NoGradGuard no_grad;
    double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
    Tensor new_mean = running_mean * (1 - momentum) + reshape(mu, {c}).to(running_mean.dtype()) * momentum;
    Tensor new_var = running_var * (1 - momentum) + reshape(var, {c}).to(running_var.dtype()) * (momentum * unbias);
    running_mean.copy_(new_mean);
    running_var.copy_(new_var);
    num_batches_tracked.data<std::int64_t>()[0] += 1;
  } else {
    mu = reshape(running_mean, channel);
    var = reshape(running_var, channel);
  }
  return (x - mu) / sqrt(var + eps) * reshape(weight, channel) + reshape(bias, channel);
}

}  // namespace zg
