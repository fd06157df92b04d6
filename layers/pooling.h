#pragma once
#include <optional>

#include "zoograd/core/ops.h"
#include "zoograd/layers/module.h"

namespace zg {

// Maximum over each kernel window; stride defaults to the kernel size.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : kernel_size(kernel_size), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) override;

  Size2 kernel_size;
  std::optional<Size2> stride;
  Size2 padding;
};

// Mean over each kernel window (zero padding counted); stride defaults to the kernel size.
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0)
      : kernel_size(kernel_size), stride(stride), padding(padding) {}
  Tensor forward(const Tensor& x) override;

  Size2 kernel_size;
  std::optional<Size2> stride;
  Size2 padding;
};

}  // namespace zg
