#include "zoograd/core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <vector>

#include "zoograd/core/autograd.h"
#include "zoograd/core/generator.h"

namespace zg {

TensorImpl& Tensor::impl() const {
  if (!impl_) throw std::logic_error("operation on an undefined Tensor (default-constructed or an unset grad)");
  return *impl_;
}

std::int64_t Tensor::size(std::int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

double Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("item(): expected a tensor with one element, got shape " + to_string(shape()));
  return dispatch_all(dtype(), [&]<class T>() { return static_cast<double>(*data<T>()); });
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(numel());
  dispatch_all(dtype(), [&]<class T>() {
    const T* p = data<T>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

Tensor& Tensor::requires_grad_(bool on) {
  if (on && !is_floating(dtype()))
    throw std::invalid_argument(std::string("requires_grad_: only float32/float64 tensors can require gradients, got ") +
                                dtype_name(dtype()));
  if (!is_leaf())
    throw std::invalid_argument("requires_grad_: only leaf tensors can change requires_grad; use detach() first");
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const {
  auto d = std::make_shared<TensorImpl>();
  d->storage = impl().storage;
  d->shape = impl().shape;
  d->dtype = impl().dtype;
  return Tensor(std::move(d));
}

Tensor empty(const Shape& shape, DType dtype) {
  for (std::int64_t d : shape)
    if (d < 0) throw std::invalid_argument("empty: negative dimension in shape " + to_string(shape));
  // Checked before anything is allocated: a byte count that wrapped around would get a small buffer
  // that the caller then fills to the full shape.
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(numel(shape), static_cast<std::int64_t>(dtype_size(dtype)), &bytes))
    throw std::invalid_argument("empty: shape " + to_string(shape) + " of " + dtype_name(dtype) +
                                " needs more bytes than an int64 can count");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(bytes));
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch_all(dtype, [&]<class T>() { std::fill_n(t.data<T>(), t.numel(), static_cast<T>(value)); });
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.impl().storage->data, 0, t.impl().storage->nbytes);
  return t;
}
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw std::invalid_argument("arange: need finite start/end and a nonzero step, got start " + std::to_string(start) +
                                ", end " + std::to_string(end) + ", step " + std::to_string(step));
  auto n = static_cast<std::int64_t>(std::max(0.0, std::ceil((end - start) / step)));
  Tensor t = empty({n}, dtype);
  dispatch_all(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return t;
}
Tensor arange(std::int64_t n, DType dtype) { return arange(0.0, static_cast<double>(n), 1.0, dtype); }

Tensor tensor(const std::vector<double>& values, const Shape& shape, DType dtype) {
  Shape s = shape.empty() ? Shape{static_cast<std::int64_t>(values.size())} : shape;
  if (numel(s) != static_cast<std::int64_t>(values.size()))
    throw std::invalid_argument("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
                                to_string(s) + " (" + std::to_string(numel(s)) + " elements)");
  Tensor t = empty(s, dtype);
  dispatch_all(dtype, [&]<class T>() { std::transform(values.begin(), values.end(), t.data<T>(),
                                                      [](double v) { return static_cast<T>(v); }); });
  return t;
}
Tensor tensor(const std::vector<double>& values, DType dtype) { return tensor(values, {}, dtype); }

template <class T>
Tensor from_data(std::span<const T> values, const Shape& shape) {
  if (numel(shape) != static_cast<std::int64_t>(values.size()))
    throw std::invalid_argument("from_data: " + std::to_string(values.size()) + " values do not fill shape " +
                                to_string(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
template Tensor from_data<float>(std::span<const float>, const Shape&);
template Tensor from_data<double>(std::span<const double>, const Shape&);
template Tensor from_data<std::int64_t>(std::span<const std::int64_t>, const Shape&);

Tensor rand(const Shape& shape, DType dtype) { return rand(shape, dtype, default_generator()); }
Tensor rand(const Shape& shape, DType dtype, Generator& gen) {
  Tensor t = empty(shape, dtype);
  dispatch_float(dtype, "rand", [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0, end = t.numel(); i < end; ++i)
      p[i] = std::is_same_v<T, float> ? static_cast<T>(gen.uniform_float()) : static_cast<T>(gen.uniform());
  });
  return t;
}

Tensor randn(const Shape& shape, DType dtype) { return randn(shape, dtype, default_generator()); }
Tensor randn(const Shape& shape, DType dtype, Generator& gen) {
  Tensor t = empty(shape, dtype);
  dispatch_float(dtype, "randn", [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0, end = t.numel(); i < end; ++i) p[i] = static_cast<T>(gen.normal());
  });
  return t;
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen) {
  if (high <= low)
    throw std::invalid_argument("randint: need low < high, got low " + std::to_string(low) + ", high " +
                                std::to_string(high));
  Tensor t = empty(shape, DType::Int64);
  auto* p = t.data<std::int64_t>();
  for (std::int64_t i = 0, end = t.numel(); i < end; ++i)
    p[i] = low + static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(high - low)));
  return t;
}

// ---- differentiable conversions ----

namespace {
Tensor convert(const Tensor& x, DType dtype) {
  Tensor out = empty(x.shape(), dtype);
  dispatch_all(x.dtype(), [&]<class S>() {
    dispatch_all(dtype, [&]<class D>() {
      const S* src = x.data<S>();
      D* dst = out.data<D>();
      for (std::int64_t i = 0, end = x.numel(); i < end; ++i) dst[i] = static_cast<D>(src[i]);
    });
  });
  return out;
}
}  // namespace

// y = x converted to dtype; dy/dx = 1 (the gradient goes back to x's dtype)
Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  if (dtype == DType::Int64 || this->dtype() == DType::Int64) return convert(*this, dtype);
  return record("to", convert(*this, dtype), {*this},
                [](const Node& n, const Tensor& g) { return Grads{g.to(n.in(0).dtype())}; });
}

