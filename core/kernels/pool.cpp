#include "core/kernels/pool.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/kernels/simd.h"

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

}  // namespace zg::kernel
