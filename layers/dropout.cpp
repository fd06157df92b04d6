#include "zoograd/layers/dropout.h"

#include <stdexcept>

#include "zoograd/core/ops.h"

namespace zg {

Dropout::Dropout(double p_, Generator& gen) : p(p_), gen_(&gen) {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p == 0) return x;
  Tensor keep = lt(rand(x.shape(), x.dtype(), *gen_), 1.0 - p);
  return x * (keep * (1.0 / (1.0 - p)));  // the mask carries the scale: one op on the graph
}

}  // namespace zg
