#pragma once
// Parameter initialisers (PyTorch's nn.init formulas), each drawing from an explicit generator.
// fan_in = shape[1]·receptive field, fan_out = shape[0]·receptive field, receptive field = Π shape[2:].
#include "zoograd/core/generator.h"
#include "zoograd/core/tensor.h"

namespace zg {

// U(low, high)
Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype = DType::Float32);
// U(-b, b), b = gain·√(3/fan_in), gain = √(2/(1 + a²)). a = √5 is PyTorch's Linear/Conv default,
// which makes b = 1/√fan_in.
Tensor kaiming_uniform(const Shape& shape, Generator& gen, double a = 2.23606797749979,
                       DType dtype = DType::Float32);

// fan_in of a weight shape (throws for rank < 2).
std::int64_t fan_in(const Shape& shape);

}  // namespace zg
