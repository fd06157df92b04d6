#pragma once
// Activation layers: thin modules over the core ops, plus PReLU with its learned slope.
#include "zoograd/layers/module.h"

namespace zg {

// With inplace (PyTorch's nn.ReLU(inplace=True)), overwrites its input where no graph is being
// recorded (inference under NoGradGuard), which saves a block the size of the activation; where a
// gradient is needed it computes out of place.
class ReLU : public Module {
 public:
  explicit ReLU(bool inplace = false) : inplace_(inplace) {}
  Tensor forward(const Tensor& x) override;

 private:
  bool inplace_;
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// Exact GELU, x·Φ(x).
class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// y = x for x > 0, a·x otherwise, with a learned: one slope shared by all channels
// (num_parameters = 1) or one per channel (dimension 1 of the input).
class PReLU : public Module {
 public:
  explicit PReLU(std::int64_t num_parameters = 1, double init = 0.25);
  Tensor forward(const Tensor& x) override;

  Tensor weight;
};

}  // namespace zg
