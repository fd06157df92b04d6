#include "zoograd/core/kernels/channel.h"

#include <algorithm>
#include <vector>

#include "zoograd/core/kernels/simd.h"
#include "zoograd/core/kernels/parallel.h"

namespace zg::kernel {

namespace {

using simd::kLanes;
using simd::Vec;

constexpr std::int64_t kValuesPerThread = 1 << 15;

using Doubles = Vec<double>;

// The lanes of a float32 vector as two double vectors (a float64 vector is one already).
template <class T>
void widen(Vec<T> v, Doubles& lo, Doubles& hi) {
  if constexpr (sizeof(T) == sizeof(double)) {
    lo = v;
    hi = Doubles{};
  } else {
    typedef float Half __attribute__((vector_size(32)));
    lo = __builtin_convertvector((Half)__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), Doubles);
    hi = __builtin_convertvector((Half)__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), Doubles);
  }
}

// Running sums of d and d·e in double lanes, kept as locals of the loop that fills them (as
// members of an object passed by reference they were stored and reloaded every iteration).
struct Sums {
  Doubles d_lo{}, d_hi{}, de_lo{}, de_hi{};
  double d_tail = 0, de_tail = 0;
  double d() const { return simd::hsum<double>(d_lo + d_hi) + d_tail; }
  double de() const { return simd::hsum<double>(de_lo + de_hi) + de_tail; }
};

// Adds d = x - kx over [0, n) and d·form(y - ky) (d·form(d) when y is null) to sums, in double:
// nothing is summed in float.
template <class T, class Form>
void accumulate(const T* x, T kx, const T* y, T ky, std::int64_t n, Form form, Sums& sums) {
  Doubles s_lo = sums.d_lo, s_hi = sums.d_hi, p_lo = sums.de_lo, p_hi = sums.de_hi;
  std::int64_t i = 0;
  for (; i + kLanes<T> <= n; i += kLanes<T>) {
    const Vec<T> a = simd::load(x + i) - kx, b = form(y ? simd::load(y + i) - ky : a);
    Doubles a_lo, a_hi, b_lo, b_hi;
    widen<T>(a, a_lo, a_hi);
    widen<T>(b, b_lo, b_hi);
    s_lo += a_lo;
    s_hi += a_hi;
    p_lo += a_lo * b_lo;
    p_hi += a_hi * b_hi;
  }
  sums.d_lo = s_lo, sums.d_hi = s_hi, sums.de_lo = p_lo, sums.de_hi = p_hi;
  for (; i < n; ++i) {
    const T a = x[i] - kx;
    const double b = form(y ? y[i] - ky : a);
    sums.d_tail += a;
    sums.de_tail += a * b;
  }
}

// Σ (x - kx[c]) and Σ (x - kx[c])·form(y - ky[c]) (y = x when null; null shifts are zero) over
// every channel, one thread per group of channels.
template <class T, class Form>
void channel_products(const ChannelView& v, const T* x, const T* kx, const T* y, const T* ky, Form form, double* sum,
                      double* sum_xy) {
  parallel_for(v.c, std::max<std::int64_t>(1, kValuesPerThread / std::max<std::int64_t>(v.n * v.s, 1)),
               [&](std::int64_t c0, std::int64_t c1) {
                 for (std::int64_t c = c0; c < c1; ++c) {
                   Sums sums;
                   const T sx = kx ? kx[c] : T(0), sy = ky ? ky[c] : T(0);
                   for (std::int64_t i = 0; i < v.n; ++i) {
                     const std::int64_t at = (i * v.c + c) * v.s;
                     accumulate(x + at, sx, y ? y + at : nullptr, sy, v.s, form, sums);
                   }
                   sum[c] = sums.d();
                   sum_xy[c] = sums.de();
                 }
               });
}

const auto identity = [](auto v) { return v; };

// f(plane's channel, offset of the plane) for every (image, channel) plane, in parallel.
template <class F>
void for_each_plane(const ChannelView& v, F f) {
  parallel_for(v.n * v.c, std::max<std::int64_t>(1, kValuesPerThread / std::max<std::int64_t>(v.s, 1)),
               [&](std::int64_t p0, std::int64_t p1) {
                 for (std::int64_t p = p0; p < p1; ++p) f(p % v.c, p * v.s);
               });
}

// The planes cut into chunks of at most kValuesPerThread values, numbered plane by plane: a single
// plane (one slope shared by every channel) is then spread over the threads too.
std::int64_t chunks_per_plane(const ChannelView& v) {
  return std::max<std::int64_t>(1, (v.s + kValuesPerThread - 1) / kValuesPerThread);
}
std::int64_t chunk_count(const ChannelView& v) { return v.n * v.c * chunks_per_plane(v); }

// f(channel, begin, end, chunk number) for every chunk [begin, end) of every plane, in parallel,
// a thread taking at least kValuesPerThread values' worth of chunks.
template <class F>
void for_each_chunk(const ChannelView& v, F f) {
  const std::int64_t per_plane = chunks_per_plane(v);
  const std::int64_t chunk_values = std::max<std::int64_t>(1, std::min(v.s, kValuesPerThread));
  parallel_for(chunk_count(v), kValuesPerThread / chunk_values, [&](std::int64_t k0, std::int64_t k1) {
    for (std::int64_t k = k0; k < k1; ++k) {
      const std::int64_t plane = k / per_plane, begin = plane * v.s + k % per_plane * kValuesPerThread;
      f(plane % v.c, begin, std::min(begin + kValuesPerThread, (plane + 1) * v.s), k);
    }
  });
}

