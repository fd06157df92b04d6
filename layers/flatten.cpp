#include "zoograd/layers/flatten.h"

#include "zoograd/core/ops.h"

namespace zg {

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }

}  // namespace zg
