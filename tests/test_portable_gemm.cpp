// The portable GEMM (the WebAssembly build's, in place of OpenBLAS) against OpenBLAS itself: every
// transpose, sizes across its 128-wide blocks, leading dimensions wider than the rows, alpha and
// beta, and beta = 0 ignoring whatever C held.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "zoograd/core/kernels/blas.h"
#include "zoograd/core/generator.h"

namespace {

template <class T>
void compare(bool ta, bool tb, int m, int n, int k, T alpha, T beta, zg::Generator& gen) {
  const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
  std::vector<T> a(static_cast<std::size_t>((ta ? k : m) * lda)), b(static_cast<std::size_t>((tb ? n : k) * ldb));
  std::vector<T> c(static_cast<std::size_t>(m * ldc));
  for (T& v : a) v = static_cast<T>(gen.normal());
  for (T& v : b) v = static_cast<T>(gen.normal());
  for (T& v : c) v = beta == T(0) ? T(NAN) : static_cast<T>(gen.normal());
  std::vector<T> want = c;
  const auto op = [](bool t) { return t ? CblasTrans : CblasNoTrans; };
  if constexpr (sizeof(T) == 4)
    cblas_sgemm(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  else
    cblas_dgemm(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  zg::portable_gemm<T>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  const double tolerance = (sizeof(T) == 4 ? 1e-4 : 1e-12) * std::sqrt(static_cast<double>(k) + 1);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      const std::size_t at = static_cast<std::size_t>(i * ldc + j);
      ASSERT_NEAR(c[at], want[at], tolerance * (1 + std::abs(want[at])))
          << "ta " << ta << " tb " << tb << " m " << m << " n " << n << " k " << k << " at (" << i << ", " << j << ")";
    }
}

TEST(PortableGemm, MatchesOpenBlasForEveryTransposeAndSize) {
  zg::Generator gen(7);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      compare<double>(ta, tb, 1, 1, 1, 1.0, 0.0, gen);
      compare<double>(ta, tb, 7, 130, 129, 0.5, 2.0, gen);  // across the block edges
      compare<float>(ta, tb, 33, 17, 300, 1.0f, 0.0f, gen);
      compare<float>(ta, tb, 5, 9, 0, 1.0f, 0.5f, gen);     // k = 0: C = beta·C
    }
}

}  // namespace
