// Reductions, broadcasting and its adjoint, and the fused softmax family.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "zoograd/core/kernels/loops.h"
#include "zoograd/core/kernels/reduce.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

using kernel::Reduce;

// Wrapped, sorted, unique dims; an empty list means all dims.
Dims normalize_dims(const Dims& dims, std::int64_t rank, const char* op) {
  Dims d;
  if (dims.empty())
    for (std::int64_t i = 0; i < rank; ++i) d.push_back(i);
  for (std::int64_t x : dims) d.push_back(wrap_dim(x, rank, op));
  std::sort(d.begin(), d.end());
  if (std::adjacent_find(d.begin(), d.end()) != d.end())
    throw std::invalid_argument(std::string(op) + ": dimension listed twice");
  return d;
}

Shape keep_shape(const Shape& s, const Dims& dims) {
  Shape k = s;
  for (std::int64_t d : dims) k[d] = 1;
  return k;
}

Shape drop_shape(const Shape& s, const Dims& dims) {
  Shape k;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(s.size()); ++i)
    if (!std::binary_search(dims.begin(), dims.end(), i)) k.push_back(s[i]);
  return k;
}

// The reduction of x over dims with the reduced dims kept at size 1 (no graph).
Tensor reduce_values(const Tensor& x, const Dims& dims, Reduce kind, const char* op) {
  if (kind != Reduce::Sum)
    for (std::int64_t d : dims)
      if (x.shape()[d] == 0)
        throw std::invalid_argument(std::string(op) + ": cannot reduce over an empty dimension " + std::to_string(d) +
                                    " of shape " + to_string(x.shape()));
  if (x.numel() == 0) return zeros(keep_shape(x.shape(), dims), x.dtype());
  Tensor out = empty(keep_shape(x.shape(), dims), x.dtype());
  dispatch_float(x.dtype(), op,
                 [&]<class T>() { kernel::reduce(x.data<T>(), out.data<T>(), x.shape(), dims, out.numel(), kind); });
  return out;
}

Tensor shaped(const Tensor& values, const Shape& shape) {
  Tensor t = values.detach();
  t.impl().shape = shape;
  return t;
}

// The gradient of amax/amin: g shared equally among the elements equal to the extreme.
Tensor extreme_backward(const Node& n, const Tensor& g, const Dims& dims) {
  const Tensor& x = n.in(0);
  Shape keep = keep_shape(x.shape(), dims);
  Tensor mask = eq(x, reshape(n.out(), keep));
  return reshape(g, keep) * mask / sum(mask, dims, {.keepdim = true});
}

}  // namespace

// y = Σ_dims x   dy/dx = 1 (the gradient is broadcast back over dims)
Tensor sum(const Tensor& x, const Dims& dims0, const ReduceOptions& options) {
  Dims dims = normalize_dims(dims0, x.dim(), "sum");
  Shape keep = keep_shape(x.shape(), dims);
  Tensor out = shaped(reduce_values(x, dims, Reduce::Sum, "sum"), options.keepdim ? keep : drop_shape(x.shape(), dims));
  return record("sum", out, {x}, [keep](const Node& n, const Tensor& g) {
    return Grads{broadcast_to(reshape(g, keep), n.in(0).shape())};
  });
}
Tensor sum(const Tensor& x) { return sum(x, {}); }

// y = Σ_dims x / count
Tensor mean(const Tensor& x, const Dims& dims0, const ReduceOptions& options) {
  Dims dims = normalize_dims(dims0, x.dim(), "mean");
  std::int64_t count = 1;
  for (std::int64_t d : dims) count *= x.shape()[d];
  return sum(x, dims, options) / static_cast<double>(count);
}
Tensor mean(const Tensor& x) { return mean(x, {}); }

