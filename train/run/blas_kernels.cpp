#include "zoograd/train/run/blas_kernels.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace zg {
namespace {

// Set before the restart, so that the restarted program can say what OpenBLAS chose by itself.
constexpr const char* kOwnChoice = "ZOOGRAD_OPENBLAS_OWN_CORETYPE";

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

CpuVectors cpu_vectors() {
  __builtin_cpu_init();  // also checks that the OS saves the vector registers (XCR0)
  return {.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"),
          .avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")};
}

std::string fitting_blas_coretype(std::string_view openblas_core, const CpuVectors& cpu) {
  // OpenBLAS 0.3.21's x86-64 kernel sets with AVX2 or more. Any of these means OpenBLAS knew the
  // CPU's family (it runs a Zen 4 on its Zen kernels, for one): its choice stands.
  static constexpr std::array<std::string_view, 6> kModern = {"haswell",    "zen",          "skylakex",
                                                              "cooperlake", "sapphirerapids", "excavator"};
  const std::string core = lowercase(openblas_core);
  if (std::find(kModern.begin(), kModern.end(), core) != kModern.end()) return "";
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  return "";
}

void restart_with_fitting_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string own = openblas_get_corename();
  const std::string fitting = fitting_blas_coretype(own, cpu_vectors());
  if (fitting.empty()) return;
  setenv("OPENBLAS_CORETYPE", fitting.c_str(), 1);
  setenv(kOwnChoice, own.c_str(), 1);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: the environment says again what this process runs on
  unsetenv(kOwnChoice);
}

std::string blas_kernels_report() {
  std::string report = std::string("openblas: ") + openblas_get_config() + "\n";
  report += std::string("openblas kernels: ") + openblas_get_corename();
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  const char* own = std::getenv(kOwnChoice);
  if (forced == nullptr)
    report += " (OpenBLAS's own choice)";
  else
    report += std::string(" (OPENBLAS_CORETYPE=") + forced +
              (own ? std::string(", set by zoograd: OpenBLAS chose ") + own + " for this CPU" : "") + ")";
  const CpuVectors cpu = cpu_vectors();
  report += std::string("\ncpu vectors: ") + (cpu.avx512 ? "AVX-512" : cpu.avx2_fma ? "AVX2 + FMA" : "older than AVX2");
  return report + "\n";
}

}  // namespace zg
