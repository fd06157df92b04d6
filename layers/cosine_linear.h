#pragma once
#include "zoograd/core/generator.h"
#include "zoograd/layers/module.h"

namespace zg {

// cos θ_j = (x/‖x‖)·(W_j/‖W_j‖)   x:(N,in) W:(out,in) -> (N,out)
// The classification head of the angular-margin losses: no bias, and neither the feature norm
// nor the weight norms can move the decision; only angles do. W is initialised as Linear's.
class CosineLinear : public Module {
 public:
  CosineLinear(std::int64_t in_features, std::int64_t out_features, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  Tensor weight;
};

}  // namespace zg
