#pragma once
// OpenBLAS chooses its GEMM kernels once, when it loads, from the CPU's model number. A CPU newer
// than the OpenBLAS build falls back to the oldest x86-64 kernels: Debian 12's OpenBLAS 0.3.21 runs
// an Emerald Rapids Xeon (model 207) on its Prescott (SSE3) kernels, and the MLP's GEMMs take four
// times as long (gemm_floor: 5.1–6.5 s an epoch against 1.2–1.5 s on the SkylakeX kernels). The
// program checks the choice against the CPU's instruction sets and, when OpenBLAS fell back, starts
// itself again with OPENBLAS_CORETYPE naming the kernels that fit; a set OPENBLAS_CORETYPE is the
// user's choice and is kept.
#include <string>
#include <string_view>

namespace zg {

struct CpuVectors {
  bool avx2_fma = false;  // AVX2 and FMA3: OpenBLAS's Haswell kernels
  bool avx512 = false;    // AVX-512 F, BW, DQ and VL: its SkylakeX kernels
};

CpuVectors cpu_vectors();  // this CPU's, as the OS enables them

// The OPENBLAS_CORETYPE that fits a CPU with `cpu` when OpenBLAS chose `openblas_core` for it, or ""
// when OpenBLAS's choice stands (it chose kernels with AVX2 or more, or the CPU has nothing better).
std::string fitting_blas_coretype(std::string_view openblas_core, const CpuVectors& cpu);

// When OPENBLAS_CORETYPE is unset and OpenBLAS fell back (above): sets it and executes this program
// again with the same arguments. Returns only when no restart was needed or exec failed (then the
// run goes on with OpenBLAS's own kernels: slower, the same results).
void restart_with_fitting_blas_kernels(char** argv);

// What `zoograd info` prints of it: OpenBLAS's configuration and the kernels in use, and why.
std::string blas_kernels_report();

}  // namespace zg
