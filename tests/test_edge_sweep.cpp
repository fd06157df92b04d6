// The generated edge-value sweep: every flag of every subcommand (found in the program's own
// --help, so a new flag is swept without a line here) and every parameter of every catalog loss
// gets each edge value below. Every run must exit with 0, 1 or 2 (never a signal), within a
// deadline, and a refusal (2) must say why in one line on stderr. CI runs it under ASan + UBSan too.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "zoograd/core/generator.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/tests/child_process.h"
#include "zoograd/tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using zg_tests::Finished;
using zg_tests::TempDir;

// 0, -1, 0.5, ±1e300, nan, inf, 2^31, 2^63, 2^64, empty and text.
const std::vector<std::string> kEdges = {"0",   "-1",         "0.5",
                                         "1e300", "-1e300",   "nan",
                                         "inf", "2147483648", "9223372036854775808",
                                         "18446744073709551616", "", "text"};
constexpr double kDeadline = 120;  // seconds; a run that takes longer counts as a hang

// The release suite runs every (item, edge value) pair. Under the sanitizers, where each run
// costs seconds, item i takes the edge values e with (i + e) % 3 == 0: a third of the pairs,
// every value still met on a third of the flags and parameters, and every item on four values.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kSanitizerStride = 3;
#else
constexpr std::size_t kSanitizerStride = 1;
#endif
bool swept(std::size_t item, std::size_t edge) { return (item + edge) % kSanitizerStride == 0; }

struct Flag {
  std::string name;
  bool takes_value;
};

// A command at the end of the subcommand tree, as its --help describes it.
struct Command {
  std::vector<std::string> path;  // {"loss", "eval"}
  std::vector<Flag> flags;        // without --help
  std::vector<std::string> positionals;
};

std::vector<std::string> help_entries(const std::string& help, const std::string& section) {
  std::vector<std::string> entries;
  std::istringstream in(help);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != ' ') inside = line == section;
    // An entry starts two spaces in; a longer indent continues the description above.
    else if (inside && line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ')
      entries.push_back(line.substr(2, line.find("  ", 2) == std::string::npos ? std::string::npos : line.find("  ", 2) - 2));
  }
  return entries;
}

void discover(const TempDir& dir, std::vector<std::string> path, std::vector<Command>& out) {
  std::vector<std::string> args = path;
  args.push_back("--help");
  Finished help = zg_tests::zoograd(args, dir.path());
  ASSERT_EQ(help.code, 0) << help.err;
  std::vector<std::string> subcommands = help_entries(help.out, "Subcommands:");
  for (const std::string& sub : subcommands) {
    std::vector<std::string> deeper = path;
    deeper.push_back(sub.substr(0, sub.find(' ')));
    discover(dir, deeper, out);
  }
  if (!subcommands.empty()) return;
  Command c{path, {}, {}};
  for (const std::string& entry : help_entries(help.out, "Options:")) {
    std::string names = entry.substr(0, entry.find(' '));
    std::string name = names.substr(names.rfind(',') == std::string::npos ? 0 : names.rfind(',') + 1);
    if (name != "--help") c.flags.push_back({name, entry.find(' ') != std::string::npos});
  }
  for (const std::string& entry : help_entries(help.out, "Positionals:")) c.positionals.push_back(entry.substr(0, entry.find(' ')));
  out.push_back(c);
}

// The commands under `top`, e.g. {"loss"}: list, plot and eval.
std::vector<Command> commands_under(const std::string& top) {
  TempDir dir;
  std::vector<Command> found;
  discover(dir, {top}, found);
  return found;
}

