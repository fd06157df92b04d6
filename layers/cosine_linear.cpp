#include "zoograd/layers/cosine_linear.h"

#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/layers/init.h"

namespace zg {

CosineLinear::CosineLinear(std::int64_t in_features, std::int64_t out_features, Generator& gen) {
  if (in_features < 1 || out_features < 1)
    throw std::invalid_argument("CosineLinear: features must be positive, got in " + std::to_string(in_features) +
                                ", out " + std::to_string(out_features));
  weight = register_parameter("weight", kaiming_uniform({out_features, in_features}, gen));
}

Tensor CosineLinear::forward(const Tensor& x) {
  if (x.dim() != 2 || x.size(1) != weight.size(1))
    throw std::invalid_argument("CosineLinear: expected input (N, " + std::to_string(weight.size(1)) + "), got " +
                                to_string(x.shape()));
  return mm(normalize(x, 2.0, 1), normalize(weight, 2.0, 1), {.transpose_b = true});
}

}  // namespace zg
