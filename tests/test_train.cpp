// The training program: accuracy on a synthetic set, exact save/load, bit-identical resume, and
// the command line's exit codes.
#include <gtest/gtest.h>

#include <cblas.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "zoograd/core/io/serialize.h"
#include "zoograd/tests/browser.h"
#include "zoograd/tests/figure_checks.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/loss/loss_tool.h"
#include "zoograd/train/run/trainer.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("zoograd_test_train_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

TrainConfig moons_config(const fs::path& out, std::int64_t epochs) {
  TrainConfig c;
  c.data = "moons";
  c.hidden = {32, 32};
  c.batch_size = 16;
  c.lr = 0.1;
  c.epochs = epochs;
  c.seed = 7;
  c.threads = 1;  // one OpenBLAS thread: the same sums in the same order every run
  c.quiet = true;
  c.out = out.string();
  return c;
}

// The metrics without the timing columns, which differ from run to run.
std::string metrics_without_timing(const fs::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  std::string line, all;
  while (std::getline(in, line)) {
    nlohmann::json m = nlohmann::json::parse(line);
    m.erase("seconds");
    m.erase("samples_per_second");
    all += m.dump() + "\n";
  }
  return all;
}

TEST(Train, ReachesHighAccuracyOnMoonsAndWritesTheRunFolder) {
  fs::path dir = fresh_dir("moons");
  TrainResult r = run_train(moons_config(dir, 10));
  EXPECT_GE(r.test_accuracy, 0.97);
  for (const char* f : {"config.json", "metrics.csv", "metrics.jsonl", "model.safetensors", "checkpoint-000009.safetensors",
                        "checkpoint-000010.safetensors", "loss.svg", "loss.png", "loss.pdf", "accuracy.svg", "accuracy.png",
                        "accuracy.pdf", "confusion.svg", "confusion.png", "confusion.pdf", "confusion.csv", "index.html",
                        "run.json", ".lock"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 19);  // only the two newest checkpoints
  std::ifstream csv(dir / "metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "epoch,step,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds,samples_per_second");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_EQ(rows, 10);

  // save/load round trip: the saved model evaluates to exactly the final test accuracy
  std::vector<std::string> names;
  Evaluation e = run_eval(dir.string(), "", &names);
  EXPECT_EQ(e.accuracy, r.test_accuracy);
  EXPECT_EQ(names.size(), 2u);
  std::int64_t total = 0;
  for (const auto& row : e.confusion)
    for (std::int64_t c : row) total += c;
  EXPECT_EQ(total, 1000);
  fs::remove_all(dir);
}

TEST(Train, SafetensorsRoundTripIsExact) {
  fs::path dir = fresh_dir("roundtrip");
  run_train(moons_config(dir, 1));
  SafetensorsFile a = load_safetensors((dir / "model.safetensors").string());
  save_safetensors((dir / "copy.safetensors").string(), a.tensors, a.metadata);
  SafetensorsFile b = load_safetensors((dir / "copy.safetensors").string());
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) EXPECT_EQ(a.tensors[i].first, b.tensors[i].first);
  EXPECT_EQ(zg_tests::values_of(a.tensors), zg_tests::values_of(b.tensors));
  EXPECT_EQ(a.tensors[0].first, "1.weight");  // Sequential(Flatten, Linear, ...) as PyTorch names it
  fs::remove_all(dir);
}

TEST(Train, ResumeIsBitIdenticalToAStraightRun) {
  fs::path straight = fresh_dir("straight"), split = fresh_dir("split");
  run_train(moons_config(straight, 4));
  run_train(moons_config(split, 2));
  run_train(moons_config(split, 4), {.resume = split.string()});
  SafetensorsFile a = load_safetensors((straight / "model.safetensors").string());
  SafetensorsFile b = load_safetensors((split / "model.safetensors").string());
  EXPECT_EQ(zg_tests::values_of(a.tensors), zg_tests::values_of(b.tensors));
  std::string resumed = metrics_without_timing(split);
  EXPECT_EQ(metrics_without_timing(straight), resumed);
  EXPECT_EQ(std::count(resumed.begin(), resumed.end(), '\n'), 4);
  fs::remove_all(straight);
  fs::remove_all(split);
}

TEST(Train, ResumeOfAFolderWithoutCheckpointSaysSo) {
  fs::path dir = fresh_dir("nockpt");
  fs::create_directories(dir);
  try {
    run_train(moons_config(dir, 2), {.resume = dir.string()});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint-<epoch>.safetensors in " + dir.string()), std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(Train, ResumeFallsBackToTheOlderCheckpointWhenTheNewestIsDamaged) {
  fs::path straight = fresh_dir("straight4"), split = fresh_dir("damaged");
  run_train(moons_config(straight, 4));
  run_train(moons_config(split, 3));
  fs::path newest = split / "checkpoint-000003.safetensors";
  fs::resize_file(newest, fs::file_size(newest) - 1);
  run_train(moons_config(split, 4), {.resume = split.string()});  // epoch 3 again from checkpoint 2, then 4
  EXPECT_EQ(zg_tests::values_of(load_safetensors((straight / "model.safetensors").string()).tensors),
            zg_tests::values_of(load_safetensors((split / "model.safetensors").string()).tensors));
  EXPECT_EQ(metrics_without_timing(straight), metrics_without_timing(split));
  EXPECT_FALSE(fs::exists(split / "checkpoint-000002.safetensors"));
  EXPECT_TRUE(fs::exists(split / "checkpoint-000003.safetensors"));
  fs::remove_all(straight);
  fs::remove_all(split);
}

using zg_tests::CliRun;
using zg_tests::run_cli;

TEST(Cli, HelpExitsZero) {
  CliRun r = run_cli("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("train"), std::string::npos);
  EXPECT_EQ(run_cli("train --help").code, 0);
}

TEST(Cli, BadFlagsExitTwoWithOneLine) {
  for (const char* args : {"train --bogus", "train --epochs many", "train --model transformer", "train --lr -1",
                           "frobnicate", "train --schedule cosine:x"}) {
    CliRun r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
  }
}

TEST(Cli, DataListShowsInstallCommandForMissingSets) {
  fs::path empty = fresh_dir("datadir");
  fs::create_directories(empty);
  CliRun r = run_cli("data list");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("fashion-mnist"), std::string::npos) << r.out;
  CliRun missing = run_cli("data list 2>&1 | cat; ZOOGRAD_DATA_DIR=" + empty.string() + " " + ZG_CLI_PATH + " data list");
  EXPECT_NE(missing.out.find("npm install --prefix " + empty.string()), std::string::npos) << missing.out;
  fs::remove_all(empty);
}

TEST(Cli, TrainPrintsAccuracyAndEvalPrintsTheConfusionMatrix) {
  fs::path dir = fresh_dir("cli");
  CliRun t = run_cli("train --data blobs --epochs 2 --hidden 16 --quiet --threads 1 --out " + dir.string());
  ASSERT_EQ(t.code, 0) << t.out;
  EXPECT_NE(t.out.find("test accuracy: "), std::string::npos) << t.out;
  CliRun e = run_cli("eval --model " + dir.string());
  ASSERT_EQ(e.code, 0) << e.out;
  EXPECT_NE(e.out.find("confusion matrix"), std::string::npos) << e.out;
  CliRun bad = run_cli("eval --model " + dir.string() + "/nothing");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("model.safetensors does not exist"), std::string::npos) << bad.out;
  fs::remove_all(dir);
}

}  // namespace

