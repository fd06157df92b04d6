#include "zoograd/layers/init.h"

#include <cmath>
#include <stdexcept>

#include "zoograd/core/ops.h"

namespace zg {

namespace {
std::pair<double, double> fans(const Shape& shape) {
  if (shape.size() < 2)
    throw std::invalid_argument("init: fan in/out need a weight of rank >= 2, got shape " + to_string(shape));
  double receptive = 1;
  for (std::size_t i = 2; i < shape.size(); ++i) receptive *= static_cast<double>(shape[i]);
  return {static_cast<double>(shape[1]) * receptive, static_cast<double>(shape[0]) * receptive};
}
}  // namespace

std::int64_t fan_in(const Shape& shape) { return static_cast<std::int64_t>(fans(shape).first); }

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, DType dtype) {
  NoGradGuard no_grad;
  return rand(shape, dtype, gen) * (high - low) + low;
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, double a, DType dtype) {
  double bound = std::sqrt(2.0 / (1.0 + a * a)) * std::sqrt(3.0 / fans(shape).first);
  return uniform(shape, -bound, bound, gen, dtype);
}

}  // namespace zg
