// `zoograd train --dtype float64`: parameters, momentum and batches in float64, saved as such in
// model.safetensors and the checkpoints, evaluated and resumed as float64; a resume that asks for
// the other dtype and a dtype zoograd does not have are refused, naming the values. Small runs on
// stroke images (a few hundred milliseconds each).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "zoograd/core/io/serialize.h"
#include "zoograd/tests/child_process.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/config.h"
#include "zoograd/train/run/trainer.h"
#include "zoograd/train/run/values.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::error_of;
using zg_tests::Finished;
using zg_tests::TempDir;

// 96 stroke images (16x16, 3 classes) in batches of 16: 6 steps an epoch.
std::vector<std::string> strokes_run(const std::string& data, const std::string& out, int epochs,
                                     const std::string& dtype) {
  return {"train", "--data", data, "--hidden", "16", "--batch-size", "16", "--epochs", std::to_string(epochs), "--lr",
          "0.05", "--dtype", dtype, "--threads", "1", "--quiet", "--out", out};
}

Finished zoograd(const TempDir& dir, const std::vector<std::string>& args) { return zg_tests::zoograd(args, dir.path()); }

NamedTensors tensors_of(const fs::path& file) { return load_safetensors(file.string()).tensors; }

void expect_dtype(const NamedTensors& tensors, DType dtype, const std::string& file) {
  ASSERT_FALSE(tensors.empty()) << file;
  for (const auto& [name, t] : tensors) EXPECT_EQ(t.dtype(), dtype) << file << ": " << name;
}

TEST(TrainDtype, Float64TrainsSavesEvaluatesAndResumesInFloat64) {
  TempDir dir;
  const std::string data = zg_tests::stroke_images(dir.path(), 96, 48);
  Finished straight = zoograd(dir, strokes_run(data, "straight", 2, "float64"));
  ASSERT_EQ(straight.code, 0) << straight.err;
  expect_dtype(tensors_of(dir / "straight/model.safetensors"), DType::Float64, "model.safetensors");
  // The checkpoint's model and momentum buffers, and the config that says so.
  expect_dtype(tensors_of(dir / "straight/checkpoint-000002.safetensors"), DType::Float64, "checkpoint");
  std::ifstream config(dir / "straight/config.json");
  EXPECT_EQ(nlohmann::json::parse(config).at("dtype"), "float64");

  // Resumed without --dtype, the run goes on in float64, bit-identical to the straight run.
  ASSERT_EQ(zoograd(dir, strokes_run(data, "split", 1, "float64")).code, 0);
  Finished resumed = zoograd(dir, {"train", "--resume", "split", "--epochs", "2"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  const NamedTensors a = tensors_of(dir / "straight/model.safetensors"), b = tensors_of(dir / "split/model.safetensors");
  expect_dtype(b, DType::Float64, "resumed model.safetensors");
  EXPECT_EQ(zg_tests::values_of(a), zg_tests::values_of(b));

  // zoograd eval loads the float64 model and finds the run's last test loss and accuracy exactly.
  std::ifstream metrics(dir / "straight/metrics.jsonl");
  nlohmann::json last;
  for (std::string line; std::getline(metrics, line);) last = nlohmann::json::parse(line);
  const Evaluation e = run_eval(dir / "straight", "", nullptr);
  EXPECT_EQ(e.accuracy, last.at("test_accuracy").get<double>());
  EXPECT_EQ(e.loss, last.at("test_loss").get<double>());

  // The float32 run of the same settings starts from the same weights (float64 widens float32's
  // draws) and ends near but not at the float64 weights: the sums were done in another precision.
  ASSERT_EQ(zoograd(dir, strokes_run(data, "narrow", 2, "float32")).code, 0);
  const NamedTensors c = tensors_of(dir / "narrow/model.safetensors");
  expect_dtype(c, DType::Float32, "float32 model.safetensors");
  const std::vector<double> wide = zg_tests::values_of(a), narrow = zg_tests::values_of(c);
  ASSERT_EQ(wide.size(), narrow.size());
  double largest = 0;
  for (std::size_t i = 0; i < wide.size(); ++i) largest = std::max(largest, std::abs(wide[i] - narrow[i]));
  EXPECT_GT(largest, 0);
  EXPECT_LT(largest, 1e-4);
}

TEST(TrainDtype, AResumeAskingForTheOtherDtypeIsRefusedNamingBoth) {
  TempDir dir;
  const std::string data = zg_tests::stroke_images(dir.path(), 48, 24);
  ASSERT_EQ(zoograd(dir, strokes_run(data, "run", 1, "float64")).code, 0);
  Finished f = zoograd(dir, {"train", "--resume", "run", "--epochs", "2", "--dtype", "float32"});
  EXPECT_EQ(f.code, 2) << f.err;
  EXPECT_EQ(f.err_lines(), 1) << f.err;
  EXPECT_CONTAINS(f.err, "--resume run: --dtype float32 (the run has --dtype float64) contradict the saved run");
  EXPECT_FALSE(fs::exists(dir / "run/checkpoint-000002.safetensors"));
  // Naming the saved dtype is no contradiction.
  EXPECT_EQ(zoograd(dir, {"train", "--resume", "run", "--epochs", "2", "--dtype", "float64"}).code, 0);
}

TEST(TrainDtype, AnUnknownDtypeIsABadCommandLineNamingTheValueAndTheChoices) {
  TempDir dir;
  Finished f = zoograd(dir, {"train", "--data", "blobs", "--dtype", "float16", "--out", "run"});
  EXPECT_EQ(f.code, 2) << f.err;
  EXPECT_EQ(f.err_lines(), 1) << f.err;
  EXPECT_CONTAINS(f.err, "--dtype: unknown dtype \"float16\"; expected float32 or float64");
  EXPECT_FALSE(fs::exists(dir / "run"));
  // The config key goes through the same door.
  EXPECT_EQ(error_of([] { TrainConfig::from_json({{"dtype", "float16"}}, "cfg.json"); }),
            "cfg.json: setting \"dtype\": unknown dtype \"float16\"; expected float32 or float64");
  EXPECT_CONTAINS(error_of([] { TrainConfig::from_json({{"dtype", 64}}, "cfg.json"); }),
                  "cfg.json: setting \"dtype\" has the wrong type (number, expected a string)");
  EXPECT_EQ(TrainConfig::from_json({{"dtype", "float64"}}, "cfg.json").tensor_dtype(), DType::Float64);
  EXPECT_EQ(TrainConfig{}.tensor_dtype(), DType::Float32);  // the default, and what older config files mean
  EXPECT_THROW(TrainConfig::from_json({{"dtype", "double"}}, "cfg.json"), UsageError);
}

}  // namespace