// PReLU's backward over one run of values: dx = g where x > 0, a·g elsewhere, and the run's
// Σ g·min(x, 0) (the slope's gradient) in double lanes, both from one read of g and x (two passes
// were 8.5% of an atlas step).
template <class T, bool WithDx>
double prelu_backward_run(const T* g, const T* x, T a, std::int64_t n, T* dx) {
  const Vec<T> av = simd::broadcast(a);
  Doubles lo{}, hi{};
  std::int64_t i = 0;
  for (; i + kLanes<T> <= n; i += kLanes<T>) {
    const Vec<T> gv = simd::load(g + i), xv = simd::load(x + i);
    const auto positive = xv > 0;
    if constexpr (WithDx) simd::store(dx + i, positive ? gv : av * gv);
    Doubles g_lo, g_hi, m_lo, m_hi;
    widen<T>(gv, g_lo, g_hi);
    widen<T>(positive ? Vec<T>{} : xv, m_lo, m_hi);  // min(x, 0), NaN kept
    lo += g_lo * m_lo;
    hi += g_hi * m_hi;
  }
  double tail = 0;
  for (; i < n; ++i) {
    if constexpr (WithDx) dx[i] = x[i] > 0 ? g[i] : a * g[i];
    tail += static_cast<double>(g[i]) * static_cast<double>(x[i] > 0 ? T(0) : x[i]);
  }
  return simd::hsum<double>(lo + hi) + tail;
}

}  // namespace

template <class T>
void channel_moments(const ChannelView& v, const T* x, const T* shift, double* sum, double* sum_sq) {
  channel_products<T>(v, x, shift, nullptr, nullptr, identity, sum, sum_sq);
}

template <class T>
void channel_dot(const ChannelView& v, const T* g, const T* x, const T* shift, double* sum_g, double* sum_gx) {
  channel_products<T>(v, g, nullptr, x, shift, identity, sum_g, sum_gx);
}

template <class T>
void channel_affine(const ChannelView& v, const T* x, const T* shift, const T* a, const T* b, T* y) {
  for_each_plane(v, [&](std::int64_t c, std::int64_t at) {
    const T sc = shift[c], ac = a[c], bc = b[c];
    for (std::int64_t i = at; i < at + v.s; ++i) y[i] = (x[i] - sc) * ac + bc;
  });
}

template <class T>
void channel_combine(const ChannelView& v, const T* g, const T* x, const T* shift, const T* a, const T* b, const T* k,
                     T* out) {
  for_each_plane(v, [&](std::int64_t c, std::int64_t at) {
    const T sc = shift[c], ac = a[c], bc = b[c], kc = k[c];
    for (std::int64_t i = at; i < at + v.s; ++i) out[i] = g[i] * ac + (x[i] - sc) * bc + kc;
  });
}

template <class T>
void prelu_forward(const ChannelView& v, const T* x, const T* slope, bool shared, T* y) {
  for_each_chunk(v, [&](std::int64_t c, std::int64_t begin, std::int64_t end, std::int64_t) {
    const T a = slope[shared ? 0 : c];
    for (std::int64_t i = begin; i < end; ++i) y[i] = x[i] > 0 ? x[i] : a * x[i];
  });
}

template <class T>
void prelu_backward(const ChannelView& v, const T* g, const T* x, const T* slope, bool shared, T* dx, double* dslope) {
  std::vector<double> chunk_sums(static_cast<std::size_t>(chunk_count(v)));
  for_each_chunk(v, [&](std::int64_t c, std::int64_t begin, std::int64_t end, std::int64_t chunk) {
    const T a = slope[shared ? 0 : c];
    chunk_sums[static_cast<std::size_t>(chunk)] =
        dx ? prelu_backward_run<T, true>(g + begin, x + begin, a, end - begin, dx + begin)
           : prelu_backward_run<T, false>(g + begin, x + begin, a, end - begin, nullptr);
  });
  if (!dslope) return;
  // The chunks' sums in order, so the result does not depend on how the chunks met the threads.
  std::fill_n(dslope, shared ? 1 : v.c, 0.0);
  const std::int64_t per_plane = chunks_per_plane(v);
  for (std::size_t k = 0; k < chunk_sums.size(); ++k)
    dslope[shared ? 0 : static_cast<std::int64_t>(k) / per_plane % v.c] += chunk_sums[k];
}

template void channel_moments(const ChannelView&, const float*, const float*, double*, double*);
template void channel_dot(const ChannelView&, const float*, const float*, const float*, double*, double*);
template void channel_affine(const ChannelView&, const float*, const float*, const float*, const float*, float*);
template void channel_combine(const ChannelView&, const float*, const float*, const float*, const float*, const float*, const float*,
                              float*);
template void prelu_forward(const ChannelView&, const float*, const float*, bool, float*);
template void prelu_backward(const ChannelView&, const float*, const float*, const float*, bool, float*, double*);
template void channel_moments(const ChannelView&, const double*, const double*, double*, double*);
template void channel_dot(const ChannelView&, const double*, const double*, const double*, double*, double*);
template void channel_affine(const ChannelView&, const double*, const double*, const double*, const double*, double*);
template void channel_combine(const ChannelView&, const double*, const double*, const double*, const double*, const double*, const double*,
                              double*);
template void prelu_forward(const ChannelView&, const double*, const double*, bool, double*);
template void prelu_backward(const ChannelView&, const double*, const double*, const double*, bool, double*, double*);

}  // namespace zg::kernel
