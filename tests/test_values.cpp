// The one door for values (train/run/values.h, ValueRange in losses/catalog.h): every kind refuses
// non-finite, fractional-where-whole and out-of-range values naming the source, the value and the
// range; flags and config keys agree; every catalog parameter is checked; sizes are checked in the
// core before anything is allocated; no loop's trip count follows an unchecked parameter.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include "zoograd/core/ops.h"
#include "zoograd/losses/angular.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/tests/child_process.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/run/config.h"
#include "zoograd/train/loss/loss_tool.h"
#include "zoograd/train/run/models.h"
#include "zoograd/train/run/values.h"

namespace {

using namespace zg;
using zg_tests::error_of;

// The edge values of the generated sweep (test_edge_sweep.cpp), as a user might type them.
const std::vector<std::string> kEdges = {"0",   "-1",         "0.5",
                                         "1e300", "-1e300",   "nan",
                                         "inf", "2147483648", "9223372036854775808",
                                         "18446744073709551616", "", "text"};

TEST(Values, ParseNumberReadsTheWholeTextOnly) {
  EXPECT_EQ(parse_number("12"), 12.0);
  EXPECT_EQ(parse_number("-0.5"), -0.5);
  EXPECT_EQ(parse_number("1e300"), 1e300);
  EXPECT_TRUE(std::isnan(*parse_number("nan")));
  EXPECT_TRUE(std::isinf(*parse_number("inf")));
  for (const char* bad : {"", " 1", "12abc", "ten", "1,5", "0x", "--1"}) EXPECT_FALSE(parse_number(bad)) << bad;
}

TEST(Values, EachKindNamesTheSourceTheValueAndTheRange) {
  EXPECT_EQ(error_of([] { whole_in("--epochs", "0.5", kEpochRange); }),
            "--epochs: expected a whole number in [1, 1000000], got 0.5");
  EXPECT_EQ(error_of([] { whole_in("--epochs", "", kEpochRange); }),
            "--epochs: expected a whole number in [1, 1000000], got \"\"");
  EXPECT_EQ(error_of([] { whole_in("--threads", "2147483648", kThreadRange); }),
            "--threads: expected a whole number in [0, 1024], got 2147483648");
  EXPECT_EQ(error_of([] { number_in("--lr", "inf", kLearningRateRange); }),
            "--lr: expected a finite number in (0, 1000], got inf");
  EXPECT_EQ(error_of([] { number_in("--momentum", "1", kMomentumRange); }),
            "--momentum: expected a finite number in [0, 1), got 1");
  EXPECT_EQ(error_of([] { seed_from("--seed", "-1"); }),
            "--seed: expected a whole number in [0, 18446744073709551615], got -1");
  EXPECT_EQ(error_of([] { switch_from("--quiet", "nan"); }), "--quiet: expected 0, 1, false or true, got nan");
  EXPECT_EQ(error_of([] { number_in("x", "ten", ValueRange{}); }), "x: expected a finite number, got \"ten\"");
  // What each accepts, exactly.
  EXPECT_EQ(whole_in("--epochs", "1000000", kEpochRange), 1000000);
  EXPECT_EQ(whole_in("--epochs", "3.0", kEpochRange), 3);
  EXPECT_EQ(seed_from("--seed", "18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(seed_from("--seed", "1e3"), 1000u);
  EXPECT_TRUE(switch_from("--quiet", "true"));
  EXPECT_FALSE(switch_from("--quiet", "0"));
  EXPECT_THROW(seed_from("--seed", "18446744073709551616"), UsageError);
  EXPECT_THROW(seed_from("--seed", "0.5"), UsageError);
}

TEST(Values, RangesDescribeThemselves) {
  EXPECT_EQ(ValueRange{}.text(), "a finite number");
  EXPECT_EQ(ValueRange::positive().text(), "a finite number > 0");
  EXPECT_EQ(ValueRange::non_negative(100).text(), "a finite number in [0, 100]");
  EXPECT_EQ(ValueRange::probability().text(), "a finite number in [0, 1]");
  EXPECT_EQ(ValueRange::whole(1, 2).text(), "a whole number in [1, 2]");
  EXPECT_EQ(ValueRange::boolean().text(), "0 or 1");
  for (double v : {0.5, 2.0, -1.0, std::nan("")}) EXPECT_FALSE(ValueRange::boolean().contains(v)) << v;
  for (double v : {std::nan(""), HUGE_VAL, -HUGE_VAL}) EXPECT_FALSE(ValueRange{}.contains(v)) << v;
  EXPECT_TRUE(ValueRange::index().contains(-100));
  EXPECT_FALSE(ValueRange::index().contains(1e300));
}

// Flags and config keys behave the same: each setting given an edge value as a flag's text, and as
// the same number in a config file, is accepted with the same value or refused by both.
TEST(Values, FlagsAndConfigKeysAgreeOnEveryEdgeValue) {
  for (const TrainSetting& s : train_settings()) {
    if (s.form != TrainSetting::Form::Number && s.form != TrainSetting::Form::Switch && s.form != TrainSetting::Form::List)
      continue;
    for (const std::string& edge : kEdges) {
      SCOPED_TRACE(s.flag + " " + edge);
      TrainConfig by_flag, by_file;
      std::string flag_error = error_of([&] { s.set(by_flag, s.flag, {edge}); });
      nlohmann::json value = nlohmann::json::parse(edge, nullptr, false);
      if (value.is_discarded()) continue;  // not a JSON number ("", "text", "nan", "inf")
      if (s.form == TrainSetting::Form::List) value = nlohmann::json::array({value});
      std::string file_error = error_of([&] { by_file = TrainConfig::from_json({{s.key, value}}, "cfg.json"); });
      EXPECT_EQ(flag_error.empty(), file_error.empty()) << flag_error << " | " << file_error;
      if (flag_error.empty()) EXPECT_EQ(s.get(by_flag), s.get(by_file));
      else EXPECT_CONTAINS(file_error, "cfg.json: setting \"" + s.key + "\": expected ");
    }
  }
}

// A config built in code passes the same door: validate() refuses what the flags refuse.
TEST(Values, ValidateChecksEveryFieldAsTheFlagWould) {
  auto refused = [](auto change) {
    TrainConfig c;
    change(c);
    return error_of([&] { c.validate(); });
  };
  EXPECT_EQ(refused([](TrainConfig& c) { c.threads = 2147483648; }),
            "--threads: expected a whole number in [0, 1024], got 2147483648");
  EXPECT_EQ(refused([](TrainConfig& c) { c.lr = INFINITY; }), "--lr: expected a finite number in (0, 1000], got inf");
  EXPECT_EQ(refused([](TrainConfig& c) { c.hidden = {512, 3000000000}; }),
            "--hidden: expected a whole number in [1, 16777216], got 3000000000");
  EXPECT_CONTAINS(refused([](TrainConfig& c) { c.loss_params = {{"ignore_index", 0.5}}; }),
                  "cross_entropy: ignore_index: expected a whole number");
  EXPECT_EQ(refused([](TrainConfig&) {}), "");
}

TEST(Values, EveryCatalogDefaultLiesInItsRangeAndEveryParameterRefusesNonFiniteValues) {
  for (const LossSpec& spec : loss_catalog())
    for (const LossParam& p : spec.params) {
      SCOPED_TRACE(spec.name + "." + p.name);
      EXPECT_TRUE(p.range.contains(p.default_value)) << p.default_value << " is not " << p.range.text();
      for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL})
        EXPECT_CONTAINS(error_of([&] { with_defaults(spec.name, spec.params, {{p.name, bad}}); }),
                        spec.name + ": " + p.name + ": expected ");
      if (p.range.kind != ValueRange::Kind::Real) {
        EXPECT_CONTAINS(error_of([&] { with_defaults(spec.name, spec.params, {{p.name, 0.5}}); }), "got 0.5");
      }
    }
}

TEST(Values, SwitchesIndicesAndWholeParametersAreDeclaredAsSuch) {
  auto kind_of = [](const std::string& loss, const std::string& name) {
    for (const LossParam& p : find_loss(loss).params)
      if (p.name == name) return p.range.kind;
    ADD_FAILURE() << loss << " has no " << name;
    return ValueRange::Kind::Real;
  };
  using K = ValueRange::Kind;
  for (auto [loss, name] : {std::pair{"kl_div", "log_target"}, {"poisson_nll_loss", "log_input"}, {"poisson_nll_loss", "full"},
                            {"gaussian_nll_loss", "full"}, {"arcface_loss", "easy_margin"}, {"triplet_margin_loss", "swap"}})
    EXPECT_EQ(kind_of(loss, name), K::Boolean) << loss << "." << name;
  for (auto [loss, name] : {std::pair{"cross_entropy", "ignore_index"}, {"nll_loss", "ignore_index"},
                            {"lsoftmax_loss", "m"}, {"sphereface_loss", "m"}, {"sphereface_loss", "iteration"},
                            {"multi_margin_loss", "p"}})
    EXPECT_EQ(kind_of(loss, name), K::Whole) << loss << "." << name;
}

// The combined margin's branch loop ran about m1 times with an int counter (m1 = 1e300 never
// finished); L-Softmax's ran m times. Both are bounded in the library itself.
TEST(Values, NoLoopCountFollowsAnUncheckedParameter) {
  Tensor c = tensor({0.3, -0.9}, DType::Float64);
  EXPECT_CONTAINS(error_of([&] { combined_margin_target_logit(c, 10, 1e300, 0, 0); }), "m1 must be in (0, 100]");
  EXPECT_CONTAINS(error_of([&] { combined_margin_target_logit(c, 10, 1, 1e300, 0); }), "m2 must be in [0, 100]");
  EXPECT_CONTAINS(error_of([&] { lsoftmax_psi(c, 1'000'000'000'000); }), "m must be a whole number in [1, 100]");
  EXPECT_EQ(combined_margin_target_logit(c, 10, 100, 100, 0).numel(), 2);  // the bound itself runs
  EXPECT_EQ(lsoftmax_psi(c, 100).numel(), 2);
  Generator gen(0);
  const LossSpec& combined = find_loss("combined_margin_loss");
  EXPECT_CONTAINS(error_of([&] { combined.call(combined.sample(DType::Float64, gen), {{"m1", 1e300}}, Reduction::Mean); }),
                  "combined_margin_loss: m1: expected a finite number in (0, 100], got 1e+300");
}

// The core checks a tensor's byte count before allocating: a wrapped count once gave a tiny
// buffer that --hidden 2305843009213693952 then filled (SIGSEGV).
TEST(Values, TensorByteCountsThatOverflowAreRefusedBeforeAllocation) {
  EXPECT_CONTAINS(error_of([] { empty({2305843009213693952, 784}); }), "more elements than an int64 can count");
  EXPECT_CONTAINS(error_of([] { empty({std::int64_t{1} << 61}, DType::Float64); }),
                  "empty: shape [2305843009213693952] of float64 needs more bytes than an int64 can count");
  EXPECT_CONTAINS(error_of([] { numel({std::int64_t{1} << 40, std::int64_t{1} << 40}); }), "[1099511627776, 1099511627776]");
  EXPECT_EQ(numel({std::int64_t{1} << 31, std::int64_t{1} << 31}), std::int64_t{1} << 62);
}

// Sizes within the flags' bounds may still add up to more than the machine holds: refused before
// anything is allocated (--hidden 3000000000 once grew past 9 GB).
TEST(Values, AModelThatCannotFitInMemoryIsRefusedBeforeItIsBuilt) {
  TrainConfig c;
  EXPECT_EQ(error_of([&] { check_model_fits(c, {1, 28, 28}, 10, 128); }), "");
  c.hidden = {16777216, 16777216};
  EXPECT_CONTAINS(error_of([&] { check_model_fits(c, {1, 28, 28}, 10, 128); }), "lower --hidden, --embedding-dim or --batch-size");
  EXPECT_THROW(check_model_fits(c, {1, 28, 28}, 10, 128), UsageError);
  c.hidden = {512};
  c.loss = "arcface_loss";
  c.embedding_dim = 16777216;
  EXPECT_CONTAINS(error_of([&] { check_model_fits(c, {1, 28, 28}, 10, 128); }), "parameters and a batch of 128");
  c.model = "cnn";
  c.embedding_dim = 64;
  EXPECT_EQ(error_of([&] { check_model_fits(c, {1, 28, 28}, 10, 128); }), "");
  EXPECT_CONTAINS(error_of([&] { check_model_fits(c, {3, 1024, 1024}, 10, 16777216); }), "needs about");
}

// loss eval's JSON passes the same door: a fractional or huge class index and a float beyond the
// dtype are refused; a non-finite result is printed as a string, never as null.
TEST(Values, LossEvalRefusesBadNumbersInItsJson) {
  auto eval = [](const std::string& name, const std::string& json, const std::string& dtype = "float64") {
    std::istringstream in(json);
    return loss_eval({.name = name, .set = {}, .reduction = "mean", .dtype = dtype}, in);
  };
  EXPECT_EQ(error_of([&] { eval("cross_entropy", R"({"inputs": {"input": [[1, 2], [3, 4]], "target": [0.5, 1.9]}})"); }),
            "input \"target\" (int64)[0]: expected a whole number in [-9007199254740992, 9007199254740992], got 0.5");
  EXPECT_CONTAINS(error_of([&] { eval("cross_entropy", R"({"inputs": {"input": [[1, 2]], "target": [1e300]}})"); }),
                  "input \"target\" (int64)[0]: expected a whole number");
  EXPECT_CONTAINS(error_of([&] { eval("mse_loss", R"({"inputs": {"input": [[1, 1e300]], "target": [[0, 0]]}})", "float32"); }),
                  "input \"input\" (float32)[0][1]: expected a finite number in [-3.4028234663852886e+38, "
                  "3.4028234663852886e+38], got 1e+300");
  EXPECT_CONTAINS(error_of([&] { eval("mse_loss", R"({"inputs": {"input": [true], "target": [0]}})"); }),
                  "input \"input\" (float64)[0]: expected a finite number, got true");
  std::istringstream big(nlohmann::json{{"inputs", {{"input", std::vector<double>(4097, 1.0)},
                                                    {"target", std::vector<double>(4097, 0.0)}}}}.dump());
  EXPECT_EQ(error_of([&] { loss_eval({.name = "mse_loss", .set = {}, .reduction = "mean", .dtype = "float64",
                                      .hessian_diag = true}, big); }),
            "--hessian-diag: input \"input\" has 4097 elements; the diagonal takes a backward pass for each, so at "
            "most 4096");
  // (1e300)² overflows: the loss is the string "inf" and the gradient 2e300 a number.
  nlohmann::json out = nlohmann::json::parse(eval("mse_loss", R"({"inputs": {"input": [1e300], "target": [0]}})"));
  EXPECT_EQ(out["loss"], "inf");
  EXPECT_DOUBLE_EQ(out["grad"]["input"][0].get<double>(), 2e300);
  out = nlohmann::json::parse(eval("mse_loss", R"({"inputs": {"input": [-1e308, 1e308], "target": [1e308, -1e308]}})"));
  EXPECT_EQ(out["loss"], "inf");
  EXPECT_EQ(out["grad"]["input"], (nlohmann::json{"-inf", "inf"}));
}

// The issue's examples, through the program: each was a crash, a hang, a silent change or the
// wrong exit code; each is now exit code 2 with one line naming the flag or key, value and range.
TEST(ValueExamples, EachIsRefusedWithExitCodeTwoAndOneLine) {
  zg_tests::TempDir dir;
  std::ofstream(dir / "huge-hidden.json") << R"({"hidden": [2305843009213693952]})";
  std::ofstream(dir / "huge-embedding.json") << R"({"loss": "arcface_loss", "embedding_dim": 9223372036854775807})";
  std::ofstream(dir / "labels.json") << R"({"inputs": {"input": [[1, 2], [3, 4]], "target": [0.5, 1.9]}})";
  std::ofstream(dir / "huge-label.json") << R"({"inputs": {"input": [[1, 2]], "target": [1e300]}})";
  std::ofstream(dir / "angular.json")
      << R"({"inputs": {"embeddings": [[1, 0], [0, 1]], "weight": [[1, 0], [0, 1]], "target": [0, 1]}})";
  std::ofstream(dir / "kl.json") << R"({"inputs": {"input": [[-1, -0.5]], "target": [[0.3, 0.7]]}})";
  std::ofstream(dir / "poisson.json") << R"({"inputs": {"input": [[1, 2]], "target": [[1, 0]]}})";
  const std::string train_quick = "--data moons --epochs 1 --hidden 4 --quiet --threads 1 --out run";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"train --hidden 2305843009213693952", "", "--hidden: expected a whole number in [1, 16777216], got 2305843009213693952"},
      {"train --hidden 3000000000", "", "--hidden: expected a whole number in [1, 16777216], got 3000000000"},
      {"train --loss arcface_loss --embedding-dim 9223372036854775807", "", "--embedding-dim: expected a whole number"},
      {"train --config huge-hidden.json", "", "huge-hidden.json: setting \"hidden\": expected a whole number"},
      {"train --config huge-embedding.json", "", "setting \"embedding_dim\": expected a whole number"},
      {"loss eval combined_margin_loss --set m1=1e300", "angular.json", "m1: expected a finite number in (0, 100]"},
      {"loss eval combined_margin_loss --set m2=1e300", "angular.json", "m2: expected a finite number in [0, 100]"},
      {"train --loss combined_margin_loss --set m1=1e300 " + train_quick, "", "m1: expected a finite number in (0, 100]"},
      {"train --set ignore_index=0.5 " + train_quick, "", "ignore_index: expected a whole number"},
      {"train --set ignore_index=nan " + train_quick, "", "ignore_index: expected a whole number"},
      {"train --set ignore_index=1e300 " + train_quick, "", "ignore_index: expected a whole number"},
      {"loss eval cross_entropy", "labels.json", "input \"target\" (int64)[0]: expected a whole number"},
      {"loss eval cross_entropy", "huge-label.json", "got 1e+300"},
      {"loss eval kl_div --set log_target=nan", "kl.json", "kl_div: log_target: expected 0 or 1, got nan"},
      {"loss eval poisson_nll_loss --set full=2", "poisson.json", "poisson_nll_loss: full: expected 0 or 1, got 2"},
      {"loss eval poisson_nll_loss --set log_input=0.5", "poisson.json", "log_input: expected 0 or 1, got 0.5"},
      {"train --threads 2147483648", "", "--threads: expected a whole number in [0, 1024], got 2147483648"},
      {"train --threads 4294967296", "", "--threads: expected a whole number in [0, 1024], got 4294967296"},
      {"train --seed -1", "", "--seed: expected a whole number in [0, 18446744073709551615], got -1"},
      {"train --epochs 0", "", "--epochs: expected a whole number in [1, 1000000], got 0"},
      {"margins --epochs 0", "", "--epochs: expected a whole number in [1, 1000000], got 0"},
      {"margins --threads -1", "", "--threads: expected a whole number in [0, 1024], got -1"},
      {"train --lr inf", "", "--lr: expected a finite number in (0, 1000], got inf"},
      {"train --weight-decay inf", "", "--weight-decay: expected a finite number in [0, 1000], got inf"},
      {"train --loss binary_cross_entropy_with_logits --set pos_weight=nan " + train_quick, "",
       "pos_weight: expected a finite number, got nan"},
  };
  for (const auto& [command, input, expected] : cases) {
    std::vector<std::string> args;
    std::istringstream words(command);
    for (std::string w; words >> w;) args.push_back(w);
    zg_tests::Finished f = zg_tests::zoograd(args, dir.path(), input.empty() ? "/dev/null" : dir / input);
    EXPECT_EQ(f.code, 2) << command << "\n" << f.err;
    EXPECT_EQ(f.err_lines(), 1) << command << "\n" << f.err;
    EXPECT_CONTAINS(f.err, expected);
    EXPECT_FALSE(std::filesystem::exists(dir / "run")) << command;
  }
}

}  // namespace
