#include <algorithm>
#include <vector>

#include "zoograd/core/kernels/blas.h"

namespace zg {

template <class T>
void portable_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                   std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
  if (k == 0 || alpha == T(0)) return;
  // Blocks of op(B) (kBlock rows of k by kBlock columns of n) stay in cache while every row of
  // A passes over them; B is copied into a contiguous row-major block first, so the inner loop
  // runs along a row of C and one of the block whatever the transposes.
  constexpr std::int64_t kBlock = 128;
  std::vector<T> block(static_cast<std::size_t>(kBlock * kBlock));
  for (std::int64_t p0 = 0; p0 < k; p0 += kBlock) {
    const std::int64_t p1 = std::min(k, p0 + kBlock);
    for (std::int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const std::int64_t j1 = std::min(n, j0 + kBlock), width = j1 - j0;
      for (std::int64_t p = p0; p < p1; ++p)
        for (std::int64_t j = j0; j < j1; ++j) block[static_cast<std::size_t>((p - p0) * width + (j - j0))] = tb ? b[j * ldb + p] : b[p * ldb + j];
      for (std::int64_t i = 0; i < m; ++i) {
        T* row = c + i * ldc + j0;
        for (std::int64_t p = p0; p < p1; ++p) {
          const T av = alpha * (ta ? a[p * lda + i] : a[i * lda + p]);
          const T* bp = &block[static_cast<std::size_t>((p - p0) * width)];
          for (std::int64_t j = 0; j < width; ++j) row[j] += av * bp[j];
        }
      }
    }
  }
}

template void portable_gemm<float>(bool, bool, std::int64_t, std::int64_t, std::int64_t, float, const float*,
                                   std::int64_t, const float*, std::int64_t, float, float*, std::int64_t);
template void portable_gemm<double>(bool, bool, std::int64_t, std::int64_t, std::int64_t, double, const double*,
                                    std::int64_t, const double*, std::int64_t, double, double*, std::int64_t);

}  // namespace zg
