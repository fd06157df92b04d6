// Reductions in one pass over the input: adjacent reduced (or kept) dims merged into runs.
#include "zoograd/core/kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace zg::kernel {

namespace {

// x's shape with adjacent dims of the same kind (reduced or kept) merged and size-1 dims dropped,
// so (N, C, H, W) over {0, 2, 3} becomes (N, C, H·W) over {0, 2}: one contiguous run per output
// element instead of one pass (and one intermediate) per reduced dim.
struct Runs {
  Shape size;
  std::vector<bool> reduced;
};

Runs coalesce(const Shape& s, const Dims& dims) {
  Runs r;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(s.size()); ++i) {
    if (s[i] == 1) continue;
    bool red = std::binary_search(dims.begin(), dims.end(), i);
    if (!r.size.empty() && r.reduced.back() == red) r.size.back() *= s[i];
    else {
      r.size.push_back(s[i]);
      r.reduced.push_back(red);
    }
  }
  return r;
}

// The sum of the contiguous row p[0, n) in 32 double accumulators, added pairwise at the end: the
// compiler makes them four vector chains, so the adds pipeline. (Four scalar chains became one
// vector chain, an element a cycle at the adds' latency: conv2d's bias gradient, sum(gy, {0, 2, 3}),
// was 3.7% of a LeNet CNN step.)
template <class T>
double sum_row(const T* p, std::int64_t n) {
  constexpr int kChains = 32;
  double s[kChains] = {};
  std::int64_t i = 0;
  for (; i + kChains <= n; i += kChains)
    for (int k = 0; k < kChains; ++k) s[k] += static_cast<double>(p[i + k]);
  for (int k = 0; i < n; ++i, ++k) s[k] += static_cast<double>(p[i]);
  for (int width = kChains / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) s[k] += s[k + width];
  return s[0];
}

// The extreme keeps a NaN once seen, as the comparison alone would not.
template <class T>
T pick(T best, T c, bool want_max) {
  return (want_max ? c > best : c < best) || std::isnan(c) ? c : best;
}

// Reduces x over dims into out (shape with dims kept at size 1) in one pass over x. A is the
// accumulator type: double for sums, T for extremes.
template <class T, class A>
void reduce_runs(const T* p, T* o, const Runs& r, std::int64_t out_numel, Reduce kind) {
  const bool sum = kind == Reduce::Sum, want_max = kind == Reduce::Max;
  std::vector<A> acc(static_cast<std::size_t>(out_numel),
                     sum ? A(0) : (want_max ? -std::numeric_limits<A>::infinity() : std::numeric_limits<A>::infinity()));
  const std::size_t rank = r.size.size();
  // Output strides of the runs (0 on reduced runs); the innermost run is handled as a row.
  std::vector<std::int64_t> ostride(rank, 0);
  for (std::int64_t d = static_cast<std::int64_t>(rank) - 1, st = 1; d >= 0; --d)
    if (!r.reduced[d]) {
      ostride[d] = st;
      st *= r.size[d];
    }
  const std::int64_t inner = rank ? r.size[rank - 1] : 1;
  const bool inner_reduced = rank && r.reduced[rank - 1];
  const std::int64_t rows = rank ? numel(r.size) / inner : 1;
  std::vector<std::int64_t> idx(rank, 0);
  std::int64_t oo = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    const T* in = p + row * inner;
    if (inner_reduced) {
      if (sum) acc[oo] += static_cast<A>(sum_row(in, inner));
      else
        for (std::int64_t i = 0; i < inner; ++i) acc[oo] = pick<A>(acc[oo], in[i], want_max);
    } else {
      A* a = acc.data() + oo;
      if (sum)
        for (std::int64_t i = 0; i < inner; ++i) a[i] += static_cast<A>(in[i]);
      else
        for (std::int64_t i = 0; i < inner; ++i) a[i] = pick<A>(a[i], in[i], want_max);
    }
    for (std::size_t d = rank > 0 ? rank - 1 : 0; d-- > 0;) {
      oo += ostride[d];
      if (++idx[d] < r.size[d]) break;
      oo -= ostride[d] * r.size[d];
      idx[d] = 0;
    }
  }
  for (std::int64_t i = 0; i < out_numel; ++i) o[i] = static_cast<T>(acc[i]);
}

}  // namespace

template <class T>
void reduce(const T* x, T* out, const Shape& shape, const Dims& dims, std::int64_t out_numel, Reduce kind) {
  const Runs r = coalesce(shape, dims);
  if (kind == Reduce::Sum) reduce_runs<T, double>(x, out, r, out_numel, kind);
  else reduce_runs<T, T>(x, out, r, out_numel, kind);
}

template void reduce(const float*, float*, const Shape&, const Dims&, std::int64_t, Reduce);
template void reduce(const double*, double*, const Shape&, const Dims&, std::int64_t, Reduce);

}  // namespace zg::kernel
