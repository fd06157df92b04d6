// Convolution as im2col + one GEMM over the whole batch, and pooling.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/autograd.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace zg {

namespace {

constexpr std::int64_t kImagesPerThread = 4;   // a part of the batch worth waking a thread for
constexpr std::int64_t kPlanesPerThread = 64;

struct Geometry {
  std::int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};

Geometry geometry(const Shape& image, Size2 k, Size2 s, Size2 p, const char* op) {
  if (image.size() != 4)
    throw std::invalid_argument(std::string(op) + ": expected an (N, C, H, W) input, got shape " + to_string(image));
  if (k.h < 1 || k.w < 1 || s.h < 1 || s.w < 1 || p.h < 0 || p.w < 0)
    throw std::invalid_argument(std::string(op) + ": kernel and stride must be positive and padding non-negative, got kernel " +
                                std::to_string(k.h) + "x" + std::to_string(k.w) + ", stride " + std::to_string(s.h) + "x" +
                                std::to_string(s.w) + ", padding " + std::to_string(p.h) + "x" + std::to_string(p.w));
  Geometry g{image[0], image[1], image[2], image[3], k.h, k.w, s.h, s.w, p.h, p.w, 0, 0};
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw)
    throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                                " is larger than the padded input " + std::to_string(g.h + 2 * g.ph) + "x" +
                                std::to_string(g.w + 2 * g.pw));
  g.oh = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
  return g;
}

// The output columns x in [x0, x1) whose input column x·s - p + k lies inside [0, size).
std::pair<std::int64_t, std::int64_t> inside(std::int64_t size, std::int64_t out, std::int64_t k, std::int64_t s,
                                             std::int64_t p) {
  std::int64_t first = p - k, last = size + p - k - 1;
  std::int64_t x0 = first <= 0 ? 0 : (first + s - 1) / s;
  std::int64_t x1 = last < 0 ? 0 : std::min(out, last / s + 1);
  return {x0, std::max(x0, x1)};
}

// Visits every (column entry, image element) pair of im2col that lies inside the image:
// in(offset in the (C·kh·kw, N·oh·ow) matrix, offset in the NCHW image), and every run of column
// entries that falls in the padding: pad(first offset, count). The bounds are worked out once per
// row, so the inner loop is a plain strided (for stride 1, contiguous) copy.
// Only images [b0, b1) are visited, so that parts of the batch can go to different threads.
template <class In, class Pad>
void for_each_patch(const Geometry& g, std::int64_t b0, std::int64_t b1, In in, Pad pad) {
  const std::int64_t cols = g.n * g.oh * g.ow;
  for (std::int64_t c = 0; c < g.c; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        std::int64_t row = ((c * g.kh + ki) * g.kw + kj) * cols;
        auto [x0, x1] = inside(g.w, g.ow, kj, g.sw, g.pw);
        for (std::int64_t b = b0; b < b1; ++b) {
          std::int64_t plane = (b * g.c + c) * g.h * g.w;
          for (std::int64_t y = 0; y < g.oh; ++y) {
            std::int64_t iy = y * g.sh - g.ph + ki;
            std::int64_t col = row + (b * g.oh + y) * g.ow;
            if (iy < 0 || iy >= g.h) {
              pad(col, g.ow);
              continue;
            }
            pad(col, x0);
            std::int64_t src = plane + iy * g.w - g.pw + kj;
            if (g.sw == 1)
              for (std::int64_t x = x0; x < x1; ++x) in(col + x, src + x);
            else
              for (std::int64_t x = x0; x < x1; ++x) in(col + x, src + x * g.sw);
            pad(col + x1, g.ow - x1);
          }
        }
      }
}

// cols (C·kh·kw, N·oh·ow) of the g.n images at p: im2col's values.
template <class T>
void fill_columns(const Geometry& g, const T* p, T* cols) {
  // Pointers by value: captured by reference they would be reloaded at every element.
  parallel_for(g.n, kImagesPerThread, [g, p, cols](std::int64_t b0, std::int64_t b1) {
    for_each_patch(
        g, b0, b1, [p, cols](std::int64_t ci, std::int64_t xi) { cols[ci] = p[xi]; },
        [cols](std::int64_t ci, std::int64_t count) { std::fill_n(cols + ci, count, T(0)); });
  });
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
  dispatch_float(cols.dtype(), "col2im", [&]<class T>() {
    const T* p = cols.data<T>();
    T* o = out.data<T>();
    parallel_for(g.n, kImagesPerThread, [g, p, o](std::int64_t b0, std::int64_t b1) {  // each image its own planes
      for_each_patch(
          g, b0, b1, [p, o](std::int64_t ci, std::int64_t xi) { o[xi] += p[ci]; }, [](std::int64_t, std::int64_t) {});
    });
  });
  return record("col2im", out, {cols}, [kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{im2col(gr, kernel, stride, padding)};
  });
}

