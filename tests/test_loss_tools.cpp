// The loss tools of the course: `loss eval` with optional inputs, probability targets and the
// closed-form Hessian diagonals of losses/hessians.h; `loss curve`; `loss facts`, each number
// against its closed form and the paper's value; and docs/derivations.md, whose commands must run.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "zoograd/core/ops.h"
#include "zoograd/losses/classification.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/loss/loss_curve.h"
#include "zoograd/train/loss/loss_facts.h"
#include "zoograd/train/loss/loss_tool.h"

namespace {

using namespace zg;
using nlohmann::json;
using zg_tests::error_of;

json eval(const std::string& loss, const std::string& inputs, std::vector<std::string> set = {},
          const std::string& reduction = "mean") {
  std::istringstream in(inputs);
  return json::parse(loss_eval({.name = loss, .set = std::move(set), .reduction = reduction, .hessian_diag = true}, in));
}

TEST(LossEvalTool, CrossEntropyTakesClassWeightsAndProbabilityTargets) {
  // Probabilities: -Σ_c w_c q_c log p_c, mean over the 1 sample. An int-looking (N, C) array is a
  // probability target too: it has the input's shape.
  const double z[3] = {1, 2, 0.5}, w[3] = {0.5, 2, 1}, q[3] = {0.2, 0.5, 0.3};
  const double norm = std::exp(1.0) + std::exp(2.0) + std::exp(0.5);
  double want = 0;
  for (int c = 0; c < 3; ++c) want -= w[c] * q[c] * std::log(std::exp(z[c]) / norm);
  json j = eval("cross_entropy", R"({"inputs": {"input": [[1, 2, 0.5]], "target": [[0.2, 0.5, 0.3]], "weight": [0.5, 2, 1]}})");
  EXPECT_NEAR(j["loss"].get<double>(), want, 1e-12);
  json one_hot = eval("cross_entropy", R"({"inputs": {"input": [[1, 2, 0.5]], "target": [[0, 1, 0]]}})");
  json index = eval("cross_entropy", R"({"inputs": {"input": [[1, 2, 0.5]], "target": [1]}})");
  EXPECT_NEAR(one_hot["loss"].get<double>(), index["loss"].get<double>(), 1e-15);
  EXPECT_NE(one_hot["loss"].get<double>(), want);
}

TEST(LossEvalTool, HessianDiagonalUsesTheClosedFormAndReportsItsDistanceFromAutograd) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"cross_entropy", R"({"inputs": {"input": [[1, 2, 0.5], [0, -1, 3]], "target": [1, 2], "weight": [0.5, 2, 1]}})"},
      {"cross_entropy", R"({"inputs": {"input": [[1, 2, 0.5], [0, -1, 3]], "target": [[0.2, 0.5, 0.3], [1, 0, 0]]}})"},
      {"brier_score", R"({"inputs": {"input": [[1, 2, 0.5], [0, -1, 3]], "target": [1, 2], "weight": [[1, 2, 3], [0.5, 1, 1]]}})"},
      {"binary_brier_score", R"({"inputs": {"input": [[1, -2], [0.5, 3]], "target": [[1, 0], [0, 1]]}})"},
      {"binary_cross_entropy_with_logits", R"({"inputs": {"input": [[1, -2], [0.5, 3]], "target": [[1, 0], [0.3, 1]]}})"},
      {"sigmoid_focal_loss", R"({"inputs": {"inputs": [[1, -2], [0.5, 3]], "targets": [[1, 0], [0, 1]]}})"}};
  for (const auto& [loss, inputs] : cases)
    for (const std::string reduction : {"mean", "sum"}) {
      json j = eval(loss, inputs, loss == "cross_entropy" ? std::vector<std::string>{"label_smoothing=0.1"}
                                                          : std::vector<std::string>{},
                    reduction);
      ASSERT_TRUE(j.contains("hessian_check")) << loss << ": " << j.dump();
      const json& check = j["hessian_check"].begin().value();
      EXPECT_NE(check["closed_form"].get<std::string>().find("losses/hessians.h"), std::string::npos);
      EXPECT_LT(check["max_abs_difference_from_autograd"].get<double>(), 1e-12) << loss << " " << reduction;
    }
  // The printed diagonal of cross-entropy is p(1 - p) (unit weights, class indices, sum).
  json j = eval("cross_entropy", R"({"inputs": {"input": [[1, 2, 0.5]], "target": [1]}})", {}, "sum");
  const double norm = std::exp(1.0) + std::exp(2.0) + std::exp(0.5), p = std::exp(2.0) / norm;
  EXPECT_NEAR(j["hessian_diag"]["input"][0][1].get<double>(), p * (1 - p), 1e-15);
  // No closed form for the softmax focal loss: autograd's diagonal, no check.
  EXPECT_FALSE(eval("focal_loss", R"({"inputs": {"input": [[1, 2, 0.5]], "target": [1]}})").contains("hessian_check"));
}

