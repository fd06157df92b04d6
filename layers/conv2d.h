#pragma once
#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"
#include "zoograd/layers/module.h"

namespace zg {

struct Conv2dOptions {
  Size2 stride = 1;
  Size2 padding = 0;  // zeros on each side
  bool bias = true;
};

// y = W ⋆ x + b   x:(N,C,H,W) W:(O,C,kh,kw) b:(O) -> (N,O,oh,ow)
// W ~ U(-1/√fan_in, 1/√fan_in), fan_in = C·kh·kw (PyTorch's default), b likewise.
//   Conv2d(1, 8, 5)   Conv2d(1, 8, 5, gen, {.stride = 2, .padding = 2, .bias = false})
class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, Generator& gen = default_generator(),
         const Conv2dOptions& options = {});
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size, const Conv2dOptions& options)
      : Conv2d(in_channels, out_channels, kernel_size, default_generator(), options) {}
  Tensor forward(const Tensor& x) override;

  Tensor weight, bias;
  Size2 stride, padding;
};

}  // namespace zg
