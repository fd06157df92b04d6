#pragma once
// Fixed-width vectors for the hand-tiled kernels, through GCC's vector extensions: 64 bytes, one
// AVX-512 register where the build targets it (ZG_NATIVE), split by the compiler into narrower
// registers elsewhere, so the same code runs on any machine (and in WebAssembly).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace zg::simd {

template <class T> struct VecOf;
template <> struct VecOf<float> {
  typedef float type __attribute__((vector_size(64)));
};
template <> struct VecOf<double> {
  typedef double type __attribute__((vector_size(64)));
};
template <class T> using Vec = typename VecOf<T>::type;
template <class T> constexpr int kLanes = 64 / sizeof(T);

// Unaligned loads and stores (memcpy compiles to one vector move).
template <class T> Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T> void store(T* p, Vec<T> v) { std::memcpy(p, &v, sizeof v); }
// Every lane s (s - 0 is s exactly, and compiles to one broadcast; a loop over the lanes, inlined
// into a kernel, became a masked insert per lane).
template <class T> Vec<T> broadcast(T s) { return s - Vec<T>{}; }

// dst[0, n) = src[0, n) for the short rows of small images (7 to 32 values): whole vectors,
// then a scalar tail, where std::copy_n calls memmove for each row.
template <class T> void copy_short(const T* src, std::int64_t n, T* dst) {
  std::int64_t i = 0;
  for (; i + kLanes<T> <= n; i += kLanes<T>) store(dst + i, load(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

// Keeps v in a register where it is: stops the compiler from folding its load into every
// instruction that uses it (the weight-gradient kernel then loaded each input vector four times,
// once per output channel, and ran at a quarter of the FMA rate).
template <class V> void keep_in_register(V& v) {
#if defined(__x86_64__)
  asm("" : "+v"(v));
#else
  (void)v;
#endif
}

namespace detail {
// Lane j of the result of swapping the off-diagonal s×s blocks of rows (a, b) = (r[i], r[i + s]):
// the first row takes b's block, the second a's (indices past the lanes read b).
constexpr int swap_lane(int j, int s, int lanes, bool second) {
  if (!second) return (j & s) == 0 ? j : lanes + j - s;
  return (j & s) == 0 ? j + s : lanes + j;
}
template <class T, int S, bool Second, std::size_t... J>
Vec<T> swap_blocks(Vec<T> a, Vec<T> b, std::index_sequence<J...>) {
  return __builtin_shufflevector(a, b, swap_lane(static_cast<int>(J), S, kLanes<T>, Second)...);
}
template <class T, int S>
void transpose_stage(Vec<T> (&r)[kLanes<T>]) {
  if constexpr (S < kLanes<T>) {
    constexpr auto lanes = std::make_index_sequence<static_cast<std::size_t>(kLanes<T>)>{};
    for (int i = 0; i < kLanes<T>; ++i)
      if ((i & S) == 0) {
        const Vec<T> a = r[i], b = r[i + S];
        r[i] = swap_blocks<T, S, false>(a, b, lanes);
        r[i + S] = swap_blocks<T, S, true>(a, b, lanes);
      }
    transpose_stage<T, 2 * S>(r);
  }
}
}  // namespace detail

// r[i][j] becomes r[j][i]: the off-diagonal blocks of sizes 1, 2, 4, ... swapped in turn, lanes·log2(lanes)
// two-vector shuffles in registers (a scalar transposition costs a load and a store per value).
template <class T> void transpose(Vec<T> (&r)[kLanes<T>]) { detail::transpose_stage<T, 1>(r); }

template <class T> T hsum(Vec<T> v) {
  T s = 0;
  for (int i = 0; i < kLanes<T>; ++i) s += v[i];
  return s;
}

// Scratch of n zeroed values, 64-byte aligned: vectors at whole multiples from its start then never
// straddle two cache lines (std::vector's 16-byte alignment made every load of the weight-gradient
// kernel a split load).
template <class T>
class Buffer {
 public:
  explicit Buffer(std::int64_t n) {
    const std::size_t count = (static_cast<std::size_t>(std::max<std::int64_t>(n, 1)) + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
    data_ = static_cast<T*>(std::aligned_alloc(64, count * sizeof(T)));
    if (!data_) throw std::bad_alloc();
    std::fill_n(data_, count, T(0));
  }
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* data() const { return data_; }

 private:
  T* data_;
};

}  // namespace zg::simd