// y = max_dims x   dy/dx = [x = y] / #ties
Tensor amax(const Tensor& x, const Dims& dims0, const ReduceOptions& options) {
  Dims dims = normalize_dims(dims0, x.dim(), "amax");
  Tensor out = shaped(reduce_values(x, dims, Reduce::Max, "amax"),
                      options.keepdim ? keep_shape(x.shape(), dims) : drop_shape(x.shape(), dims));
  return record("amax", out, {x},
                [dims](const Node& n, const Tensor& g) { return Grads{extreme_backward(n, g, dims)}; });
}

// y = min_dims x   dy/dx = [x = y] / #ties
Tensor amin(const Tensor& x, const Dims& dims0, const ReduceOptions& options) {
  Dims dims = normalize_dims(dims0, x.dim(), "amin");
  Tensor out = shaped(reduce_values(x, dims, Reduce::Min, "amin"),
                      options.keepdim ? keep_shape(x.shape(), dims) : drop_shape(x.shape(), dims));
  return record("amin", out, {x},
                [dims](const Node& n, const Tensor& g) { return Grads{extreme_backward(n, g, dims)}; });
}
Tensor max(const Tensor& x) { return amax(x, {}); }
Tensor min(const Tensor& x) { return amin(x, {}); }

namespace {
Tensor arg_extreme(const Tensor& x, std::int64_t dim0, bool keepdim, bool want_max, const char* op) {
  std::int64_t dim = wrap_dim(dim0, x.dim(), op);
  kernel::DimView v(x.shape(), dim);
  if (v.n == 0) throw std::invalid_argument(std::string(op) + ": dimension " + std::to_string(dim) + " is empty");
  Shape s = x.shape();
  if (keepdim) s[dim] = 1;
  else s.erase(s.begin() + dim);
  Tensor out = empty(s, DType::Int64);
  auto* o = out.data<std::int64_t>();
  dispatch_float(x.dtype(), op, [&]<class T>() {
    const T* p = x.data<T>();
    for (std::int64_t a = 0; a < v.outer; ++a)
      for (std::int64_t i = 0; i < v.inner; ++i) {
        const T* base = p + a * v.n * v.inner + i;
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < v.n; ++k) {
          T c = base[k * v.inner], b = base[best * v.inner];
          if (std::isnan(b)) break;
          if (std::isnan(c) || (want_max ? c > b : c < b)) best = k;
        }
        o[a * v.inner + i] = best;
      }
  });
  return out;
}
}  // namespace

Tensor argmax(const Tensor& x, std::int64_t dim, const ReduceOptions& o) { return arg_extreme(x, dim, o.keepdim, true, "argmax"); }
Tensor argmin(const Tensor& x, std::int64_t dim, const ReduceOptions& o) { return arg_extreme(x, dim, o.keepdim, false, "argmin"); }

// y = m + log Σ_dims e^(x - m), m = max x (0 when m is ±inf)   dy/dx = e^(x - y)
// A slice that is all -inf gives y = -inf and gradient 0 (y is replaced by 0 in e^(x - y)).
Tensor logsumexp(const Tensor& x, const Dims& dims0, const ReduceOptions& options) {
  Dims dims = normalize_dims(dims0, x.dim(), "logsumexp");
  Shape keep = keep_shape(x.shape(), dims);
  Tensor y;
  {
    NoGradGuard no_grad;
    Tensor m = amax(x, dims, {.keepdim = true});
    m = where(isfinite(m), m, scalar(0.0, m.dtype()));
    y = m + log(sum(exp(x - m), dims, {.keepdim = true}));
  }
  Tensor out = shaped(y, options.keepdim ? keep : drop_shape(x.shape(), dims));
  return record("logsumexp", out, {x}, [keep](const Node& n, const Tensor& g) {
    Tensor yk = reshape(n.out(), keep);
    Tensor safe_y = where(isfinite(yk), yk, scalar(0.0, yk.dtype()));
    return Grads{reshape(g, keep) * exp(n.in(0) - safe_y)};
  });
}

