#include "zoograd/core/kernels/pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "zoograd/core/kernels/simd.h"

namespace zg::kernel {

namespace {

using simd::kLanes;
using simd::Vec;

template <class T> struct LaneInt;
template <> struct LaneInt<float> {
  typedef std::int32_t type __attribute__((vector_size(64)));
};
template <> struct LaneInt<double> {
  typedef std::int64_t type __attribute__((vector_size(64)));
};
template <class T> using Mask = typename LaneInt<T>::type;

// Lane i of the result is lane 2i + Odd of the pair (lo, hi) (__builtin_shufflevector: GCC and clang).
template <class T, int Odd, std::size_t... I>
Vec<T> take_lanes(Vec<T> lo, Vec<T> hi, std::index_sequence<I...>) {
  return __builtin_shufflevector(lo, hi, (2 * static_cast<int>(I) + Odd)...);
}
template <class T, int Odd>
Vec<T> take_even(Vec<T> lo, Vec<T> hi) {
  return take_lanes<T, Odd>(lo, hi, std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{});
}

// The n <= lanes windows of a row pair (top, bottom). Both rows are read a whole vector pair wide:
// past the row's end this reads the next rows (ignored lanes), and near the end of the tensor
// (`end`) from zero-padded copies instead.
template <class T>
void row_pair(const T* top, const T* bottom, const T* end, std::int64_t n, std::int64_t first_index, std::int64_t w,
              T* out, std::int64_t* idx) {
  constexpr int L = kLanes<T>;
  T a[2 * L] = {}, b[2 * L] = {};
  if (bottom + 2 * L > end) {
    std::memcpy(a, top, static_cast<std::size_t>(2 * n) * sizeof(T));
    std::memcpy(b, bottom, static_cast<std::size_t>(2 * n) * sizeof(T));
    top = a;
    bottom = b;
  }
  const Vec<T> a0 = simd::load(top), a1 = simd::load(top + L), b0 = simd::load(bottom), b1 = simd::load(bottom + L);
  const Vec<T> cand[4] = {take_even<T, 0>(a0, a1), take_even<T, 1>(a0, a1), take_even<T, 0>(b0, b1), take_even<T, 1>(b0, b1)};
  Vec<T> best = cand[0];
  Mask<T> pos{};
  for (int k = 1; k < 4; ++k) {
    const Vec<T> v = cand[k];
    const Mask<T> take = (v > best) | ((v != v) & (best == best));
    best = take ? v : best;
    pos = take ? Mask<T>{} + k : pos;
  }
  T values[L];
  simd::store(values, best);
  std::copy_n(values, n, out);
  if (!idx) return;
  for (std::int64_t i = 0; i < n; ++i) idx[i] = first_index + 2 * i + (pos[i] >> 1) * w + (pos[i] & 1);
}

}  // namespace

template <class T>
void max_pool_2x2(const T* x, std::int64_t h, std::int64_t w, std::int64_t p0, std::int64_t p1, T* out,
                  std::int64_t* idx) {
  const std::int64_t oh = h / 2, ow = w / 2;
  const T* end = x + p1 * h * w;
  for (std::int64_t p = p0; p < p1; ++p)
    for (std::int64_t y = 0; y < oh; ++y)
      for (std::int64_t x0 = 0; x0 < ow; x0 += kLanes<T>) {
        const std::int64_t n = std::min<std::int64_t>(kLanes<T>, ow - x0), first = 2 * y * w + 2 * x0;
        const std::int64_t o = (p * oh + y) * ow + x0;
        row_pair(x + p * h * w + first, x + p * h * w + first + w, end, n, first, w, out + o, idx ? idx + o : nullptr);
      }
}

template void max_pool_2x2(const float*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, float*, std::int64_t*);
template void max_pool_2x2(const double*, std::int64_t, std::int64_t, std::int64_t, std::int64_t, double*,
                           std::int64_t*);

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
}  // namespace

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

template void pool_max(const Geometry, const float*, std::int64_t*, std::int64_t, float*, std::int64_t, std::int64_t);
template void pool_max(const Geometry, const double*, std::int64_t*, std::int64_t, double*, std::int64_t, std::int64_t);
template void avg_pool(const Geometry&, const float*, float*, bool);
template void avg_pool(const Geometry&, const double*, double*, bool);

}  // namespace zg::kernel