// y = W ⋆ x + b   x:(N,C,H,W) W:(O,C,kh,kw) b:(O) -> (N,O,oh,ow)
// Forward: W:(O, C·kh·kw) · im2col(x) as one GEMM over the batch, then to NCHW with the bias added
// in the same pass. Without a graph the columns are made a few images at a time, so inference at a
// large batch stays small.
// Backward, over the whole batch: with G = gy as (O, N·oh·ow),
//   dW = G · colsᵀ   dx = col2im(Wᵀ · G)   db = Σ gy over (N, oh, ow)
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
  const std::int64_t rows = g.c * g.kh * g.kw, area = g.oh * g.ow;
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  const bool graph = will_record(inputs);
  // About 2 MiB of columns at a time without a graph; the backward needs the whole batch's.
  const std::int64_t per_image = rows * area * static_cast<std::int64_t>(dtype_size(x.dtype()));
  const std::int64_t chunk = graph ? g.n : std::clamp<std::int64_t>((2 << 20) / std::max<std::int64_t>(per_image, 1), 1, g.n);
  Tensor cols = empty({rows, chunk * area}, x.dtype());
  Tensor product = empty({o, chunk * area}, x.dtype());
  Tensor out = empty({g.n, o, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "conv2d", [&]<class T>() {
    const T* w = weight.data<T>();
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    T* c = cols.data<T>();
    T* prod = product.data<T>();
    for (std::int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      Geometry part = g;
      part.n = std::min(chunk, g.n - n0);
      const std::int64_t width = part.n * area;
      fill_columns(part, x.data<T>() + n0 * g.c * g.h * g.w, c);
      kernel::gemm(false, false, o, width, rows, w, rows, c, width, T(0), prod, width);
      // (O, n, oh·ow) -> (n, O, oh·ow), adding the bias on the way.
      T* y = out.data<T>() + n0 * o * area;
      parallel_for(part.n, kImagesPerThread, [=](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i)
          for (std::int64_t oc = 0; oc < o; ++oc) {
            const T* src = prod + (oc * part.n + i) * area;
            T* dst = y + (i * o + oc) * area;
            const T shift = b ? b[oc] : T(0);
            for (std::int64_t e = 0; e < area; ++e) dst[e] = src[e] + shift;
          }
      });
    }
  });
  Shape image = x.shape();
  return record("conv2d", out, inputs, [cols, image, kernel, stride, padding, o](const Node& n, const Tensor& gy) {
    Tensor grad2d = reshape(permute(gy, {1, 0, 2, 3}), {o, -1});  // (O, N·oh·ow)
    Tensor dx, dw;
    if (n.needs_grad(0))
      dx = col2im(mm(reshape(n.in(1), {o, -1}), grad2d, true, false), image, kernel, stride, padding);
    if (n.needs_grad(1)) {
      // Under create_graph dW must depend on x through the graph; otherwise the saved columns do.
      Tensor columns = is_grad_enabled() ? im2col(n.in(0), kernel, stride, padding) : cols;
      dw = reshape(mm(grad2d, columns, false, true), n.in(1).shape());
    }
    if (n.inputs.size() == 2) return Grads{dx, dw};
    return Grads{dx, dw, n.needs_grad(2) ? sum(gy, {0, 2, 3}) : Tensor()};
  });
}

