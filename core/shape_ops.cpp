// Shape ops: reshape, permute, concat, slicing and indexing, one_hot, normalize.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "zoograd/core/kernels/loops.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

// Copies of whole elements, whatever the dtype.
std::byte* bytes(const Tensor& t) { return static_cast<std::byte*>(t.impl().storage->data); }

Tensor copy_of(const Tensor& t) {
  Tensor out = empty(t.shape(), t.dtype());
  std::memcpy(bytes(out), bytes(t), static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()));
  return out;
}

void check_index(const Tensor& index, const char* op) {
  if (index.dtype() != DType::Int64)
    throw std::invalid_argument(std::string(op) + ": index must be an int64 tensor, got " + dtype_name(index.dtype()));
}

void check_range(std::int64_t v, std::int64_t size, std::int64_t pos, const char* op, const char* what) {
  if (v < 0 || v >= size)
    throw std::invalid_argument(std::string(op) + ": " + what + " " + std::to_string(v) + " at position " +
                                std::to_string(pos) + " is out of range [0, " + std::to_string(size) + ")");
}

// Python slice bounds: negative values count from the end, then clipped to [0, size].
struct SliceRange {
  std::int64_t start, step, count;
};
SliceRange slice_range(std::int64_t size, std::int64_t start, std::int64_t end, std::int64_t step, const char* op) {
  if (step < 1) throw std::invalid_argument(std::string(op) + ": step must be positive, got " + std::to_string(step));
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<std::int64_t>(start, 0, size);
  end = std::clamp<std::int64_t>(end, 0, size);
  return {start, step, end > start ? (end - start + step - 1) / step : 0};
}

}  // namespace

// y = x with a new shape (one -1 inferred); shares storage   dx = reshape(g, x.shape)
Tensor reshape(const Tensor& x, const Shape& shape0) {
  Shape shape = shape0;
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw std::invalid_argument("reshape: only one dimension can be -1, got " + to_string(shape0));
      infer = static_cast<std::int64_t>(i);
    } else if (shape[i] < 0) {
      throw std::invalid_argument("reshape: invalid dimension in " + to_string(shape0));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0 && known > 0 && x.numel() % known == 0) shape[infer] = x.numel() / known;
  if (numel(shape) != x.numel() || (infer >= 0 && known == 0))
    throw std::invalid_argument("reshape: cannot view shape " + to_string(x.shape()) + " (" + std::to_string(x.numel()) +
                                " elements) as " + to_string(shape0));
  if (shape == x.shape()) return x;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl().storage;
  impl->shape = shape;
  impl->dtype = x.dtype();
  Tensor out(std::move(impl));
  if (!is_floating(x.dtype())) return out;
  return record("reshape", out, {x}, [](const Node& n, const Tensor& g) { return Grads{reshape(g, n.in(0).shape())}; });
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  std::int64_t s = wrap_dim(start_dim, x.dim(), "flatten"), e = wrap_dim(end_dim, x.dim(), "flatten");
  if (s > e) throw std::invalid_argument("flatten: start_dim " + std::to_string(start_dim) + " is after end_dim " +
                                         std::to_string(end_dim));
  // The merged size is computed rather than inferred with -1, which reshape cannot infer for an
  // empty tensor: (2, 0, 3) flattened from dim 1 is (2, 0).
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  std::int64_t merged = 1;
  for (std::int64_t d = s; d <= e; ++d) merged *= x.shape()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  std::int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape();
  s.insert(s.begin() + d, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  std::int64_t d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[d] != 1) return x;
  Shape s = x.shape();
  s.erase(s.begin() + d);
  return reshape(x, s);
}