// The outcome of every run, checked as the sweep goes; a summary at the end.
class Sweep {
 public:
  void run(const std::vector<std::string>& args, const std::string& input = "/dev/null") {
    TempDir work;  // a folder of its own: --out values land here
    Finished f = zg_tests::zoograd(args, work.path(), input, kDeadline);
    ++runs_, seconds_ += f.seconds, ++codes_[f.timed_out ? -2 : f.signal ? -1 : f.code];
    std::string shown;
    for (const std::string& a : args) shown += " '" + a + "'";
    if (f.timed_out) ADD_FAILURE() << "zoograd" << shown << ": still running after " << kDeadline << " s";
    else if (f.signal) ADD_FAILURE() << "zoograd" << shown << ": ended by signal " << f.signal << "\n" << f.err;
    else if (f.code < 0 || f.code > 2) ADD_FAILURE() << "zoograd" << shown << ": exit code " << f.code << "\n" << f.err;
    else if (f.code == 2 && f.err_lines() != 1)
      ADD_FAILURE() << "zoograd" << shown << ": exit code 2 with " << f.err_lines() << " lines on stderr:\n" << f.err;
  }
  ~Sweep() {
    std::cout << "[ sweep    ] " << runs_ << " runs in " << seconds_ << " s; exit codes:";
    for (auto [code, n] : codes_) std::cout << " " << (code == -2 ? "hang" : code == -1 ? "signal" : std::to_string(code)) << "×" << n;
    std::cout << "\n";
  }

 private:
  int runs_ = 0;
  double seconds_ = 0;
  std::map<int, int> codes_;
};

// base (a quick valid run of the command) with `flag value` in place of the flag's own setting.
std::vector<std::string> swap_in(const Command& c, const std::vector<std::string>& base, const Flag& flag,
                                 const std::string& value) {
  std::vector<std::string> args = c.path;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (base[i] == flag.name) {
      i += i + 1 < base.size() && !base[i + 1].starts_with("--") ? 1 : 0;  // its value too
      continue;
    }
    args.push_back(base[i]);
  }
  if (flag.takes_value) args.insert(args.end(), {flag.name, value});
  else args.push_back(flag.name + "=" + value);
  return args;
}

// Every flag (and positional, in place of the base's) of each command under `top` with every edge value.
void sweep(const std::string& top, const std::function<std::vector<std::string>(const Command&)>& base_of,
           const std::string& input = "/dev/null") {
  Sweep s;
  std::vector<Command> commands = commands_under(top);
  ASSERT_FALSE(commands.empty());
  std::size_t item = 0;
  for (const Command& c : commands) {
    const std::vector<std::string> base = base_of(c);
    for (const Flag& flag : c.flags) {
      for (std::size_t e = 0; e < kEdges.size(); ++e)
        if (swept(item, e)) s.run(swap_in(c, base, flag, kEdges[e]), input);
      ++item;
    }
    for (std::size_t p = 0; p < c.positionals.size(); ++p, ++item)
      for (std::size_t e = 0; e < kEdges.size(); ++e) {
        if (!swept(item, e)) continue;
        std::vector<std::string> args = c.path;
        args.push_back(kEdges[e]);
        ASSERT_LE(c.positionals.size(), base.size()) << "the sweep's base run of " << c.path.back() << " gives its positionals";
        args.insert(args.end(), base.begin() + static_cast<std::ptrdiff_t>(c.positionals.size()), base.end());
        s.run(args, input);
      }
  }
}

TEST(EdgeSweep, EveryFlagOfDemo) {
  sweep("demo", [](const Command&) { return std::vector<std::string>{"--epochs", "1", "--hidden", "4"}; });
}

TEST(EdgeSweep, EveryFlagOfTrain) {
  sweep("train", [](const Command&) {
    return std::vector<std::string>{"--data", "blobs", "--epochs", "1", "--hidden", "4",  "--quiet",
                                    "--threads", "1", "--batch-size", "64", "--out", "run"};
  });
}

TEST(EdgeSweep, EveryFlagOfEval) {
  TempDir dir;
  ASSERT_EQ(zg_tests::zoograd({"train", "--data", "blobs", "--epochs", "1", "--hidden", "4", "--quiet", "--out", "run"},
                              dir.path())
                .code,
            0);
  sweep("eval", [&](const Command&) { return std::vector<std::string>{"--model", dir / "run"}; });
}

