// Reliability: a diverging run stops before the bad step (exit code 3), anomaly mode names the op
// that made the first NaN/Inf, two processes with one seed write the same weights bit for bit,
// and NumPy reads our safetensors bit-exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>

#include "zoograd/core/autograd.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/datasets/synthetic.h"
#include "zoograd/layers/linear.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/trainer.h"

namespace {

using namespace zg;
using zg_tests::error_of;
using zg_tests::TempDir;

// Passes its input through, except on its `at`-th forward, where it returns log(x - x) = log(0):
// -inf everywhere, and so a NaN loss. It keeps the watched weight as it was at that moment.
class LogOfZeroAt : public Module {
 public:
  LogOfZeroAt(std::int64_t at, Tensor watched) : at_(at), watched_(std::move(watched)) {}
  Tensor forward(const Tensor& x) override {
    if (++calls_ != at_) return x;
    weight_then_ = watched_.to_vector();
    return log(x - x);
  }
  const std::vector<double>& weight_then() const { return weight_then_; }

 private:
  std::int64_t at_, calls_ = 0;
  Tensor watched_;
  std::vector<double> weight_then_;
};

struct InjectedRun {
  Sequential model;
  std::shared_ptr<Linear> linear;
  std::shared_ptr<LogOfZeroAt> inject;
};

// Linear(2, 3) then the injection on the third step of blobs batches of 8.
std::string train_with_log_of_zero(InjectedRun& run) {
  Generator gen(3);
  Dataset blobs = make_blobs(16, 3, 0.5, gen);
  run.linear = std::make_shared<Linear>(2, 3, gen);
  run.inject = std::make_shared<LogOfZeroAt>(3, run.linear->weight);
  run.model.push_back(run.linear);
  run.model.push_back(run.inject);
  SGD optimizer(run.model.parameters(), {.lr = 0.05, .momentum = 0.9});
  DataLoader loader(blobs, {.batch_size = 8, .shuffle = true}, gen);
  Objective objective("cross_entropy", {});
  Progress progress(1, 1, blobs.size(), false);
  std::int64_t step = 0;
  std::string error = error_of([&] { train_epoch(run.model, objective, optimizer, loader, step, progress); });
  EXPECT_EQ(step, 2) << "two finite steps were taken, the third was refused";
  return error;
}

TEST(Divergence, NonFiniteLossStopsBeforeItsStepNamingStepLossAndLearningRate) {
  InjectedRun run;
  std::string error = train_with_log_of_zero(run);
  EXPECT_CONTAINS(error, "training diverged: the loss is nan at step 3 with learning rate 0.05");
  EXPECT_EQ(run.linear->weight.to_vector(), run.inject->weight_then()) << "the NaN step must not touch the weights";
  for (double w : run.linear->weight.to_vector()) EXPECT_TRUE(std::isfinite(w));
}

TEST(Divergence, ThrowsTheTypeTheCommandLineMapsToExitCodeThree) {
  InjectedRun run;
  Generator gen(3);
  Dataset blobs = make_blobs(8, 3, 0.5, gen);
  auto linear = std::make_shared<Linear>(2, 3, gen);
  run.model.push_back(linear);
  run.model.push_back(std::make_shared<LogOfZeroAt>(1, linear->weight));
  SGD optimizer(run.model.parameters(), {.lr = 0.05});
  DataLoader loader(blobs, {.batch_size = 8}, gen);
  Progress progress(1, 1, blobs.size(), false);
  std::int64_t step = 0;
  EXPECT_THROW(train_epoch(run.model, Objective("cross_entropy", {}), optimizer, loader, step, progress),
               DivergenceError);
}

TEST(Divergence, AnomalyModeNamesTheLogThatMadeTheFirstInfAndItsShape) {
  DetectAnomalyGuard anomaly;
  InjectedRun run;
  std::string error = train_with_log_of_zero(run);
  EXPECT_CONTAINS(error, "anomaly: op 'log' produced -inf at element 0 of its output of shape [8, 3]");
}

TEST(Divergence, CommandLineExitsThreeNamingStepLossAndLearningRate) {
  TempDir dir;
  zg_tests::CliRun r = zg_tests::run_cli("train --data blobs --epochs 3 --hidden 16 --lr 1000 --quiet --threads 1 --out " +
                                         dir / "run");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_CONTAINS(r.out, "zoograd: training diverged: the loss is ");
  EXPECT_CONTAINS(r.out, " with learning rate 1000; that step was not taken");
  EXPECT_EQ(r.out.find("zoograd: error"), std::string::npos) << r.out;

  zg_tests::CliRun a = zg_tests::run_cli("train --data blobs --epochs 3 --hidden 16 --lr 1000 --quiet --threads 1 "
                                         "--detect-anomaly --out " + dir / "anomaly");
  EXPECT_EQ(a.code, 3) << a.out;
  EXPECT_CONTAINS(a.out, "zoograd: training diverged: anomaly: ");
  EXPECT_CONTAINS(a.out, "of shape [");
}

// ---- determinism ----

NamedTensors weights_of(const std::string& run_dir) { return load_safetensors(run_dir + "/model.safetensors").tensors; }

std::vector<std::uint8_t> bytes_of(const NamedTensors& tensors) {
  std::vector<std::uint8_t> out;
  for (const auto& [name, t] : tensors) {
    const auto* p = static_cast<const std::uint8_t*>(t.impl().storage->data);
    out.insert(out.end(), p, p + t.numel() * static_cast<std::int64_t>(dtype_size(t.dtype())));
  }
  return out;
}

TEST(Determinism, SameSeedInTwoProcessesWritesByteIdenticalWeights) {
  TempDir dir;
  // 2 epochs of 900 spirals in batches of 32: 58 steps of shuffling, an MLP and momentum SGD.
  auto train = [&](const std::string& out, int seed) {
    zg_tests::CliRun r = zg_tests::run_cli("train --data spirals --epochs 2 --batch-size 32 --hidden 64,64 --quiet --threads 1 "
                                           "--seed " + std::to_string(seed) + " --out " + dir / out);
    EXPECT_EQ(r.code, 0) << r.out;
    return weights_of(dir / out);
  };
  ::setenv("OPENBLAS_NUM_THREADS", "1", 1);
  NamedTensors first = train("a", 42), second = train("b", 42), other = train("c", 43);
  ASSERT_EQ(first.size(), 6u);
  EXPECT_EQ(bytes_of(first), bytes_of(second));
  EXPECT_NE(bytes_of(first), bytes_of(other)) << "another seed must give other weights, or this test proves nothing";
}

// ---- NumPy reads our files ----

// The bits of every element, as the NumPy reader prints them: one line per tensor.
std::string bit_lines(const NamedTensors& tensors) {
  std::ostringstream s;
  for (const auto& [name, t] : tensors) {
    s << name << " " << dtype_name(t.dtype()) << " " << to_string(t.shape()) << ":";
    const auto* p = static_cast<const std::uint8_t*>(t.impl().storage->data);
    const std::size_t size = dtype_size(t.dtype());
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      std::uint64_t bits = 0;
      std::memcpy(&bits, p + static_cast<std::size_t>(i) * size, size);  // little-endian host
      s << " " << bits;
    }
    s << "\n";
  }
  return s.str();
}