TEST(LossCurveTool, ValuesGradientsAndHessiansAlongOneElement) {
  // cross_entropy of one row (z, 0, 0) with target 0 along z: ℓ = log(1 + 2e^-z), ℓ' = -2e^-z/(e^-z·2 + 1)...
  zg_tests::TempDir dir;
  std::ofstream(dir / "in.json") << R"({"inputs": {"input": [[0, 0, 0]], "target": [0]}})";
  CurvePoints c = loss_curve_points({.name = "cross_entropy", .vary = "input[0,0]", .from = -2, .to = 40, .points = 7,
                                     .inputs_file = dir / "in.json"});
  ASSERT_EQ(c.x.size(), 7u);
  EXPECT_EQ(c.element, "input[0,0]");
  for (std::size_t k = 0; k < c.x.size(); ++k) {
    const double u = 2 * std::exp(-c.x[k]) / (1 + 2 * std::exp(-c.x[k]));  // 1 - p_0
    EXPECT_NEAR(c.loss[k], std::log1p(2 * std::exp(-c.x[k])), 1e-15 * (1 + c.loss[k])) << c.x[k];
    EXPECT_NEAR(c.grad[k], -u, 1e-15) << c.x[k];
    EXPECT_NEAR(c.hessian[k], u * (1 - u), 1e-15) << c.x[k];
  }
  EXPECT_GT(c.loss.back(), 0.0);  // 2e^-40, exact in the tail
  // Any row, on its own sample: the CSV has a header and one line per point; the SVG three charts.
  std::string csv = loss_curve({.name = "unified_loss", .vary = "sn[1,2]", .points = 5, .set = {"gamma=8"}});
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "sn[1,2],loss,grad,hessian_diag");
  std::string svg = loss_curve({.name = "arcface_loss", .vary = "embeddings[0,1]", .points = 9, .format = "svg"});
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  const std::string png = loss_curve({.name = "arcface_loss", .vary = "embeddings[0,1]", .points = 9, .format = "png"});
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST(LossCurveTool, BadRequestsNameTheProblem) {
  auto error = [](LossCurveRequest r) { return error_of([&] { loss_curve(r); }); };
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "target[0]"}), "no differentiable input \"target\"");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[4,0]"}), "input has shape [4, 3]");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[0]"}), "one index per dim");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input"}), "expected INPUT[i,j,...]");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[0,0]", .from = 1, .to = 1}), "--from and --to");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[0,0]", .points = 1}), "--points must be");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[0,0]", .format = "gif"}), "--format must be csv, svg, png or pdf, got gif");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[0,0]", .set = {"nope=1"}}), "unknown parameter \"nope\"");
  EXPECT_CONTAINS(error({.name = "cross_entropy", .vary = "input[0,0]", .inputs_file = "/no/such.json"}), "cannot open");
  for (const char* args : {"loss curve cross_entropy --vary 'target[0]'", "loss curve cross_entropy",
                           "loss facts --classes 1", "loss facts --dim 1"}) {
    zg_tests::CliRun r = zg_tests::run_cli(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
  }
}

