#pragma once
#include "zoograd/layers/module.h"

namespace zg {

// Flattens dims start_dim..end_dim into one (PyTorch's nn.Flatten keeps the batch dim by default).
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;

  std::int64_t start_dim, end_dim;
};

}  // namespace zg