// y = x with dims reordered: y.shape[i] = x.shape[order[i]]   dx = permute(g, order⁻¹)
Tensor permute(const Tensor& x, const Dims& order0) {
  std::int64_t rank = x.dim();
  if (static_cast<std::int64_t>(order0.size()) != rank)
    throw std::invalid_argument("permute: order has " + std::to_string(order0.size()) + " dims for a tensor of shape " +
                                to_string(x.shape()));
  Dims order;
  for (std::int64_t d : order0) order.push_back(wrap_dim(d, rank, "permute"));
  Dims inverse(order.size(), -1);
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (inverse[order[i]] != -1) throw std::invalid_argument("permute: dimension listed twice in the order");
    inverse[order[i]] = static_cast<std::int64_t>(i);
  }
  Shape shape(order.size());
  std::vector<std::int64_t> src = contiguous_strides(x.shape()), step(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    shape[i] = x.shape()[order[i]];
    step[i] = src[order[i]];
  }
  Tensor out = empty(shape, x.dtype());
  dispatch_all(x.dtype(), [&]<class T>() { kernel::permute_copy(x.data<T>(), out.data<T>(), shape, order, step); });
  if (!is_floating(x.dtype())) return out;
  return record("permute", out, {x}, [inverse](const Node&, const Tensor& g) { return Grads{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
  Dims order(static_cast<std::size_t>(x.dim()));
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[wrap_dim(dim0, x.dim(), "transpose")], order[wrap_dim(dim1, x.dim(), "transpose")]);
  return permute(x, order);
}

// y = [x_0, x_1, ...] along dim   dx_i = the matching slice of g
Tensor concat(const std::vector<Tensor>& xs, std::int64_t dim0) {
  if (xs.empty()) throw std::invalid_argument("concat: needs at least one tensor");
  const Tensor& first = xs[0];
  std::int64_t dim = wrap_dim(dim0, first.dim(), "concat");
  Shape shape = first.shape();
  shape[dim] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    Shape s = xs[i].shape();
    if (xs[i].dtype() != first.dtype() || s.size() != shape.size())
      throw std::invalid_argument("concat: tensor " + std::to_string(i) + " (" + dtype_name(xs[i].dtype()) + " " +
                                  to_string(s) + ") does not match tensor 0 (" + dtype_name(first.dtype()) + " " +
                                  to_string(first.shape()) + ")");
    for (std::size_t d = 0; d < s.size(); ++d)
      if (static_cast<std::int64_t>(d) != dim && s[d] != first.shape()[d])
        throw std::invalid_argument("concat: tensor " + std::to_string(i) + " has shape " + to_string(s) +
                                    ", tensor 0 has " + to_string(first.shape()) + "; only dimension " +
                                    std::to_string(dim) + " may differ");
    shape[dim] += s[dim];
  }
  Tensor out = empty(shape, first.dtype());
  kernel::DimView v(shape, dim);
  std::size_t esize = dtype_size(first.dtype());
  std::int64_t offset = 0;
  std::vector<std::int64_t> starts;
  for (const Tensor& x : xs) {
    std::int64_t block = x.shape()[dim] * v.inner;
    for (std::int64_t a = 0; a < v.outer; ++a)
      std::memcpy(bytes(out) + static_cast<std::size_t>(a * v.n * v.inner + offset) * esize,
                  bytes(x) + static_cast<std::size_t>(a * block) * esize, static_cast<std::size_t>(block) * esize);
    starts.push_back(offset / std::max<std::int64_t>(v.inner, 1));
    offset += block;
  }
  if (!is_floating(first.dtype())) return out;
  return record("concat", out, xs, [dim, starts](const Node& n, const Tensor& g) {
    Grads gs;
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
      gs.push_back(n.needs_grad(i) ? slice(g, dim, starts[i], starts[i] + n.in(i).shape()[dim]) : Tensor());
    return gs;
  });
}

Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim) {
  if (xs.empty()) throw std::invalid_argument("stack: needs at least one tensor");
  std::int64_t d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& x : xs) {
    if (x.shape() != xs[0].shape())
      throw std::invalid_argument("stack: all tensors need one shape, got " + to_string(xs[0].shape()) + " and " +
                                  to_string(x.shape()));
    parts.push_back(unsqueeze(x, d));
  }
  return concat(parts, d);
}

