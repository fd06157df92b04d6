#pragma once
// Fixed-width vectors for the hand-tiled kernels, through GCC's vector extensions: 64 bytes, one
// AVX-512 register where the build targets it (ZG_NATIVE), split by the compiler into narrower
// registers elsewhere, so the same code runs on any machine (and in WebAssembly).
#include <cstring>

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

template <class T> T hsum(Vec<T> v) {
  T s = 0;
  for (int i = 0; i < kLanes<T>; ++i) s += v[i];
  return s;
}

}  // namespace zg::simd
