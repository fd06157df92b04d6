#pragma once
// Activation layers: thin modules over the core ops, plus PReLU with its learned slope.
#include "layers/module.h"

namespace zg {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
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
