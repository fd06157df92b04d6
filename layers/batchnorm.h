#pragma once
// Batch normalization over the channel dimension 1:
//   training:   y = (x - μ_B) / √(σ²_B + eps) · γ + β, with the batch's mean μ_B and biased variance σ²_B,
//               and running_mean/var ← (1 - momentum)·running + momentum·(μ_B, unbiased σ²_B);
//   evaluation: y = (x - running_mean) / √(running_var + eps) · γ + β.
#include "zoograd/layers/module.h"

namespace zg {

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  double eps, momentum;

 protected:
  BatchNorm(std::int64_t num_features, double eps, double momentum, std::int64_t min_rank, std::int64_t max_rank,
            const char* name);

 private:
  std::int64_t min_rank_, max_rank_;
  const char* name_;
};

// Input (N, C) or (N, C, L).
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm(num_features, eps, momentum, 2, 3, "BatchNorm1d") {}
};

// Input (N, C, H, W).
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm(num_features, eps, momentum, 4, 4, "BatchNorm2d") {}
};

}  // namespace zg
