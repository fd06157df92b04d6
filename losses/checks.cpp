#include "zoograd/losses/checks.h"

#include <sstream>
#include <stdexcept>
#include <vector>

#include "zoograd/core/ops.h"

namespace zg::checks {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

[[noreturn]] void fail(const std::string& loss, const std::string& what) {
  throw std::invalid_argument(loss + ": " + what);
}

void check_reduction(Reduction r, const std::string& loss) {
  if (r == Reduction::BatchMean)
    fail(loss, "reduction batchmean is not defined for this loss (PyTorch has it only for kl_div); use none, mean or sum");
}

void check_floating(const Tensor& t, const std::string& loss, const std::string& name) {
  if (!t.defined()) fail(loss, name + " is undefined");
  if (!is_floating(t.dtype())) fail(loss, name + " must be float32 or float64, got " + dtype_name(t.dtype()));
}

ClassRows class_rows(const Tensor& x, const std::string& loss, const std::string& name) {
  check_floating(x, loss, name);
  if (x.dim() < 1) fail(loss, name + " needs a class dim: (C), (N, C) or (N, C, d1, ...), got a scalar");
  const std::int64_t class_dim = x.dim() == 1 ? 0 : 1, classes = x.size(class_dim);
  if (classes < 1) fail(loss, name + " of shape " + to_string(x.shape()) + " has no classes");
  Shape sample_shape = x.shape();
  sample_shape.erase(sample_shape.begin() + class_dim);
  Tensor classes_last = x;
  if (x.dim() > 2) {
    Dims order{0};
    for (std::int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
    order.push_back(1);
    classes_last = permute(x, order);
  }
  return {reshape(classes_last, {numel(sample_shape), classes}), sample_shape};
}

void check_class_indices(const Tensor& target, std::int64_t classes, const std::string& loss,
                         std::optional<std::int64_t> ignore_index) {
  if (!target.defined()) fail(loss, "target is undefined");
  if (target.dtype() != DType::Int64)
    fail(loss, std::string("target must hold int64 class indices, got ") + dtype_name(target.dtype()));
  const auto* y = target.data<std::int64_t>();
  for (std::int64_t i = 0; i < target.numel(); ++i)
    if (!(ignore_index && y[i] == *ignore_index) && (y[i] < 0 || y[i] >= classes))
      fail(loss, "target " + std::to_string(y[i]) + " at position " + std::to_string(i) + " is out of range for " +
                     std::to_string(classes) + " classes; expected 0.." + std::to_string(classes - 1) +
                     (ignore_index ? " or ignore_index " + std::to_string(*ignore_index) : std::string()));
}

ClassTargets class_targets(const Tensor& target, const Shape& sample_shape, std::int64_t classes,
                           std::optional<std::int64_t> ignore_index, DType dtype, const std::string& loss) {
  check_class_indices(target, classes, loss, ignore_index);
  if (target.shape() != sample_shape)
    fail(loss, "target of shape " + to_string(target.shape()) + " does not match the input: expected " +
                   to_string(sample_shape) + ", the input's shape without its class dim");
  const std::int64_t rows = target.numel();
  const auto* y = target.data<std::int64_t>();
  Tensor index = empty({rows}, DType::Int64);
  auto* safe = index.data<std::int64_t>();
  std::vector<double> kept(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    const bool ignored = ignore_index && y[i] == *ignore_index;
    safe[i] = ignored ? 0 : y[i];
    kept[static_cast<std::size_t>(i)] = ignored ? 0.0 : 1.0;
  }
  return {index, tensor(kept, {rows}, dtype)};
}

}  // namespace zg::checks