namespace {
// Copies between x and the strided slice of a tensor of the same shape but dim, in either direction.
void copy_slice(const Tensor& full, const Tensor& part, std::int64_t dim, SliceRange r, bool into_full) {
  kernel::DimView vf(full.shape(), dim), vp(part.shape(), dim);
  std::size_t esize = dtype_size(full.dtype());
  std::size_t row = static_cast<std::size_t>(vf.inner) * esize;
  for (std::int64_t a = 0; a < vf.outer; ++a)
    for (std::int64_t k = 0; k < r.count; ++k) {
      std::byte* f = bytes(full) + static_cast<std::size_t>((a * vf.n + r.start + k * r.step) * vf.inner) * esize;
      std::byte* p = bytes(part) + static_cast<std::size_t>((a * vp.n + k) * vp.inner) * esize;
      if (into_full) std::memcpy(f, p, row);
      else std::memcpy(p, f, row);
    }
}
}  // namespace

// y = x[start:end:step] along dim   dx = g placed back into zeros of x's shape
Tensor slice(const Tensor& x, std::int64_t dim0, std::int64_t start, std::int64_t end, std::int64_t step) {
  std::int64_t dim = wrap_dim(dim0, x.dim(), "slice");
  SliceRange r = slice_range(x.shape()[dim], start, end, step, "slice");
  Shape shape = x.shape();
  shape[dim] = r.count;
  Tensor out = empty(shape, x.dtype());
  copy_slice(x, out, dim, r, false);
  if (!is_floating(x.dtype())) return out;
  std::int64_t s = r.start, e = r.start + r.count * r.step;
  return record("slice", out, {x}, [dim, s, e, step](const Node& n, const Tensor& g) {
    return Grads{slice_scatter(zeros_like(n.in(0)), g, dim, s, e, step)};
  });
}

// y = base with base[start:end:step] (along dim) := src   dbase = g with that slice zeroed, dsrc = g's slice
Tensor slice_scatter(const Tensor& base, const Tensor& src, std::int64_t dim0, std::int64_t start, std::int64_t end,
                     std::int64_t step) {
  std::int64_t dim = wrap_dim(dim0, base.dim(), "slice_scatter");
  SliceRange r = slice_range(base.shape()[dim], start, end, step, "slice_scatter");
  Shape expect = base.shape();
  expect[dim] = r.count;
  if (src.shape() != expect || src.dtype() != base.dtype())
    throw std::invalid_argument("slice_scatter: src must be a " + std::string(dtype_name(base.dtype())) + " tensor of shape " +
                                to_string(expect) + ", got " + dtype_name(src.dtype()) + " " + to_string(src.shape()));
  Tensor out = copy_of(base);
  copy_slice(out, src, dim, r, true);
  if (!is_floating(base.dtype())) return out;
  std::int64_t s = r.start, e = r.start + r.count * r.step;
  return record("slice_scatter", out, {base, src}, [dim, s, e, step](const Node& n, const Tensor& g) {
    return Grads{n.needs_grad(0) ? slice_scatter(g, zeros_like(n.in(1)), dim, s, e, step) : Tensor(),
                 n.needs_grad(1) ? slice(g, dim, s, e, step) : Tensor()};
  });
}

// y = x[..., index[k], ...] along dim   dx = index_add(0, dim, index, g)
Tensor index_select(const Tensor& x, std::int64_t dim0, const Tensor& index) {
  check_index(index, "index_select");
  if (index.dim() != 1)
    throw std::invalid_argument("index_select: index must be 1-D, got shape " + to_string(index.shape()));
  std::int64_t dim = wrap_dim(dim0, x.dim(), "index_select");
  kernel::DimView v(x.shape(), dim);
  const auto* idx = index.data<std::int64_t>();
  for (std::int64_t k = 0, end = index.numel(); k < end; ++k) check_range(idx[k], v.n, k, "index_select", "index");
  Shape shape = x.shape();
  shape[dim] = index.numel();
  Tensor out = empty(shape, x.dtype());
  std::size_t esize = dtype_size(x.dtype()), row = static_cast<std::size_t>(v.inner) * esize;
  for (std::int64_t a = 0; a < v.outer; ++a)
    for (std::int64_t k = 0, end = index.numel(); k < end; ++k)
      std::memcpy(bytes(out) + static_cast<std::size_t>((a * index.numel() + k) * v.inner) * esize,
                  bytes(x) + static_cast<std::size_t>((a * v.n + idx[k]) * v.inner) * esize, row);
  if (!is_floating(x.dtype())) return out;
  Tensor saved = index.detach();
  return record("index_select", out, {x}, [dim, saved](const Node& n, const Tensor& g) {
    return Grads{index_add(zeros_like(n.in(0)), dim, saved, g)};
  });
}