namespace {
// A later window element wins when it is larger, or NaN over a non-NaN; ties keep the first.
template <class T>
bool beats(T v, T best) {
  return v > best || (std::isnan(v) && !std::isnan(best));
}

// idx[plane, y, x] = the flat (iy·w + ix) position of the maximum of window (y, x), out its value.
// idx_row_step is ow to keep every row's positions, 0 to reuse one row's worth. g by value: the
// int64 position stores could alias a referenced Geometry's fields, forcing a reload per element.
template <class T>
void pool_max(const Geometry g, const T* p, std::int64_t* idx0, std::int64_t idx_row_step, T* out,
              std::int64_t plane0, std::int64_t plane1) {
  // Without kept positions each part of the planes needs its own row of scratch positions.
  std::int64_t* idx = idx0 + (idx_row_step == 0 ? plane0 * g.ow : 0);
  for (std::int64_t plane = plane0; plane < plane1; ++plane) {
    const T* img = p + plane * g.h * g.w;
    for (std::int64_t y = 0; y < g.oh; ++y) {
      std::int64_t* best = idx + (plane * g.oh + y) * idx_row_step;
      T* best_v = out + (plane * g.oh + y) * g.ow;
      if (g.ph == 0 && g.pw == 0) {
        // Every window lies inside the image: one window element at a time for the whole output
        // row, a branch-free inner loop over x instead of a data-dependent branch per element.
        for (std::int64_t i = 0; i < g.kh; ++i)
          for (std::int64_t j = 0; j < g.kw; ++j) {
            const std::int64_t r = (y * g.sh + i) * g.w + j;
            const bool first = i == 0 && j == 0;
            for (std::int64_t xx = 0; xx < g.ow; ++xx) {
              std::int64_t e = r + xx * g.sw;
              T v = img[e], bv = best_v[xx];
              // Non-short-circuit logic and a mask keep GCC from turning the selects into branches.
              bool take = first | (v > bv) | (std::isnan(v) & !std::isnan(bv));
              std::int64_t mask = -static_cast<std::int64_t>(take);
              best[xx] = (e & mask) | (best[xx] & ~mask);
              best_v[xx] = take ? v : bv;
            }
          }
        continue;
      }
      for (std::int64_t xx = 0; xx < g.ow; ++xx) {
        // The window clipped to the image once, rather than a bounds check per element.
        std::int64_t iy = y * g.sh - g.ph, ix = xx * g.sw - g.pw;
        std::int64_t i0 = std::max<std::int64_t>(0, -iy), i1 = std::min(g.kh, g.h - iy);
        std::int64_t j0 = std::max<std::int64_t>(0, -ix), j1 = std::min(g.kw, g.w - ix);
        std::int64_t b = (iy + i0) * g.w + ix + j0;
        T bv = img[b];
        for (std::int64_t i = i0; i < i1; ++i)
          for (std::int64_t j = j0; j < j1; ++j) {
            std::int64_t e = (iy + i) * g.w + ix + j;
            if (beats(img[e], bv)) {
              b = e;
              bv = img[e];
            }
          }
        best[xx] = b;
        best_v[xx] = bv;
      }
    }
  }
}
}  // namespace

// y = max over each window (padding is -inf)   dx = max_pool2d_backward(g): g goes to each
// window's argmax. Values and positions come from one pass (a gather at the positions afterwards
// cost 3% of a CNN epoch, and its scatter_add backward copied a zero tensor first).
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride0, Size2 padding) {
  Size2 stride = stride0.value_or(kernel);
  Geometry g = geometry(x.shape(), kernel, stride, padding, "max_pool2d");
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw)
    throw std::invalid_argument("max_pool2d: padding " + std::to_string(g.ph) + "x" + std::to_string(g.pw) +
                                " should be at most half the kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw));
  // Without a graph the positions are kept for one output row per plane (inference needs no backward).
  const bool graph = will_record({x});
  Tensor index = empty(graph ? Shape{g.n, g.c, g.oh * g.ow} : Shape{g.n * g.c, g.ow}, DType::Int64);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    parallel_for(g.n * g.c, kPlanesPerThread, [&](std::int64_t plane0, std::int64_t plane1) {
      pool_max<T>(g, x.data<T>(), index.data<std::int64_t>(), graph ? g.ow : 0, out.data<T>(), plane0, plane1);
    });
  });
  Shape image = x.shape();
  return record("max_pool2d", out, {x}, [index, image](const Node&, const Tensor& gr) {
    return Grads{max_pool2d_backward(gr, index, image)};
  });
}

