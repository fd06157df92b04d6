#include "zoograd/layers/activation.h"

#include <stdexcept>

#include "zoograd/core/autograd.h"
#include "zoograd/core/ops.h"

namespace zg {

Tensor ReLU::forward(const Tensor& x) {
  if (!inplace_ || will_record({x})) return relu(x);
  Tensor y = x;
  return relu_(y);
}
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }

PReLU::PReLU(std::int64_t num_parameters, double init) {
  if (num_parameters < 1)
    throw std::invalid_argument("PReLU: num_parameters must be positive, got " + std::to_string(num_parameters));
  weight = register_parameter("weight", full({num_parameters}, init));
}

Tensor PReLU::forward(const Tensor& x) {
  if (weight.numel() > 1 && (x.dim() < 2 || x.size(1) != weight.numel()))
    throw std::invalid_argument("PReLU: input of shape " + to_string(x.shape()) + " does not have " +
                                std::to_string(weight.numel()) + " channels in dimension 1");
  return prelu(x, weight);
}

}  // namespace zg