// y = base; y[..., index[k], ...] += src[..., k, ...] along dim   dbase = g, dsrc = index_select(g, dim, index)
Tensor index_add(const Tensor& base, std::int64_t dim0, const Tensor& index, const Tensor& src) {
  check_index(index, "index_add");
  std::int64_t dim = wrap_dim(dim0, base.dim(), "index_add");
  Shape expect = base.shape();
  expect[dim] = index.numel();
  if (index.dim() != 1 || src.shape() != expect || src.dtype() != base.dtype())
    throw std::invalid_argument("index_add: expected a 1-D index and src of shape " + to_string(expect) + ", got index " +
                                to_string(index.shape()) + " and src " + to_string(src.shape()));
  kernel::DimView v(base.shape(), dim);
  const auto* idx = index.data<std::int64_t>();
  for (std::int64_t k = 0, end = index.numel(); k < end; ++k) check_range(idx[k], v.n, k, "index_add", "index");
  Tensor out = copy_of(base);
  dispatch_float(base.dtype(), "index_add", [&]<class T>() {
    T* o = out.data<T>();
    const T* p = src.data<T>();
    for (std::int64_t a = 0; a < v.outer; ++a)
      for (std::int64_t k = 0, end = index.numel(); k < end; ++k)
        for (std::int64_t i = 0; i < v.inner; ++i)
          o[(a * v.n + idx[k]) * v.inner + i] += p[(a * index.numel() + k) * v.inner + i];
  });
  Tensor saved = index.detach();
  return record("index_add", out, {base, src}, [dim, saved](const Node& n, const Tensor& g) {
    return Grads{n.needs_grad(0) ? g : Tensor(), n.needs_grad(1) ? index_select(g, dim, saved) : Tensor()};
  });
}

namespace {
// Calls f(offset in x-like tensor of shape full, offset in index) for every element of index,
// where the x offset uses index's value along dim.
template <class F>
void for_each_gathered(const Shape& full, const Tensor& index, std::int64_t dim, const char* op, F f) {
  if (index.dim() != static_cast<std::int64_t>(full.size()))
    throw std::invalid_argument(std::string(op) + ": index of shape " + to_string(index.shape()) +
                                " must have the rank of the input " + to_string(full));
  for (std::size_t d = 0; d < full.size(); ++d)
    if (static_cast<std::int64_t>(d) != dim && index.shape()[d] > full[d])
      throw std::invalid_argument(std::string(op) + ": index of shape " + to_string(index.shape()) +
                                  " is larger than the input " + to_string(full) + " in dimension " + std::to_string(d));
  std::vector<std::int64_t> st = contiguous_strides(full), idx(full.size(), 0);
  const std::int64_t along = st[dim], size = full[dim];
  st[dim] = 0;  // dim's offset comes from the index value, not the position
  // The innermost dim runs as a plain loop; the outer ones step a base offset.
  const std::size_t last = full.size() - 1;
  const std::int64_t inner = index.shape()[last], step = st[last];
  const auto* p = index.data<std::int64_t>();
  std::int64_t base = 0;
  for (std::int64_t i = 0, end = index.numel(); i < end; i += inner) {
    for (std::int64_t j = 0; j < inner; ++j) {
      if (p[i + j] < 0 || p[i + j] >= size) check_range(p[i + j], size, i + j, op, "index");
      f(base + j * step + p[i + j] * along, i + j);
    }
    for (std::size_t d = last; d-- > 0;) {
      base += st[d];
      if (++idx[d] < index.shape()[d]) break;
      base -= st[d] * index.shape()[d];
      idx[d] = 0;
    }
  }
}
}  // namespace