// dx[n, c, e] = Σ g[n, c, w] over the windows w whose maximum is at e
//   grad:(N,C,oh,ow) index:(N,C,oh·ow) positions in [0, H·W) -> input_shape (N,C,H,W)
// Linear in g; its adjoint gathers g at the same positions.
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& index, const Shape& input_shape) {
  if (input_shape.size() != 4 || grad.dim() != 4 || index.dtype() != DType::Int64 ||
      index.shape() != Shape{grad.size(0), grad.size(1), grad.size(2) * grad.size(3)} ||
      grad.size(0) != input_shape[0] || grad.size(1) != input_shape[1])
    throw std::invalid_argument("max_pool2d_backward: grad " + to_string(grad.shape()) + ", int64 index " +
                                to_string(index.shape()) + " and input " + to_string(input_shape) +
                                " do not match; expected grad (N, C, oh, ow), index (N, C, oh·ow), input (N, C, H, W)");
  const std::int64_t planes = input_shape[0] * input_shape[1], area = input_shape[2] * input_shape[3];
  const std::int64_t windows = index.size(2);
  Tensor out = zeros(input_shape, grad.dtype());
  dispatch_float(grad.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pg = grad.data<T>();
    const std::int64_t* pi = index.data<std::int64_t>();
    T* po = out.data<T>();
    parallel_for(planes, kPlanesPerThread, [&](std::int64_t plane0, std::int64_t plane1) {
      for (std::int64_t plane = plane0; plane < plane1; ++plane)
        for (std::int64_t w = plane * windows; w < (plane + 1) * windows; ++w) {
          if (pi[w] < 0 || pi[w] >= area)
            throw std::invalid_argument("max_pool2d_backward: index " + std::to_string(pi[w]) + " is outside [0, " +
                                        std::to_string(area) + ") for input " + to_string(input_shape));
          po[plane * area + pi[w]] += pg[w];
        }
    });
  });
  Shape grad_shape = grad.shape();
  return record("max_pool2d_backward", out, {grad}, [index, grad_shape, area](const Node&, const Tensor& gg) {
    Tensor flat = reshape(gg, {grad_shape[0], grad_shape[1], area});
    return Grads{reshape(gather(flat, 2, index), grad_shape)};
  });
}

namespace {
// out = mean over each window (zero padding counted), or its adjoint when backward.
template <class T>
void avg_pool(const Geometry& g, const T* in, T* out, bool backward) {
  const T scale = T(1) / static_cast<T>(g.kh * g.kw);
  for (std::int64_t plane = 0; plane < g.n * g.c; ++plane)
    for (std::int64_t y = 0; y < g.oh; ++y)
      for (std::int64_t x = 0; x < g.ow; ++x) {
        std::int64_t o = plane * g.oh * g.ow + y * g.ow + x;
        T acc = 0;
        for (std::int64_t i = 0; i < g.kh; ++i)
          for (std::int64_t j = 0; j < g.kw; ++j) {
            std::int64_t iy = y * g.sh - g.ph + i, ix = x * g.sw - g.pw + j;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            std::int64_t e = plane * g.h * g.w + iy * g.w + ix;
            if (backward) out[e] += in[o] * scale;
            else acc += in[e];
          }
        if (!backward) out[o] = acc * scale;
      }
}
}  // namespace

// y = Σ window / (kh·kw)   dx = avg_pool2d_backward(g)
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride0, Size2 padding) {
  Size2 stride = stride0.value_or(kernel);
  Geometry g = geometry(x.shape(), kernel, stride, padding, "avg_pool2d");
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() { avg_pool<T>(g, x.data<T>(), out.data<T>(), false); });
  Shape image = x.shape();
  return record("avg_pool2d", out, {x}, [image, kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{avg_pool2d_backward(gr, image, kernel, stride, padding)};
  });
}

// dx[e] = Σ over windows w containing e of g[w] / (kh·kw)   (linear in g; its adjoint is avg_pool2d)
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Size2 kernel, Size2 stride, Size2 padding) {
  Geometry g = geometry(input_shape, kernel, stride, padding, "avg_pool2d_backward");
  Shape expect{g.n, g.c, g.oh, g.ow};
  if (grad.shape() != expect)
    throw std::invalid_argument("avg_pool2d_backward: expected grad of shape " + to_string(expect) + ", got " +
                                to_string(grad.shape()));
  Tensor out = zeros(input_shape, grad.dtype());
  dispatch_float(grad.dtype(), "avg_pool2d_backward",
                 [&]<class T>() { avg_pool<T>(g, grad.data<T>(), out.data<T>(), true); });
  return record("avg_pool2d_backward", out, {grad}, [kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{avg_pool2d(gr, kernel, stride, padding)};
  });
}

}  // namespace zg
