#include "zoograd/layers/linear.h"

#include <cmath>
#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/layers/init.h"

namespace zg {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, const LinearOptions& options) {
  if (in_features < 1 || out_features < 1)
    throw std::invalid_argument("Linear: features must be positive, got in " + std::to_string(in_features) +
                                ", out " + std::to_string(out_features));
  weight = register_parameter("weight", kaiming_uniform({out_features, in_features}, gen));
  if (options.bias) {
    double b = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias = register_parameter("bias", uniform({out_features}, -b, b, gen));
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

}  // namespace zg
