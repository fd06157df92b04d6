#pragma once
// Loop helpers shared by the op files (private to core/). They compute values only; recording
// the graph is the op's business.
#include <cblas.h>

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace zg::kernel {

// out[i] = f(x[i]) in x's dtype.
template <class T, class F>
Tensor map(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  const T* p = x.data<T>();
  T* o = out.data<T>();
  const std::int64_t n = x.numel();
  for (std::int64_t i = 0; i < n; ++i) o[i] = f(p[i]);
  return out;
}

// Strides of a tensor of shape s seen through the broadcast shape out (0 on broadcast dims).
inline std::vector<std::int64_t> broadcast_strides(const Shape& s, const Shape& out) {
  std::vector<std::int64_t> st(out.size(), 0);
  std::vector<std::int64_t> own = contiguous_strides(s);
  std::size_t lead = out.size() - s.size();
  for (std::size_t i = 0; i < s.size(); ++i) st[lead + i] = s[i] == 1 ? 0 : own[i];
  return st;
}

// Calls f(i_out, i_a, i_b) for every element of the broadcast shape out, with the flat offsets of
// the matching elements of a (shape sa) and b (shape sb). Adjacent dims along which each operand
// either always advances or always stays put are merged first, so (N, C, H, W) with (1, C, 1, 1)
// runs as (N, C, H·W): the innermost run is long and a plain loop the compiler can vectorize.
template <class F>
void broadcast_loop(const Shape& sa, const Shape& sb, const Shape& out, F f) {
  const std::int64_t n = numel(out);
  if (n == 0) return;
  if (sa == out && sb == out) {
    for (std::int64_t i = 0; i < n; ++i) f(i, i, i);
    return;
  }
  std::vector<std::int64_t> fa = broadcast_strides(sa, out), fb = broadcast_strides(sb, out);
  std::vector<std::int64_t> size, ta, tb;
  for (std::size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    if (!size.empty() && (ta.back() == 0) == (fa[d] == 0) && (tb.back() == 0) == (fb[d] == 0)) {
      size.back() *= out[d];
      ta.back() = fa[d];
      tb.back() = fb[d];
    } else {
      size.push_back(out[d]);
      ta.push_back(fa[d]);
      tb.push_back(fb[d]);
    }
  }
  if (size.empty()) {
    f(0, 0, 0);
    return;
  }
  const std::size_t rank = size.size();
  const std::int64_t inner = size[rank - 1], ia = ta[rank - 1], ib = tb[rank - 1];
  std::vector<std::int64_t> idx(rank, 0);
  std::int64_t oa = 0, ob = 0;
  for (std::int64_t base = 0; base < n; base += inner) {
    if (ia == 1 && ib == 1)
      for (std::int64_t j = 0; j < inner; ++j) f(base + j, oa + j, ob + j);
    else if (ia == 1 && ib == 0)
      for (std::int64_t j = 0; j < inner; ++j) f(base + j, oa + j, ob);
    else if (ia == 0 && ib == 1)
      for (std::int64_t j = 0; j < inner; ++j) f(base + j, oa, ob + j);
    else
      for (std::int64_t j = 0; j < inner; ++j) f(base + j, oa + j * ia, ob + j * ib);
    // advance the multi-index over all but the innermost run
    for (std::size_t d = rank - 1; d-- > 0;) {
      oa += ta[d];
      ob += tb[d];
      if (++idx[d] < size[d]) break;
      oa -= ta[d] * size[d];
      ob -= tb[d] * size[d];
      idx[d] = 0;
    }
  }
}

// o[i] = c[i] != 0 ? a[i] : b[i], with a (or b) a single value when ConstA (ConstB). Both sides
// are loaded unconditionally so the loop compiles to a branch-free blend.
template <bool ConstA, bool ConstB, class T>
void select(std::int64_t n, const T* c, const T* a, const T* b, T* o) {
  for (std::int64_t i = 0; i < n; ++i) {
    T va = a[ConstA ? 0 : i], vb = b[ConstB ? 0 : i];
    o[i] = c[i] != 0 ? va : vb;
  }
}

// A tensor viewed as (outer, n, inner) around dimension dim.
struct DimView {
  std::int64_t outer = 1, n = 1, inner = 1;
  DimView(const Shape& s, std::int64_t dim) {
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(s.size()); ++i) {
      if (i < dim) outer *= s[i];
      else if (i == dim) n = s[i];
      else inner *= s[i];
    }
  }
};

// C(m,n) = op(A)·op(B) + beta·C through OpenBLAS, row-major with leading dimensions; op
// transposes per flag.
inline void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                 const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

inline void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const double* a, std::int64_t lda,
                 const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

}  // namespace zg::kernel
