#pragma once
// Fixed-width vectors for the hand-tiled kernels, through GCC's vector extensions: 64 bytes, one
// AVX-512 register where the build targets it (ZG_NATIVE), split by the compiler into narrower
// registers elsewhere, so the same code runs on any machine (and in WebAssembly).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

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
