// The program's check of OpenBLAS's kernel choice (train/run/blas_kernels.h): the decision for
// each kind of CPU and OpenBLAS choice, and the program restarting itself onto fitting kernels.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "test_util.h"
#include "zoograd/train/run/blas_kernels.h"

using namespace zg;

namespace {

constexpr CpuVectors kSse{}, kAvx2{.avx2_fma = true}, kAvx512{.avx2_fma = true, .avx512 = true};

TEST(BlasKernels, AFallbackOntoOldKernelsIsReplacedByTheCpusBest) {
  EXPECT_EQ(fitting_blas_coretype("Prescott", kAvx512), "SkylakeX");  // 0.3.21 on an Emerald Rapids Xeon
  EXPECT_EQ(fitting_blas_coretype("Prescott", kAvx2), "Haswell");
  EXPECT_EQ(fitting_blas_coretype("Nehalem", kAvx512), "SkylakeX");
  EXPECT_EQ(fitting_blas_coretype("Sandybridge", kAvx2), "Haswell");  // AVX kernels on an AVX2 CPU
  EXPECT_EQ(fitting_blas_coretype("unknown", kAvx2), "Haswell");
}

TEST(BlasKernels, OpenBlassChoiceStandsWhenItHasAvx2OrTheCpuHasNothingBetter) {
  EXPECT_EQ(fitting_blas_coretype("Haswell", kAvx2), "");
  EXPECT_EQ(fitting_blas_coretype("SkylakeX", kAvx512), "");
  EXPECT_EQ(fitting_blas_coretype("cooperlake", kAvx512), "");  // the name in any case
  EXPECT_EQ(fitting_blas_coretype("Zen", kAvx512), "");          // a known family: a Zen 4 on the Zen kernels
  EXPECT_EQ(fitting_blas_coretype("Prescott", kSse), "");
}

// Sets (or, with nullopt, unsets) an environment variable for one test and puts the old value back.
class Env {
 public:
  Env(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value->c_str(), 1) : unsetenv(name);
  }
  ~Env() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(BlasKernels, TheProgramRunsOnKernelsThatFitTheCpu) {
  Env unset("OPENBLAS_CORETYPE", std::nullopt);
  Env marker("ZOOGRAD_OPENBLAS_OWN_CORETYPE", std::nullopt);
  const zg_tests::CliRun r = zg_tests::run_cli("info");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto at = r.out.find("openblas kernels: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string core = r.out.substr(at + 18, r.out.find_first_of(" \n", at + 18) - (at + 18));
  // Whatever OpenBLAS chose by itself, the program runs on kernels at least as wide as the CPU's
  // vectors allow (up to AVX-512), and says who chose them.
  EXPECT_EQ(fitting_blas_coretype(core, cpu_vectors()), "") << r.out;
  if (r.out.find("set by zoograd") != std::string::npos) {
    EXPECT_CONTAINS(r.out, "OPENBLAS_CORETYPE=" + core);
  }
  EXPECT_CONTAINS(r.out, "threads: ");
}

TEST(BlasKernels, ASetCoretypeIsTheUsersChoice) {
  Env haswell("OPENBLAS_CORETYPE", "Haswell");
  const zg_tests::CliRun r = zg_tests::run_cli("info");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "openblas kernels: Haswell (OPENBLAS_CORETYPE=Haswell)\n");
}

}  // namespace
