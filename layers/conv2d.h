#pragma once
#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/layers/module.h"

namespace zg {

// y = W ⋆ x + b   x:(N,C,H,W) W:(O,C,kh,kw) b:(O) -> (N,O,oh,ow)
// W ~ U(-1/√fan_in, 1/√fan_in), fan_in = C·kh·kw (PyTorch's default), b likewise.
class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
         Size2 padding = 0, bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;
  Size2 stride, padding;
};

}  // namespace zg