void Tensor::copy_(const Tensor& src) const {
  if (src.shape() != shape())
    throw std::invalid_argument("copy_: source of shape " + to_string(src.shape()) + " does not match " +
                                to_string(shape()));
  Tensor converted = convert(src, dtype());
  std::memcpy(impl().storage->data, converted.impl().storage->data, static_cast<std::size_t>(numel()) * dtype_size(dtype()));
}

// y = x (new storage)
Tensor Tensor::clone() const {
  return record("clone", convert(*this, dtype()), {*this}, [](const Node&, const Tensor& g) { return Grads{g}; });
}

// ---- printing ----

namespace {
struct Printer {
  const std::vector<double>& v;
  const Shape& shape;
  bool integer;
  bool scientific = false;
  int width = 0;
  static constexpr std::int64_t kEdge = 3;  // shown at each end of a summarized dimension
  bool summarize = false;

  std::string fmt(double x) const {
    char buf[64];
    if (integer) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(x));
    else if (std::isnan(x)) std::snprintf(buf, sizeof buf, "nan");
    else if (std::isinf(x)) std::snprintf(buf, sizeof buf, x > 0 ? "inf" : "-inf");
    else std::snprintf(buf, sizeof buf, scientific ? "%.4e" : "%.4f", x);
    return buf;
  }
  std::string padded(double x) const {
    std::string s = fmt(x);
    return std::string(static_cast<std::size_t>(std::max<int>(0, width - static_cast<int>(s.size()))), ' ') + s;
  }
  void print(std::string& out, std::size_t d, std::int64_t offset, std::int64_t stride, int indent) const {
    std::int64_t n = shape[d];
    std::int64_t inner = stride / std::max<std::int64_t>(n, 1);
    out += '[';
    for (std::int64_t i = 0; i < n; ++i) {
      if (summarize && n > 2 * kEdge && i == kEdge) {
        out += d + 1 == shape.size() ? "..., " : "...,\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
        i = n - kEdge;
      }
      if (d + 1 == shape.size()) out += padded(v[static_cast<std::size_t>(offset + i)]);
      else print(out, d + 1, offset + i * inner, inner, indent + 1);
      if (i + 1 < n) out += d + 1 == shape.size() ? ", " : ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
    }
    out += ']';
  }
};
}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> v = to_vector();
  Printer p{v, shape(), dtype() == DType::Int64};
  p.summarize = numel() > 1000;
  double max_abs = 0, min_abs = INFINITY;
  for (double x : v)
    if (std::isfinite(x)) {
      max_abs = std::max(max_abs, std::abs(x));
      if (x != 0) min_abs = std::min(min_abs, std::abs(x));
    }
  p.scientific = !p.integer && (max_abs >= 1e8 || (min_abs < 1e-4 && max_abs > 0));
  for (double x : v) p.width = std::max(p.width, static_cast<int>(p.fmt(x).size()));
  std::string body;
  if (shape().empty()) body = p.fmt(v[0]);
  else p.print(body, 0, 0, numel(), 7);
  std::string r = "tensor(" + body;
  if (dtype() != DType::Float32) r += std::string(", dtype=") + dtype_name(dtype());
  if (grad_fn()) r += std::string(", grad_fn=") + grad_fn()->name;
  else if (requires_grad()) r += ", requires_grad=true";
  return r + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace zg