TEST(EdgeSweep, EveryFlagOfMargins) {
  TempDir dir;
  const std::string data = zg_tests::stroke_images(dir.path(), 30, 15);
  sweep("margins", [&](const Command&) {
    // Two snapshots (the start and the end), so a run that starts draws no frames of training.
    return std::vector<std::string>{"--data", data, "--losses", "softmax", "--epochs", "1", "--batch-size", "16",
                                    "--jobs", "1", "--threads", "1", "--quiet", "--snapshots", "2", "--out", "atlas"};
  });
}

TEST(EdgeSweep, EveryFlagOfDataAndLoss) {
  sweep("data", [](const Command&) { return std::vector<std::string>{}; });
  TempDir dir;
  std::ofstream(dir / "in.json") << R"({"inputs": {"input": [[0.5, -1]], "target": [[1, 2]]}})";
  sweep(
      "loss",
      [](const Command& c) {
        if (c.path.back() == "eval") return std::vector<std::string>{"mse_loss"};
        // One figure in one format: the flags' values are the test, not the drawing.
        if (c.path.back() == "plot") return std::vector<std::string>{"--out", "plots", "--only", "focal_pt", "--format", "svg"};
        if (c.path.back() == "explore") return std::vector<std::string>{"--out", "explorer"};
        if (c.path.back() == "curve") return std::vector<std::string>{"mse_loss", "--vary", "input[0,0]", "--points", "3"};
        return std::vector<std::string>{};
      },
      dir / "in.json");
}

// A tensor as a nested JSON array.
nlohmann::json nested(const zg::Tensor& t) {
  std::vector<double> v = t.to_vector();
  std::size_t at = 0;
  std::function<nlohmann::json(std::size_t)> build = [&](std::size_t depth) -> nlohmann::json {
    if (depth == t.shape().size()) {
      double x = v[at++];
      return t.dtype() == zg::DType::Int64 ? nlohmann::json(static_cast<std::int64_t>(x)) : nlohmann::json(x);
    }
    nlohmann::json a = nlohmann::json::array();
    for (std::int64_t i = 0; i < t.shape()[depth]; ++i) a.push_back(build(depth + 1));
    return a;
  };
  return build(0);
}

// Every parameter of every loss of a family, on the row's own sample inputs, through `loss eval --set`.
void sweep_parameters(const std::string& family) {
  Sweep s;
  TempDir dir;
  std::size_t item = 0;
  for (const zg::LossSpec& spec : zg::losses_of_family(family)) {
    zg::Generator gen(0);
    std::vector<zg::Tensor> sample = spec.sample(zg::DType::Float64, gen);
    nlohmann::json inputs = nlohmann::json::object();
    for (std::size_t i = 0; i < sample.size(); ++i) inputs[spec.inputs[i].name] = nested(sample[i]);
    const std::string input = dir / (spec.name + ".json");
    std::ofstream(input) << nlohmann::json{{"inputs", inputs}}.dump();
    for (const zg::LossParam& p : spec.params) {
      for (std::size_t e = 0; e < kEdges.size(); ++e)
        if (swept(item, e)) s.run({"loss", "eval", spec.name, "--set", p.name + "=" + kEdges[e]}, input);
      ++item;
    }
  }
}

TEST(EdgeSweep, EveryParameterOfTheRegressionLosses) { sweep_parameters("regression"); }
TEST(EdgeSweep, EveryParameterOfTheClassificationLosses) { sweep_parameters("classification"); }
TEST(EdgeSweep, EveryParameterOfTheHingeLosses) { sweep_parameters("hinge"); }
TEST(EdgeSweep, EveryParameterOfTheMetricLosses) { sweep_parameters("metric"); }
TEST(EdgeSweep, EveryParameterOfTheAngularLosses) { sweep_parameters("angular"); }

TEST(EdgeSweep, CoversEveryFamilyOfTheCatalog) {
  int parameters = 0;
  for (const zg::LossSpec& spec : zg::loss_catalog()) {
    EXPECT_TRUE(spec.family == "regression" || spec.family == "classification" || spec.family == "hinge" ||
                spec.family == "metric" || spec.family == "angular")
        << spec.name << " is in a family the sweep does not run";
    parameters += static_cast<int>(spec.params.size());
  }
  EXPECT_GE(parameters, 40);
}

}  // namespace
