#pragma once
// Loop helpers shared by the op files (private to core/). They compute values only; recording
// the graph is the op's business.
#include "zoograd/core/kernels/blas.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "zoograd/core/kernels/parallel.h"
#include "zoograd/core/tensor.h"

namespace zg::kernel {

// An elementwise loop worth waking a second thread for (about 20 µs of work).
constexpr std::int64_t kElementsPerThread = 1 << 15;

// out[i] = f(x[i]) in x's dtype.
template <class T, class F>
Tensor map(const Tensor& x, F f) {
  Tensor out = empty(x.shape(), x.dtype());
  const T* p = x.data<T>();
  T* o = out.data<T>();
  parallel_for(x.numel(), kElementsPerThread, [o, p, f](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) o[i] = f(p[i]);
  });
  return out;
}

// x[i] = f(x[i]) in place.
template <class T, class F>
void map_inplace(Tensor& x, F f) {
  T* p = x.data<T>();
  parallel_for(x.numel(), kElementsPerThread, [p, f](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) p[i] = f(p[i]);
  });
}

// out[i] = f(a[i], b[i]) for a and b of one shape, in a's dtype (b's must match).
template <class T, class F>
Tensor zip_same(const Tensor& a, const Tensor& b, F f) {
  Tensor out = empty(a.shape(), a.dtype());
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* o = out.data<T>();
  parallel_for(a.numel(), kElementsPerThread, [o, pa, pb, f](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) o[i] = f(pa[i], pb[i]);
  });
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

inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* a, int lda,
                      const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const double* a, int lda,
                      const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

// C(m,n) = op(A)·op(B) + beta·C, row-major with leading dimensions; op transposes per flag. A
// large product is split along C's longer side into blocks of whole 16-column (or row) strips,
// one per thread of the pool, each a single-threaded OpenBLAS call.
template <class T>
void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda, const T* b,
          std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  const bool split_columns = n >= m;
  const std::int64_t strip = 16, strips = ((split_columns ? n : m) + strip - 1) / strip;
  const std::int64_t work_per_strip = strip * (split_columns ? m : n) * k;
  const std::int64_t min_strips = std::max<std::int64_t>(1, (std::int64_t{1} << 20) / std::max<std::int64_t>(work_per_strip, 1));
  parallel_for(strips, min_strips, [=](std::int64_t s0, std::int64_t s1) {
    const std::int64_t from = s0 * strip, to = std::min(s1 * strip, split_columns ? n : m);
    const auto i = [](std::int64_t v) { return static_cast<int>(v); };
    if (split_columns)
      blas_gemm(opa, opb, i(m), i(to - from), i(k), a, i(lda), tb ? b + from * ldb : b + from, i(ldb), beta, c + from,
                i(ldc));
    else
      blas_gemm(opa, opb, i(to - from), i(n), i(k), ta ? a + from : a + from * lda, i(lda), b, i(ldb), beta,
                c + from * ldc, i(ldc));
  });
}

// o (shape) = p with its dims reordered: out dim i comes from p's dim order[i], stepping p by
// step[i] elements.
template <class T>
void permute_copy(const T* p, T* o, const Shape& shape, const std::vector<std::int64_t>& order,
                  const std::vector<std::int64_t>& step) {
  // Trailing dims that keep their place move as contiguous blocks: (O, N, oh, ow) -> (N, O, oh, ow)
  // copies runs of oh·ow elements; only the leading dims are stepped one index at a time.
  std::size_t lead = order.size();
  while (lead > 0 && order[lead - 1] == static_cast<std::int64_t>(lead - 1)) --lead;
  std::int64_t block = 1, numel = 1;
  for (std::size_t d = lead; d < order.size(); ++d) block *= shape[d];
  for (std::int64_t s : shape) numel *= s;
  std::vector<std::int64_t> idx(lead, 0);
  std::int64_t off = 0;
  for (std::int64_t i = 0; i < numel; i += block) {
    if (block == 1) o[i] = p[off];
    else std::copy_n(p + off, block, o + i);
    for (std::size_t d = lead; d-- > 0;) {
      off += step[d];
      if (++idx[d] < shape[d]) break;
      off -= step[d] * shape[d];
      idx[d] = 0;
    }
  }
}

}  // namespace zg::kernel
