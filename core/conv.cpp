// Convolution as im2col + GEMM, a few images at a time so that the columns stay in cache, and pooling.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "core/autograd.h"
#include "core/kernels.h"
#include "core/kernels/direct_conv.h"
#include "core/kernels/pool.h"
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

// One image's part of one row of im2col's (C·kh·kw, N·oh·ow) matrix: an (oh, ow) block of column
// entries, of which rows [y0, y1) and columns [x0, x1) read the image, starting at image element
// first and advancing by step per row and by stride along a row; the rest is padding.
struct Patch {
  std::int64_t oh, ow, y0, y1, x0, x1, first, step, stride;
};

// Visits the patches of images [b0, b1) (parts of the batch go to different threads):
// visit(patch, offset of the block in the matrix, offset of the image plane). The bounds are
// worked out once per matrix row, so the callers' inner loops are plain strided (for stride 1,
// contiguous) copies.
template <class Visit>
void for_each_patch(const Geometry& g, std::int64_t b0, std::int64_t b1, Visit visit) {
  const std::int64_t area = g.oh * g.ow, plane = g.h * g.w;
  for (std::int64_t c = 0; c < g.c; ++c)
    for (std::int64_t ki = 0; ki < g.kh; ++ki)
      for (std::int64_t kj = 0; kj < g.kw; ++kj) {
        const std::int64_t row = ((c * g.kh + ki) * g.kw + kj) * g.n * area;
        const auto [x0, x1] = inside(g.w, g.ow, kj, g.sw, g.pw);
        const auto [y0, y1] = inside(g.h, g.oh, ki, g.sh, g.ph);
        const Patch patch{g.oh, g.ow, y0, y1, x0, x1, (y0 * g.sh - g.ph + ki) * g.w + x0 * g.sw - g.pw + kj,
                          g.sh * g.w, g.sw};
        for (std::int64_t b = b0; b < b1; ++b) visit(patch, row + b * area, (b * g.c + c) * plane);
      }
}

// dst = the patch's column entries read from image (a plane). A typical run along a row is 8 to
// 24 elements: a memcpy call per run (which GCC makes of a plain copy loop) was half of im2col's
// profile, so stride 1 copies fixed-size blocks, which the compiler inlines as vector moves.
// Restrict, as image and columns never overlap. Not inlined: inlined into the patch loops, its
// counters lived on the stack.
template <class T>
[[gnu::noinline]] void fill_patch(const Patch r, const T* __restrict image, T* __restrict dst) {
  const std::int64_t run = r.x1 - r.x0;
  if (run == 0) {
    std::fill_n(dst, r.oh * r.ow, T(0));
    return;
  }
  if (r.y0 > 0) std::fill_n(dst, r.y0 * r.ow, T(0));
  dst += r.y0 * r.ow;
  const T* src = image + r.first;
  for (std::int64_t y = r.y0; y < r.y1; ++y, dst += r.ow, src += r.step) {
    if (r.x0 > 0) std::fill_n(dst, r.x0, T(0));
    T* out = dst + r.x0;
    if (r.stride == 1) {
      std::int64_t k = 0;
      for (; k + 8 <= run; k += 8) std::memcpy(out + k, src + k, 8 * sizeof(T));
      if (k + 4 <= run) {
        std::memcpy(out + k, src + k, 4 * sizeof(T));
        k += 4;
      }
      for (; k < run; ++k) out[k] = src[k];
    } else {
      for (std::int64_t k = 0; k < run; ++k) out[k] = src[k * r.stride];
    }
    if (r.x1 < r.ow) std::fill_n(dst + r.x1, r.ow - r.x1, T(0));
  }
  if (r.y1 < r.oh) std::fill_n(dst, (r.oh - r.y1) * r.ow, T(0));
}

// image += the patch's column entries at src, added where fill_patch read them: im2col's adjoint.
template <class T>
[[gnu::noinline]] void add_patch(const Patch r, const T* __restrict src, T* __restrict image) {
  const std::int64_t run = r.x1 - r.x0;
  if (run == 0) return;
  src += r.y0 * r.ow + r.x0;
  T* dst = image + r.first;
  for (std::int64_t y = r.y0; y < r.y1; ++y, src += r.ow, dst += r.step) {
    if (r.stride == 1)
      for (std::int64_t k = 0; k < run; ++k) dst[k] += src[k];
    else
      for (std::int64_t k = 0; k < run; ++k) dst[k * r.stride] += src[k];
  }
}

// cols (C·kh·kw, N·oh·ow) of the g.n images at p: im2col's values.
template <class T>
void fill_columns(const Geometry& g, const T* p, T* cols) {
  parallel_for(g.n, kImagesPerThread, [g, p, cols](std::int64_t b0, std::int64_t b1) {
    for_each_patch(g, b0, b1, [p, cols](const Patch& r, std::int64_t col, std::int64_t plane) {
      fill_patch(r, p + plane, cols + col);
    });
  });
}

