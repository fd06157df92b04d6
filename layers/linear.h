#pragma once
#include "zoograd/core/generator.h"
#include "zoograd/layers/module.h"

namespace zg {

// y = x·Wᵀ + b   x:(N,in) W:(out,in) b:(out) -> (N,out)
// W ~ U(-1/√in, 1/√in) (PyTorch's kaiming_uniform with a = √5), b likewise.
class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true,
         Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;  // bias undefined when constructed without one
};

}  // namespace zg