namespace {

// Runs zoograd with args and the given text on standard input.
CliRun run_cli_with_input(const std::string& args, const std::string& input) {
  zg_tests::TempDir dir;
  std::ofstream(dir / "stdin.json") << input;
  return run_cli(args + " < " + (dir / "stdin.json"));
}

TEST(CliLoss, ListShowsEveryCatalogLossAndJsonParses) {
  CliRun text = run_cli("loss list");
  ASSERT_EQ(text.code, 0) << text.out;
  for (const char* name : {"mse_loss", "cross_entropy", "multi_margin_loss", "triplet_margin_loss", "arcface_loss"})
    EXPECT_NE(text.out.find(name), std::string::npos) << name;
  CliRun js = run_cli("loss list --json");
  ASSERT_EQ(js.code, 0);
  nlohmann::json all = nlohmann::json::parse(js.out);
  EXPECT_GE(all.size(), 30u);
  EXPECT_TRUE(all[0].contains("params"));
}

TEST(CliLoss, EvalPrintsLossGradientAndHessianDiagonal) {
  // cross_entropy([[1, 2, 0.5]], [1]): p = softmax, loss = -log p_1, grad = p - e_1, hessian diag = p(1-p)
  CliRun r = run_cli_with_input("loss eval cross_entropy --hessian-diag",
                                R"({"inputs": {"input": [[1, 2, 0.5]], "target": [1]}})");
  ASSERT_EQ(r.code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  double z[3] = {1, 2, 0.5}, s = std::exp(1.0) + std::exp(2.0) + std::exp(0.5);
  EXPECT_NEAR(j["loss"].get<double>(), -std::log(std::exp(2.0) / s), 1e-12);
  for (int c = 0; c < 3; ++c) {
    double p = std::exp(z[c]) / s;
    EXPECT_NEAR(j["grad"]["input"][0][c].get<double>(), p - (c == 1), 1e-12);
    EXPECT_NEAR(j["hessian_diag"]["input"][0][c].get<double>(), p * (1 - p), 1e-12);
  }
}

TEST(CliLoss, BadInputExitsTwoWithOneLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"loss eval cross_entropy", "not json"},
      {"loss eval cross_entropy", R"({"inputs": {"input": [[1, 2], [3]], "target": [1, 0]}})"},
      {"loss eval cross_entropy", R"({"inputs": {"input": [[1, 2]], "target": [5]}})"},
      {"loss eval cross_entropy --set bogus=1", "{}"},
      {"loss eval no_such_loss", "{}"},
      {"loss eval mse_loss --reduction median", "{}"}};
  for (const auto& [args, input] : cases) {
    CliRun r = run_cli_with_input(args, input);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
  }
}

}  // namespace

