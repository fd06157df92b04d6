#pragma once
#include "zoograd/core/generator.h"
#include "zoograd/layers/module.h"

namespace zg {

struct LinearOptions {
  bool bias = true;  // false: y = x·Wᵀ, no bias parameter
};

// y = x·Wᵀ + b   x:(N,in) W:(out,in) b:(out) -> (N,out)
// W ~ U(-1/√in, 1/√in) (PyTorch's kaiming_uniform with a = √5), b likewise.
//   Linear(2, 32)   Linear(2, 32, gen)   Linear(2, 32, gen, {.bias = false})   Linear(2, 32, {.bias = false})
class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen = default_generator(),
         const LinearOptions& options = {});
  Linear(std::int64_t in_features, std::int64_t out_features, const LinearOptions& options)
      : Linear(in_features, out_features, default_generator(), options) {}
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;  // bias undefined when constructed without one
};

}  // namespace zg
