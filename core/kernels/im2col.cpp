// im2col and its adjoint: the column matrix of a convolution filled (and added back) patch by
// patch, parts of the batch in parallel.
#include "zoograd/core/kernels/im2col.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "zoograd/core/kernels/parallel.h"

namespace zg::kernel {

namespace {

constexpr std::int64_t kImagesPerThread = 4;   // a part of the batch worth waking a thread for


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

}  // namespace

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

template void fill_columns(const Geometry&, const float*, float*);
template void fill_columns(const Geometry&, const double*, double*);
template void add_columns(const Geometry&, const float*, float*);
template void add_columns(const Geometry&, const double*, double*);

}  // namespace zg::kernel