namespace {

// The README's zoo table is `zoograd loss list --markdown`, pasted between its two markers.
TEST(CliLoss, ReadmeZooTableIsCurrent) {
  std::ifstream in(std::string(ZG_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  std::string readme = text.str();
  std::size_t begin = readme.find("<!-- zoo-table"), end = readme.find("<!-- /zoo-table -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  begin = readme.find('\n', begin) + 1;
  std::istringstream in_readme(readme.substr(begin, end - begin)), generated(zg::loss_list(zg::ListFormat::Markdown));
  std::string want, got;
  for (int line = 1; std::getline(generated, want); ++line) {
    ASSERT_TRUE(std::getline(in_readme, got)) << "the README's table ends before line " << line;
    ASSERT_EQ(got, want) << "line " << line << " differs; regenerate the table with: zoograd loss list --markdown";
  }
  EXPECT_FALSE(std::getline(in_readme, got)) << "the README's table has extra lines";
}

}  // namespace

namespace {

TEST(Train, TheRunFiguresAreReadableWithLossAndAccuracyApart) {
  nlohmann::json metrics = nlohmann::json::array();
  for (int e = 1; e <= 3; ++e)
    metrics.push_back({{"epoch", e}, {"train_loss", 1.0 / e}, {"test_loss", 1.2 / e}, {"train_accuracy", 0.5 + 0.1 * e},
                       {"test_accuracy", 0.45 + 0.1 * e}});
  const auto figures = run_report_figures({{"loss", "cross_entropy"}}, metrics, {{5, 1}, {2, 7}}, {"T-shirt/top", "Trouser"});
  ASSERT_EQ(figures.size(), 3u);
  EXPECT_EQ(figures[0].first, "loss");
  EXPECT_EQ(figures[1].first, "accuracy");
  EXPECT_EQ(figures[2].first, "confusion");
  for (const auto& [stem, figure] : figures) zg_tests::expect_readable(figure, stem);
  EXPECT_EQ(figures[1].second.axes().at(0).y_label, "accuracy (%)");
  EXPECT_GT(figures[1].second.axes().at(0).y1, 75);  // percent, not fractions
}

TEST(Train, TheRunPageRendersInHeadlessChromium) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << "chromium is not installed; scripts/setup installs it (apt-get install chromium)";
  fs::path dir = fresh_dir("page");
  run_train(moons_config(dir, 2));
  const zg_tests::PageRender page = zg_tests::render_page((dir / "index.html").string());
  EXPECT_CONTAINS(page.dom, "data-images=\"3 of 3 loaded\"");
  EXPECT_CONTAINS(page.dom, "data-overflow=\"none\"");
  EXPECT_CONTAINS(page.dom, "data-smallest-image-scale=\"1.000\"");
  EXPECT_FALSE(zg_tests::looks_blank(page));
  fs::remove_all(dir);
}

TEST(CliLoss, PlotWritesThePicturesAndRefusesAFileAsFolder) {
  zg_tests::TempDir dir;
  CliRun ok = run_cli("loss plot --out " + dir / "plots");
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(fs::exists(dir.path() / "plots" / "index.html"));
  EXPECT_TRUE(fs::exists(dir.path() / "plots" / "binary_boundaries.svg"));
  EXPECT_EQ(run_cli("loss plot --out " + dir / "p --format gif").code, 2);
  EXPECT_EQ(run_cli("loss plot --out " + dir / "p --set focal_pt.beta=1").code, 2);
  EXPECT_EQ(run_cli("loss plot --out " + dir / "p --only nothing").code, 2);
  EXPECT_FALSE(fs::exists(dir.path() / "p"));  // refused before anything was drawn
  CliRun one = run_cli("loss plot --out " + dir / "p --only focal_pt --format svg,pdf --classes 3");
  ASSERT_EQ(one.code, 0) << one.out;
  EXPECT_TRUE(fs::exists(dir.path() / "p" / "focal_pt.pdf"));
  EXPECT_FALSE(fs::exists(dir.path() / "p" / "focal_pt.png"));
  std::ofstream(dir / "file") << "x";
  CliRun bad = run_cli("loss plot --out " + dir / "file/plots");
  EXPECT_EQ(bad.code, 1);
  EXPECT_CONTAINS(bad.out, "file/plots: cannot create the folder");
  EXPECT_EQ(run_cli("loss plot").code, 2);  // --out is required
}

}  // namespace
