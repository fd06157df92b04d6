// Convolution as im2col + GEMM, a few images at a time so that the columns stay in cache.
#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "zoograd/core/autograd.h"
#include "zoograd/core/kernels/loops.h"
#include "zoograd/core/kernels/direct_conv.h"
#include "zoograd/core/kernels/geometry.h"
#include "zoograd/core/kernels/im2col.h"
#include "zoograd/core/ops.h"
#include "zoograd/core/kernels/parallel.h"

namespace zg {

namespace {

using kernel::add_columns;
using kernel::fill_columns;
using kernel::Geometry;
using kernel::geometry;

// Images per chunk of a convolution: their columns take about this much, so that making them,
// multiplying them and (in the backward) adding them back stay in a core's cache. Columns of the
// whole batch went to memory and back three times a step: a third of a CNN epoch.
constexpr std::int64_t kChunkBytes = 256 << 10;

struct Chunks {
  std::int64_t images, count;
};

Chunks chunks_of(const Geometry& g, std::size_t element) {
  const std::int64_t per_image = g.c * g.kh * g.kw * g.oh * g.ow * static_cast<std::int64_t>(element);
  const std::int64_t images =
      std::clamp<std::int64_t>(kChunkBytes / std::max<std::int64_t>(per_image, 1), 1, std::max<std::int64_t>(g.n, 1));
  return {images, (g.n + images - 1) / images};
}

// Chunk i: its images [n0, n0 + part.n) as a geometry of their own, and its width in columns.
struct Chunk {
  Geometry part;
  std::int64_t n0, width;
};

Chunk chunk_at(const Geometry& g, const Chunks& ch, std::int64_t i) {
  Geometry part = g;
  part.n = std::min(ch.images, g.n - i * ch.images);
  return {part, i * ch.images, part.n * g.oh * g.ow};
}

// y = W·im2col(x) + b laid out as NCHW, a chunk of images at a time, chunks in parallel.
//   x:(N,C,H,W) w:(O, C·kh·kw) b:(O) or null -> y:(N,O,oh,ow)
template <class T>
void conv_forward(const Geometry& g, std::int64_t o, const T* x, const T* w, const T* b, T* y) {
  const std::int64_t rows = g.c * g.kh * g.kw, area = g.oh * g.ow;
  const Chunks ch = chunks_of(g, sizeof(T));
  parallel_for(ch.count, 1, [=](std::int64_t c0, std::int64_t c1) {
    Tensor cols = empty({rows * ch.images * area}, dtype_of<T>()), product = empty({o * ch.images * area}, dtype_of<T>());
    T* col = cols.data<T>();
    T* prod = product.data<T>();
    for (std::int64_t i = c0; i < c1; ++i) {
      const auto [part, n0, width] = chunk_at(g, ch, i);
      fill_columns(part, x + n0 * g.c * g.h * g.w, col);
      kernel::gemm(false, false, o, width, rows, w, rows, col, width, T(0), prod, width);
      // (O, n, oh·ow) -> (n, O, oh·ow), adding the bias on the way.
      for (std::int64_t im = 0; im < part.n; ++im)
        for (std::int64_t oc = 0; oc < o; ++oc) {
          const T* src = prod + (oc * part.n + im) * area;
          T* dst = y + ((n0 + im) * o + oc) * area;
          const T shift = b ? b[oc] : T(0);
          for (std::int64_t e = 0; e < area; ++e) dst[e] = src[e] + shift;
        }
    }
  });
}

// With G a chunk's gy as (O, n·oh·ow): dW = Σ over chunks of G·im2col(x)ᵀ, dx = col2im(Wᵀ·G) chunk by
// chunk. dx (zeroed) or dw may be null. Each part of the chunks sums its own dW, and the parts are
// added in order, so the result does not depend on which thread finishes first.
template <class T>
void conv_backward(const Geometry& g, std::int64_t o, const T* x, const T* w, const T* gy, T* dx, T* dw) {
  const std::int64_t rows = g.c * g.kh * g.kw, area = g.oh * g.ow;
  const Chunks ch = chunks_of(g, sizeof(T));
  std::mutex mutex;
  std::map<std::int64_t, Tensor> partial;  // by first chunk
  parallel_for(ch.count, 1, [&, g, o, x, w, gy, dx, dw, ch](std::int64_t c0, std::int64_t c1) {
    Tensor cols = empty({rows * ch.images * area}, dtype_of<T>()), grad = empty({o * ch.images * area}, dtype_of<T>());
    Tensor sum = dw ? zeros({o * rows}, dtype_of<T>()) : Tensor();
    T* col = cols.data<T>();
    T* gr = grad.data<T>();
    for (std::int64_t i = c0; i < c1; ++i) {
      const auto [part, n0, width] = chunk_at(g, ch, i);
      for (std::int64_t im = 0; im < part.n; ++im)
        for (std::int64_t oc = 0; oc < o; ++oc)
          std::copy_n(gy + ((n0 + im) * o + oc) * area, area, gr + oc * width + im * area);
      if (dw) {
        fill_columns(part, x + n0 * g.c * g.h * g.w, col);
        kernel::gemm(false, true, o, rows, width, gr, width, col, width, T(1), sum.data<T>(), rows);
      }
      if (dx) {
        kernel::gemm(true, false, rows, width, o, w, rows, gr, width, T(0), col, width);
        add_columns(part, col, dx + n0 * g.c * g.h * g.w);
      }
    }
    if (dw) {
      std::lock_guard lock(mutex);
      partial.emplace(c0, sum);
    }
  });
  if (!dw) return;
  std::fill_n(dw, o * rows, T(0));
  for (const auto& entry : partial) {
    const Tensor& sum = entry.second;
    const T* p = sum.data<T>();
    for (std::int64_t e = 0; e < o * rows; ++e) dw[e] += p[e];
  }
}

// The direct kernels' view of a stride-1 convolution they take (core/kernels/direct_conv.h).
std::optional<kernel::DirectConv> direct_conv(const Geometry& g, std::int64_t o) {
  const kernel::DirectConv s{g.n, g.c, g.h, g.w, o, g.kh, g.kw, g.ph, g.pw};
  if (g.sh != 1 || g.sw != 1 || !kernel::direct_conv_fits(s)) return std::nullopt;
  return s;
}

}  // namespace

// cols[(c,i,j), (n,y,x)] = x[n, c, y·s - p + i, x·s - p + j] (0 outside)   dx = col2im(g)
Tensor im2col(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding) {
  Geometry g = geometry(x.shape(), kernel, stride, padding, "im2col");
  Tensor out = empty({g.c * g.kh * g.kw, g.n * g.oh * g.ow}, x.dtype());
  dispatch_float(x.dtype(), "im2col", [&]<class T>() { fill_columns(g, x.data<T>(), out.data<T>()); });
  Shape image = x.shape();
  return record("im2col", out, {x}, [image, kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{col2im(gr, image, kernel, stride, padding)};
  });
}

// x[n, c, h, w] = Σ of the column entries im2col read from it   dcols = im2col(g)
Tensor col2im(const Tensor& cols, const Shape& image, Size2 kernel, Size2 stride, Size2 padding) {
  Geometry g = geometry(image, kernel, stride, padding, "col2im");
  Shape expect{g.c * g.kh * g.kw, g.n * g.oh * g.ow};
  if (cols.shape() != expect)
    throw std::invalid_argument("col2im: expected columns of shape " + to_string(expect) + " for image " +
                                to_string(image) + ", got " + to_string(cols.shape()));
  Tensor out = zeros(image, cols.dtype());
  dispatch_float(cols.dtype(), "col2im", [&]<class T>() { add_columns(g, cols.data<T>(), out.data<T>()); });
  return record("col2im", out, {cols}, [kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{im2col(gr, kernel, stride, padding)};
  });
}

// y = W ⋆ x + b   x:(N,C,H,W) W:(O,C,kh,kw) b:(O) -> (N,O,oh,ow)
// Forward: W:(O, C·kh·kw) · im2col(x) a few images at a time, laid out as NCHW with the bias added
// in the same pass. Backward: with G = gy as (O, N·oh·ow),
//   dW = G · im2col(x)ᵀ   dx = col2im(Wᵀ · G)   db = Σ gy over (N, oh, ow)
// computed a few images at a time again (the columns are made anew rather than kept from the
// forward), or under create_graph with the differentiable ops im2col, mm and col2im.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding) {
  if (weight.dim() != 4 || x.dim() != 4 || weight.size(1) != x.size(1))
    throw std::invalid_argument("conv2d: input " + to_string(x.shape()) + " and weight " + to_string(weight.shape()) +
                                " do not match; expected input (N, C, H, W) and weight (O, C, kh, kw) with the same C");
  const std::int64_t o = weight.size(0);
  if (bias.defined() && bias.shape() != Shape{o})
    throw std::invalid_argument("conv2d: bias of shape " + to_string(bias.shape()) + " should be [" + std::to_string(o) + "]");
  if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype())) {
    Tensor b = bias.defined() ? bias.to(DType::Float64) : bias;
    return conv2d(x.to(DType::Float64), weight.to(DType::Float64), b, stride, padding);
  }
  const Size2 kernel{weight.size(2), weight.size(3)};
  const Geometry g = geometry(x.shape(), kernel, stride, padding, "conv2d");
  const std::optional<kernel::DirectConv> direct = direct_conv(g, o);
  Tensor out = empty({g.n, o, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    if (direct) kernel::direct_conv_forward(*direct, x.data<T>(), weight.data<T>(), b, out.data<T>());
    else conv_forward(g, o, x.data<T>(), weight.data<T>(), b, out.data<T>());
  });
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return record("conv2d", out, inputs, [g, kernel, stride, padding, o, direct](const Node& n, const Tensor& gy) {
    const Tensor &xs = n.in(0), &w = n.in(1);
    Tensor dx, dw;
    if (is_grad_enabled()) {
      Tensor grad2d = reshape(permute(gy, {1, 0, 2, 3}), {o, -1});  // (O, N·oh·ow)
      if (n.needs_grad(0)) dx = col2im(mm(reshape(w, {o, -1}), grad2d, {.transpose_a = true}), xs.shape(), kernel, stride, padding);
      if (n.needs_grad(1)) dw = reshape(mm(grad2d, im2col(xs, kernel, stride, padding), {.transpose_b = true}), w.shape());
    } else {
      if (n.needs_grad(0)) dx = direct ? empty(xs.shape(), xs.dtype()) : zeros(xs.shape(), xs.dtype());
      if (n.needs_grad(1)) dw = empty(w.shape(), w.dtype());
      dispatch_float(xs.dtype(), "conv2d backward", [&]<class T>() {
        T* pdx = dx.defined() ? dx.data<T>() : nullptr;
        T* pdw = dw.defined() ? dw.data<T>() : nullptr;
        if (direct) {
          if (pdx) kernel::direct_conv_input_grad(*direct, gy.data<T>(), w.data<T>(), pdx);
          if (pdw) kernel::direct_conv_weight_grad(*direct, xs.data<T>(), gy.data<T>(), pdw);
        } else {
          conv_backward(g, o, xs.data<T>(), w.data<T>(), gy.data<T>(), pdx, pdw);
        }
      });
    }
    if (n.inputs.size() == 2) return Grads{dx, dw};
    return Grads{dx, dw, n.needs_grad(2) ? sum(gy, {0, 2, 3}) : Tensor()};
  });
}

}  // namespace zg
