#pragma once
// The GEMM core calls: OpenBLAS's cblas, or, in a build without it (ZG_PORTABLE_GEMM: the loss
// explorer's WebAssembly module), the same two entry points over zg::portable_gemm, so the op code
// is the same in both builds.
#include <cstdint>

namespace zg {

// C(m, n) = alpha·op(A)·op(B) + beta·C, row-major with leading dimensions, op transposing A or B
// when ta or tb: plain C++ in cache-sized blocks, for builds without OpenBLAS. beta = 0 ignores C's
// old values (NaN included), as BLAS does.
template <class T>
void portable_gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                   std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

}  // namespace zg

#ifdef ZG_PORTABLE_GEMM
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };

inline void cblas_sgemm(CBLAS_ORDER, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                        const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  zg::portable_gemm<float>(ta == CblasTrans, tb == CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void cblas_dgemm(CBLAS_ORDER, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha,
                        const double* a, int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  zg::portable_gemm<double>(ta == CblasTrans, tb == CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// One thread: the pool then never starts one (there are none to take from OpenBLAS).
inline int openblas_get_num_threads() { return 1; }
inline void openblas_set_num_threads(int) {}
#else
#include <cblas.h>
#endif