// Adds the columns at p into the g.n images at out: im2col's adjoint.
template <class T>
void add_columns(const Geometry& g, const T* p, T* out) {
  parallel_for(g.n, kImagesPerThread, [g, p, out](std::int64_t b0, std::int64_t b1) {  // each image its own planes
    for_each_patch(g, b0, b1, [p, out](const Patch& r, std::int64_t col, std::int64_t plane) {
      add_patch(r, p + col, out + plane);
    });
  });
}

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
      if (n.needs_grad(0)) dx = col2im(mm(reshape(w, {o, -1}), grad2d, true, false), xs.shape(), kernel, stride, padding);
      if (n.needs_grad(1)) dw = reshape(mm(grad2d, im2col(xs, kernel, stride, padding), false, true), w.shape());
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

namespace {
// A later window element wins when it is larger, or NaN over a non-NaN; ties keep the first.
// Non-short-circuit operators, so that callers' selects on it stay branch-free.
template <class T>
bool beats(T v, T best) {
  return (v > best) | (std::isnan(v) & !std::isnan(best));
}

// One output row of an unpadded max-pool, every window inside the image: out[x] and idx[x] (its
// flat position in the plane) for window rows top..top+kh. Each window is scanned in registers with
// selects, no branches; KH and KW fix the window at compile time (2x2, the common case, is three
// unrolled compares per output) or are 0 to take kh and kw.
template <class T, std::int64_t KH, std::int64_t KW>
void pool_max_row(const T* __restrict img, std::int64_t top, std::int64_t w, std::int64_t ow, std::int64_t sw,
                  std::int64_t kh, std::int64_t kw, T* __restrict out, std::int64_t* __restrict idx) {
  if constexpr (KH != 0) kh = KH;
  if constexpr (KW != 0) kw = KW;
  for (std::int64_t x = 0; x < ow; ++x) {
    std::int64_t b = top * w + x * sw;
    T bv = img[b];
    for (std::int64_t i = 0; i < kh; ++i)
      for (std::int64_t j = i == 0 ? 1 : 0; j < kw; ++j) {
        const std::int64_t e = (top + i) * w + x * sw + j;
        const T v = img[e];
        // The position by a mask and the value read back from it: GCC turns selects on the
        // comparison into branches on the data, which cost twice the time.
        const std::int64_t mask = -static_cast<std::int64_t>(beats(v, bv));
        b = (e & mask) | (b & ~mask);
        bv = img[b];
      }
    out[x] = bv;
    idx[x] = b;
  }
}

// idx[plane, y, x] = the flat (iy·w + ix) position of the maximum of window (y, x), out its value.
// idx_row_step is ow to keep every row's positions, 0 to reuse one row's worth.
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
        if (g.kh == 2 && g.kw == 2)
          pool_max_row<T, 2, 2>(img, y * g.sh, g.w, g.ow, g.sw, 2, 2, best_v, best);
        else
          pool_max_row<T, 0, 0>(img, y * g.sh, g.w, g.ow, g.sw, g.kh, g.kw, best_v, best);
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
            const std::int64_t e = (iy + i) * g.w + ix + j;
            const bool take = beats(img[e], bv);
            b = take ? e : b;
            bv = take ? img[e] : bv;
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
  const bool two_by_two = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    parallel_for(g.n * g.c, kPlanesPerThread, [&](std::int64_t plane0, std::int64_t plane1) {
      if (two_by_two)
        kernel::max_pool_2x2(x.data<T>(), g.h, g.w, plane0, plane1, out.data<T>(),
                             graph ? index.data<std::int64_t>() : nullptr);
      else
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
  // Each plane zeroed just before its scatter, while it is in cache: zeroing the whole tensor first
  // sent it to memory and back (5% of a LeNet step).
  Tensor out = empty(input_shape, grad.dtype());
  dispatch_float(grad.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pg = grad.data<T>();
    const std::int64_t* pi = index.data<std::int64_t>();
    T* po = out.data<T>();
    parallel_for(planes, kPlanesPerThread, [&](std::int64_t plane0, std::int64_t plane1) {
      for (std::int64_t plane = plane0; plane < plane1; ++plane) {
        std::fill_n(po + plane * area, area, T(0));
        for (std::int64_t w = plane * windows; w < (plane + 1) * windows; ++w) {
          if (pi[w] < 0 || pi[w] >= area)
            throw std::invalid_argument("max_pool2d_backward: index " + std::to_string(pi[w]) + " is outside [0, " +
                                        std::to_string(area) + ") for input " + to_string(input_shape));
          po[plane * area + pi[w]] += pg[w];
        }
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