// y[i][j] = x[i][index[i][j]] (dim 1; likewise for any dim)   dx = scatter_add(0, dim, index, g)
Tensor gather(const Tensor& x, std::int64_t dim0, const Tensor& index) {
  check_index(index, "gather");
  std::int64_t dim = wrap_dim(dim0, x.dim(), "gather");
  Tensor out = empty(index.shape(), x.dtype());
  dispatch_all(x.dtype(), [&]<class T>() {
    const T* p = x.data<T>();
    T* o = out.data<T>();
    for_each_gathered(x.shape(), index, dim, "gather", [&](std::int64_t xo, std::int64_t i) { o[i] = p[xo]; });
  });
  if (!is_floating(x.dtype())) return out;
  Tensor saved = index.detach();
  return record("gather", out, {x}, [dim, saved](const Node& n, const Tensor& g) {
    return Grads{scatter_add(zeros_like(n.in(0)), dim, saved, g)};
  });
}

// y = base; y[i][index[i][j]] += src[i][j] (dim 1; likewise for any dim)   dbase = g, dsrc = gather(g, dim, index)
Tensor scatter_add(const Tensor& base, std::int64_t dim0, const Tensor& index, const Tensor& src) {
  check_index(index, "scatter_add");
  std::int64_t dim = wrap_dim(dim0, base.dim(), "scatter_add");
  if (src.shape() != index.shape() || src.dtype() != base.dtype())
    throw std::invalid_argument("scatter_add: src of shape " + to_string(src.shape()) + " must match index of shape " +
                                to_string(index.shape()) + " and base's dtype");
  Tensor out = copy_of(base);
  dispatch_float(base.dtype(), "scatter_add", [&]<class T>() {
    T* o = out.data<T>();
    const T* p = src.data<T>();
    for_each_gathered(base.shape(), index, dim, "scatter_add", [&](std::int64_t xo, std::int64_t i) { o[xo] += p[i]; });
  });
  Tensor saved = index.detach();
  return record("scatter_add", out, {base, src}, [dim, saved](const Node& n, const Tensor& g) {
    return Grads{n.needs_grad(0) ? g : Tensor(), n.needs_grad(1) ? gather(g, dim, saved) : Tensor()};
  });
}

Tensor one_hot(const Tensor& index, std::int64_t num_classes, DType dtype) {
  check_index(index, "one_hot");
  if (num_classes < 1)
    throw std::invalid_argument("one_hot: num_classes must be positive, got " + std::to_string(num_classes));
  Shape shape = index.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, dtype);
  const auto* p = index.data<std::int64_t>();
  for (std::int64_t i = 0, end = index.numel(); i < end; ++i) check_range(p[i], num_classes, i, "one_hot", "class");
  dispatch_all(dtype, [&]<class T>() {
    T* o = out.data<T>();
    for (std::int64_t i = 0, end = index.numel(); i < end; ++i) o[i * num_classes + p[i]] = T(1);
  });
  return out;
}

// y = x / max(‖x‖_p, eps) along dim, as x / max(Σ|x|^p, eps^p)^(1/p): the clamp keeps the gradient
// of a zero vector finite (zero).
Tensor normalize(const Tensor& x, double p, std::int64_t dim, double eps) {
  if (!(p > 0)) throw std::invalid_argument("normalize: p must be positive, got " + std::to_string(p));
  if (p == 2) return x / sqrt(clamp(sum(x * x, {dim}, {.keepdim = true}), eps * eps));
  return x / pow(clamp(sum(pow(abs(x), p), {dim}, {.keepdim = true}), std::pow(eps, p)), 1.0 / p);
}

}  // namespace zg