TEST(LossFactsTool, EveryNumberAgreesWithItsClosedFormAndThePaper) {
  for (std::int64_t classes : {2, 3, 4, 7, 10, 12, 1000})
    for (std::int64_t dim : {2, 3, 16}) {
      std::vector<LossFact> facts = loss_facts(classes, dim);
      EXPECT_GE(facts.size(), 20u);
      for (const LossFact& f : facts) {
        const std::string what = f.topic + ": " + f.quantity;
        ASSERT_TRUE(f.closed_form) << what;
        EXPECT_NEAR(f.computed, *f.closed_form, 1e-9 * std::max(1.0, std::abs(*f.closed_form))) << what;
        if (f.published) {
          EXPECT_NEAR(f.computed, *f.published, f.published_tolerance + 1e-12) << what;
          EXPECT_NE(f.paper, "-") << what;
          EXPECT_NE(f.source, "-") << what;
        }
      }
    }
  // The numbers the course quotes, by name.
  auto find = [](const std::vector<LossFact>& facts, const std::string& part) {
    for (const LossFact& f : facts)
      if ((f.topic + " " + f.quantity).find(part) != std::string::npos) return f.computed;
    ADD_FAILURE() << "no fact " << part;
    return 0.0;
  };
  std::vector<LossFact> ten = loss_facts(10, 2);
  EXPECT_NEAR(find(ten, "p_t = 0.9, γ = 0.5"), 0.316227766, 1e-9);
  EXPECT_NEAR(find(ten, "p_t = 0.9, γ = 5"), 1e-5, 1e-15);
  EXPECT_NEAR(find(ten, "CASIA"), 8.27, 0.005);
  EXPECT_NEAR(find(ten, "CosFace m"), 1 - std::cos(0.2 * std::numbers::pi), 1e-12);  // 0.191, the atlas's bound
  EXPECT_NEAR(find(ten, "ArcFace m"), 0.2 * std::numbers::pi, 1e-12);
  EXPECT_NEAR(find(ten, "m = 4: largest angle"), 0.2 * std::numbers::pi / 5, 1e-12);  // 7.2°
  EXPECT_EQ(find(ten, "SphereFace: smallest m"), 3);
  EXPECT_EQ(find(ten, "binary case"), 4);
  EXPECT_NEAR(find(ten, "LightGBM"), 10.0 / 9, 1e-12);
  EXPECT_EQ(find(ten, "Σ_{i≠y} max"), 5);
  EXPECT_NEAR(find(loss_facts(4, 3), "CosFace m"), 4.0 / 3, 1e-12);  // C <= d + 1: C/(C - 1)
  EXPECT_NEAR(find(loss_facts(6, 3), "ArcFace m"), std::numbers::pi / 2, 1e-12);  // the octahedron
  std::string how;
  EXPECT_FALSE(largest_smallest_angle(15, 3, &how).has_value());
  EXPECT_FALSE(largest_smallest_angle(10, 5, &how).has_value());
  json j = json::parse(loss_facts_text(ten, true));
  EXPECT_EQ(j.size(), ten.size());
  EXPECT_TRUE(j[0].contains("published"));
}

// docs/derivations.md: every line of its sh blocks runs, in order, in one folder, and exits 0.
TEST(DerivationsPage, EveryCommandRuns) {
  std::ifstream in(std::string(ZG_SOURCE_DIR) + "/docs/derivations.md");
  ASSERT_TRUE(in) << "docs/derivations.md is missing";
  std::string line;
  bool in_sh = false;
  int commands = 0;
  zg_tests::TempDir dir;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      in_sh = !in_sh && line == "```sh";
      continue;
    }
    if (!in_sh || line.empty()) continue;
    std::string command;  // the line with each word "zoograd" replaced by the program's path
    for (std::size_t at = 0; at < line.size();) {
      const bool word = line.compare(at, 8, "zoograd ") == 0 &&
                        (at == 0 || !(std::isalnum(static_cast<unsigned char>(line[at - 1])) || line[at - 1] == '_'));
      command += word ? std::string(ZG_CLI_PATH) + " " : std::string(1, line[at]);
      at += word ? 8 : 1;
    }
    const std::string shell = "cd " + dir.path().string() + " && (" + command + ") > /dev/null 2>&1";
    EXPECT_EQ(std::system(shell.c_str()), 0) << line;
    commands += line.find("zoograd ") != std::string::npos;
  }
  EXPECT_GE(commands, 30);
}

}  // namespace
