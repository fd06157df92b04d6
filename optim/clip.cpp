#include "zoograd/optim/clip.h"

#include "zoograd/core/ops.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace zg {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  if (!(max_norm > 0) || !std::isfinite(max_norm)) {
    std::ostringstream o;
    o << "clip_grad_norm_: max_norm must be a positive number, got " << max_norm;
    throw std::invalid_argument(o.str());
  }
  double squares = 0;
  for (const Tensor& p : params)
    if (p.grad().defined())
      squares += sum(p.grad() * p.grad()).to(DType::Float64).item();
  const double total = std::sqrt(squares);
  // As PyTorch: the factor is max_norm / (total + 1e-6), applied only when it is below 1.
  const double factor = max_norm / (total + 1e-6);
  if (factor < 1)
    for (const Tensor& p : params)
      if (p.grad().defined()) p.set_grad(p.grad().detach() * factor);
  return total;
}

}  // namespace zg