template <class T>
Tensor tensor_of(const std::vector<T>& values, const Shape& shape) {
  return from_data<T>(std::span<const T>(values), shape);
}

TEST(NumpyReader, ReadsEveryBitOfAFileWeWrote) {
  if (std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0)
    GTEST_SKIP() << "Debian's python3-numpy is not installed (scripts/setup installs it)";
  const float inf = std::numeric_limits<float>::infinity();
  NamedTensors tensors = {
      {"floats", tensor_of<float>({-0.0f, std::numeric_limits<float>::denorm_min(), inf, -inf,
                                   std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::max(), 1.0f / 3},
                                  {7})},
      {"doubles", tensor_of<double>({0.1, -2.5e-300, 1e300, std::numeric_limits<double>::denorm_min()}, {2, 2})},
      {"ints", tensor_of<std::int64_t>({-1, 0, std::numeric_limits<std::int64_t>::max(), 42, -7, 3}, {3, 1, 2})},
      {"empty", zeros({0, 4})},
      {"scalar", tensor_of<float>({2.5f}, {})},
  };
  TempDir dir;
  save_safetensors(dir / "t.safetensors", tensors, {{"note", "written by zoograd"}});
  const std::string cmd = "/usr/bin/python3 " ZG_SOURCE_DIR "/tests/numpy_safetensors.py " + dir / "t.safetensors";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ASSERT_EQ(::pclose(p), 0) << out;
  EXPECT_EQ(out, bit_lines(tensors));
}

}  // namespace