namespace {
// Softmax (or log-softmax) along dim in one pass per slice: max, Σ e^(x - max), then the output.
template <class T>
Tensor softmax_values(const Tensor& x, std::int64_t dim, bool log_space) {
  kernel::DimView v(x.shape(), dim);
  Tensor out = empty(x.shape(), x.dtype());
  const T* p = x.data<T>();
  T* o = out.data<T>();
  for (std::int64_t a = 0; a < v.outer; ++a)
    for (std::int64_t i = 0; i < v.inner; ++i) {
      const T* in = p + a * v.n * v.inner + i;
      T* dst = o + a * v.n * v.inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (std::int64_t k = 0; k < v.n; ++k) m = std::max(m, in[k * v.inner]);
      if (!std::isfinite(m)) m = 0;
      double s = 0;
      for (std::int64_t k = 0; k < v.n; ++k) s += std::exp(static_cast<double>(in[k * v.inner] - m));
      if (log_space) {
        T lse = m + static_cast<T>(std::log(s));
        for (std::int64_t k = 0; k < v.n; ++k) dst[k * v.inner] = in[k * v.inner] - lse;
      } else {
        for (std::int64_t k = 0; k < v.n; ++k)
          dst[k * v.inner] = static_cast<T>(std::exp(static_cast<double>(in[k * v.inner] - m)) / s);
      }
    }
  return out;
}
}  // namespace

// y_i = e^(x_i) / Σ_j e^(x_j) along dim   dx = y ⊙ (g - Σ_j g_j y_j)
Tensor softmax(const Tensor& x, std::int64_t dim0) {
  std::int64_t dim = wrap_dim(dim0, x.dim(), "softmax");
  Tensor out = dispatch_float(x.dtype(), "softmax", [&]<class T>() { return softmax_values<T>(x, dim, false); });
  return record("softmax", out, {x}, [dim](const Node& n, const Tensor& g) {
    Tensor y = n.out();
    return Grads{y * (g - sum(g * y, {dim}, {.keepdim = true}))};
  });
}

// y_i = x_i - log Σ_j e^(x_j) along dim   dx = g - e^y · Σ_j g_j
Tensor log_softmax(const Tensor& x, std::int64_t dim0) {
  std::int64_t dim = wrap_dim(dim0, x.dim(), "log_softmax");
  Tensor out = dispatch_float(x.dtype(), "log_softmax", [&]<class T>() { return softmax_values<T>(x, dim, true); });
  return record("log_softmax", out, {x}, [dim](const Node& n, const Tensor& g) {
    return Grads{g - exp(n.out()) * sum(g, {dim}, {.keepdim = true})};
  });
}

// y = x repeated along the dims where x has size 1 (or is missing)   dx = sum_to(g, x.shape)
Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (broadcast_shapes(x.shape(), shape, "broadcast_to") != shape)
    throw std::invalid_argument("broadcast_to: shape " + to_string(x.shape()) + " cannot be broadcast to " +
                                to_string(shape));
  if (x.shape() == shape) return x;
  Tensor out = empty(shape, x.dtype());
  dispatch_all(x.dtype(), [&]<class T>() {
    const T* p = x.data<T>();
    T* o = out.data<T>();
    kernel::broadcast_loop(x.shape(), shape, shape, [&](std::int64_t i, std::int64_t ia, std::int64_t) { o[i] = p[ia]; });
  });
  if (!is_floating(x.dtype())) return out;
  return record("broadcast_to", out, {x},
                [](const Node& n, const Tensor& g) { return Grads{sum_to(g, n.in(0).shape())}; });
}

// Sums x over the dims that broadcasting to x.shape() added or stretched, giving shape.
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (broadcast_shapes(shape, x.shape(), "sum_to") != x.shape())
    throw std::invalid_argument("sum_to: shape " + to_string(x.shape()) + " is not a broadcast of " + to_string(shape));
  std::size_t lead = x.shape().size() - shape.size();
  Dims dims;
  for (std::size_t i = 0; i < x.shape().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) dims.push_back(static_cast<std::int64_t>(i));
  return reshape(sum(x, dims, {.keepdim = true}), shape);
}

}  // namespace zg
