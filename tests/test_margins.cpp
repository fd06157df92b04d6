// zoograd margins: its panels and settings, a small seeded atlas on a synthetic image set (the
// numbers, the files, the snapshots, the margin regions; the 3-D report and its page), and the
// command line. The 2-D report's figures and page are tests/test_atlas_report.cpp's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>

#include "zoograd/core/generator.h"
#include "zoograd/tests/browser.h"
#include "zoograd/tests/figure_checks.h"
#include "zoograd/tests/small_atlas.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/atlas/atlas_figures.h"
#include "zoograd/train/atlas/margins.h"
#include "zoograd/train/atlas/margin_regions.h"
#include "zoograd/train/atlas/margins_report.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::error_of;
using zg_tests::SmallAtlas;
using zg_tests::stroke_images;

TEST(Margins, PanelsCoverTheIssuesLosses) {
  std::vector<std::string> names;
  for (const MarginPanel& p : margin_panels()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"softmax", "modified-softmax", "normface", "lsoftmax-m1", "lsoftmax-m2",
                                             "lsoftmax-m3", "lsoftmax-m4", "sphereface", "cosface", "arcface",
                                             "combined"}));
  for (const MarginPanel& p : margin_panels()) EXPECT_NO_THROW(Objective(p.loss, p.params, p.anneal)) << p.name;
}

TEST(Margins, SettingsAreCheckedBeforeAnythingRuns) {
  MarginsOptions o;
  o.losses = {"cosface", "arcface"};
  o.set = {"cosface.m=0.15"};
  std::vector<MarginPanel> panels = o.resolved_panels();
  ASSERT_EQ(panels.size(), 2u);
  EXPECT_EQ(panels[0].params.at("m"), 0.15);
  EXPECT_EQ(panels[1].params.at("m"), 0.2);
  EXPECT_EQ(panels[0].title, "CosFace s=16 m=0.15");  // the pictures show the value set
  EXPECT_EQ(panels[1].title, "ArcFace s=16 m=0.2");

  o.set = {"softmax.m=1"};
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "no panel \"softmax\" among the chosen --losses");
  o.set = {"cosface.margin=1"};
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "unknown parameter \"margin\"; its parameters: s, m");
  o.set = {"m=0.1"};
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "expected PANEL.key=value");
  o.set = {};
  o.losses = {"circle"};
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "unknown panel \"circle\"; choose from softmax,");
  o.losses = {};
  o.dim = 4;
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "--dim: must be 2 or 3, got 4");
}

TEST(Margins, QuickPicksTheLecturePanelsAndRefusesLosses) {
  MarginsOptions o;
  o.quick = true;
  std::vector<std::string> names;
  for (const MarginPanel& p : o.resolved_panels()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"softmax", "sphereface", "cosface", "arcface"}));
  o.set = {"cosface.m=0.15"};
  EXPECT_EQ(o.resolved_panels()[2].params.at("m"), 0.15);
  o.set = {"normface.s=5"};
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "the --quick panels");
  o.set = {};
  o.losses = {"softmax"};
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "--quick: it picks its own panels; leave out --losses");
}

TEST(Margins, PanelsTrainedSideBySideMatchPanelsTrainedOneAtATime) {
  zg_tests::TempDir dir;
  MarginsOptions o;
  o.data = stroke_images(dir.path(), 300, 150);
  o.losses = {"softmax", "sphereface", "arcface"};
  o.epochs = 2;
  o.batch_size = 32;
  o.threads = 1;
  o.quiet = true;
  o.jobs = 1;
  MarginsResult one = run_margins(o);
  o.jobs = 2;
  MarginsResult two = run_margins(o);
  ASSERT_EQ(two.panels.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(two.panels[i].panel.name, o.losses[i]);
    EXPECT_EQ(two.panels[i].features, one.panels[i].features) << o.losses[i];
    EXPECT_EQ(two.panels[i].weights, one.panels[i].weights) << o.losses[i];
  }
}

// --seeds N: seed k's measures are exactly those of a single run with --seed seed + k (so N = 1 is
// today's run), the first seed's panels carry the pictures, and the summary gives mean ± sd.
TEST(Margins, SeedsRepeatSingleRunsAndSummarizeMeanAndSpread) {
  zg_tests::TempDir dir;
  MarginsOptions o;
  o.data = stroke_images(dir.path(), 300, 150);
  o.losses = {"softmax", "cosface"};
  o.epochs = 2;
  o.batch_size = 32;
  o.threads = 1;
  o.quiet = true;
  o.seed = 4;
  o.seeds = 3;
  const MarginsResult many = run_margins(o);
  ASSERT_EQ(many.panels.size(), 2u);
  ASSERT_EQ(many.seeds.size(), 2u);
  o.seeds = 1;
  for (std::uint64_t k = 0; k < 3; ++k) {
    o.seed = 4 + k;
    const MarginsResult one = run_margins(o);
    for (std::size_t i = 0; i < 2; ++i) {
      const SeedMeasures& m = many.seeds[i].at(k);
      EXPECT_EQ(m.seed, 4 + k);
      EXPECT_EQ(m.test_accuracy, one.panels[i].test_accuracy) << o.losses[i] << " seed " << o.seed;
      EXPECT_EQ(m.mean_own_angle, one.panels[i].geometry.mean_own_angle) << o.losses[i] << " seed " << o.seed;
      EXPECT_EQ(m.angular_margin, one.panels[i].geometry.angular_margin) << o.losses[i] << " seed " << o.seed;
      if (k == 0) {
        EXPECT_EQ(many.panels[i].features, one.panels[i].features) << o.losses[i];
      }
    }
  }
  const OverSeeds a = over_seeds(many.seeds[1], &SeedMeasures::mean_own_angle);
  const std::vector<double>& v = a.values;
  ASSERT_EQ(v.size(), 3u);
  const double mean = (v[0] + v[1] + v[2]) / 3;
  EXPECT_NEAR(a.mean, mean, 1e-12);
  EXPECT_NEAR(a.sd, std::sqrt(((v[0] - mean) * (v[0] - mean) + (v[1] - mean) * (v[1] - mean) +
                               (v[2] - mean) * (v[2] - mean)) / 2), 1e-12);

  o.seed = 4, o.seeds = 3, o.out = dir / "atlas";
  write_margins_report(o.out, o, many);
  const nlohmann::json summary = nlohmann::json::parse(std::ifstream(dir / "atlas/summary.json"));
  EXPECT_EQ(summary["settings"]["seeds"], 3);
  const nlohmann::json& cosface = summary["panels"][1];
  EXPECT_EQ(cosface["seeds"].size(), 3u);
  EXPECT_EQ(cosface["seeds"][2]["seed"], 6);
  EXPECT_EQ(cosface["over_seeds"]["mean_own_angle"]["values"].get<std::vector<double>>(), v);
  EXPECT_NEAR(cosface["over_seeds"]["mean_own_angle"]["sd"].get<double>(), a.sd, 1e-12);
  o.seeds = 0;
  EXPECT_CONTAINS(error_of([&] { o.resolved_panels(); }), "--seeds: expected a whole number in [1, 100], got 0");
}

TEST(Margins, AnnealedLambdaSettlesAtSixtyPercentOfTheRun) {
  zg_tests::TempDir dir;
  MarginsOptions o;
  o.data = stroke_images(dir.path(), 300, 150);  // 300 training images: 10 steps an epoch
  o.losses = {"lsoftmax-m2", "sphereface"};
  o.epochs = 5;
  o.batch_size = 32;
  o.threads = 1;
  o.quiet = true;
  MarginsResult r = run_margins(o);
  for (const PanelResult& p : r.panels) {
    // λ = 1000/(1 + γ·step) reaches λ_min = 5 at step 0.6·50 = 30, the end of epoch 3.
    std::vector<double> lambda;
    for (const nlohmann::json& e : p.curves) lambda.push_back(e.at("lambda").get<double>());
    ASSERT_EQ(lambda.size(), 5u) << p.panel.name;
    EXPECT_NEAR(lambda[1], 1000 / (1 + 199.0 / 30 * 20), 1e-9) << p.panel.name;
    EXPECT_NEAR(lambda[2], 5, 1e-9) << p.panel.name;
    EXPECT_EQ(lambda[3], 5) << p.panel.name;
    EXPECT_DOUBLE_EQ(lambda[4], 5) << p.panel.name;
  }
  o.losses = {"sphereface"};
  o.set = {"sphereface.gamma=0.12"};  // given, so kept
  EXPECT_EQ(run_margins(o).panels[0].panel.params.at("gamma"), 0.12);
}

TEST(Margins, ThreeDimensionalFeaturesGoOnTheSphere) {
  SmallAtlas atlas(3);
  const fs::path out = atlas.options.out;
  for (const char* f : {"cosface_sphere.svg", "cosface_sphere.png", "cosface_sphere.pdf", "spheres.png", "spheres.pdf",
                        "frame_rotate_00.png", "frame_rotate_11.png", "frame_spheres_08.png"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_FALSE(fs::exists(out / "cosface_circle.png"));
  EXPECT_FALSE(fs::exists(out / "frame_rotate_12.png"));
  EXPECT_GE(atlas.result.panels[0].test_accuracy, 0.9) << atlas.result.panels[0].curves.dump();
  EXPECT_GT(atlas.result.panels[1].test_accuracy, 0.5) << atlas.result.panels[1].curves.dump();  // chance: 1/3
  EXPECT_TRUE(atlas.result.panels[1].circle.argmax.empty());  // no circle in 3-D
  std::vector<AtlasView> spheres;
  for (const PanelResult& p : atlas.result.panels) spheres.push_back(final_view(p));
  zg_tests::expect_readable(comparison_figure("spheres", spheres, AtlasViewKind::sphere, atlas.result.class_names, 120),
                            "spheres");
  zg_tests::expect_readable(unit_sphere_figure(spheres[0], atlas.result.class_names), "sphere");
  EXPECT_NE(zg_tests::read_file(out / "frame_rotate_04.png"), zg_tests::read_file(out / "spheres.png"));

  // The page's rotation control turns the spheres.
  if (!zg_tests::find_chromium()) GTEST_SKIP() << "chromium is not installed; scripts/setup installs it (apt-get install chromium)";
  const zg_tests::PageRender turned = zg_tests::render_page(
      (out / "index.html").string(), 1280, 2400,
      "const r = document.getElementById('rotate'); r.value = 4; r.dispatchEvent(new Event('input'));");
  EXPECT_EQ(zg_tests::attribute_of(turned.dom, "cmp-spheres", "src"), "frame_rotate_04.png");
  EXPECT_EQ(zg_tests::text_of(turned.dom, "rotate-label"), "azimuth 120°");
  EXPECT_CONTAINS(turned.dom, "data-overflow=\"none\"");
  EXPECT_FALSE(zg_tests::looks_blank(turned));
}

// The snapshots run from step 0 to the end of training, evenly.
void expect_snapshots_follow_training(const SmallAtlas& atlas) {
  for (const PanelResult& r : atlas.result.panels) {
    SCOPED_TRACE(r.panel.name);
    ASSERT_EQ(r.snapshots.size(), 10u);
    EXPECT_EQ(r.steps, 100);  // 10 epochs of 10 batches
    EXPECT_EQ(r.snapshots.front().step, 0);
    EXPECT_EQ(r.snapshots.back().step, 100);
    for (std::size_t k = 1; k < r.snapshots.size(); ++k) {
      EXPECT_EQ(r.snapshots[k].step, static_cast<std::int64_t>(k) * 100 / 9);
      EXPECT_NE(r.snapshots[k].weights, r.snapshots[k - 1].weights);  // training moved the head
    }
    for (const Snapshot& s : r.snapshots) {
      EXPECT_EQ(s.labels.size(), 150u);  // the whole small test set (at most 1000)
      EXPECT_EQ(s.features.size(), 300u);
      EXPECT_EQ(s.circle.argmax.size(), 3600u);
      EXPECT_GE(s.accuracy, 0);
      EXPECT_LE(s.accuracy, 1);
    }
    EXPECT_EQ(r.snapshots.back().weights, r.weights);
    EXPECT_NEAR(r.snapshots.back().accuracy, r.test_accuracy, 1e-12);
    EXPECT_LT(r.snapshots.front().accuracy, r.snapshots.back().accuracy);
  }
}

// The margin regions lie inside the head's regions and shrink them only with a margin.
void expect_margin_regions_inside_the_heads(const SmallAtlas& atlas) {
  for (const PanelResult& r : atlas.result.panels) {
    SCOPED_TRACE(r.panel.name);
    ASSERT_EQ(r.circle.margin.size(), 3600u);
    std::size_t none = 0;
    for (std::size_t k = 0; k < 3600; ++k) {
      if (r.circle.margin[k] < 0) ++none;
      else EXPECT_EQ(r.circle.margin[k], r.circle.argmax[k]) << k;
    }
    if (r.panel.name == "softmax") EXPECT_EQ(none, 0u);  // no margin: its regions are the argmax's
    else EXPECT_GT(none, 30u);  // CosFace m = 0.1: a band of more than 3° without a winner
  }
}

TEST(Margins, MarginRegionsFollowTheLossesTransform) {
  // Two weights 90° apart under CosFace s = 10, m = 0.1: class 0 meets its margin where
  // cos φ - 0.1 > cos(90° - φ) = sin φ, i.e. φ < 45° - asin(0.1/√2) = 40.95°.
  const std::vector<double> weights = {1, 0, 0, 1};
  std::vector<double> directions;
  for (double deg : {40.9, 41.0, 45.0, 49.0, 49.1}) directions.insert(directions.end(), {std::cos(deg * std::numbers::pi / 180), std::sin(deg * std::numbers::pi / 180)});
  const LossParams cosface = {{"s", 10}, {"m", 0.1}};
  EXPECT_EQ(margin_classes("cosface_loss", cosface, weights, 2, directions),
            (std::vector<std::int64_t>{0, -1, -1, -1, 1}));
  EXPECT_EQ(margin_classes("cross_entropy", {}, weights, 2, directions), std::nullopt);
}

TEST(Margins, ASmallSeededAtlasLearnsAndWritesItsReport) {
  SmallAtlas atlas(2);
  ASSERT_EQ(atlas.result.panels.size(), 2u);
  for (const PanelResult& r : atlas.result.panels) {
    EXPECT_GE(r.test_accuracy, 0.9) << r.panel.name;  // three easy classes
    EXPECT_EQ(r.features.size(), 2 * r.labels.size());
    EXPECT_EQ(r.weights.size(), 6u);
    EXPECT_EQ(r.curves.size(), 10u);
  }
  for (const PanelResult& r : atlas.result.panels) {
    ASSERT_EQ(r.geometry.arcs.size(), 3u) << r.panel.name;
    double widths = 0;
    for (const ClassArc& a : r.geometry.arcs) widths += a.width_deg;
    EXPECT_LE(r.geometry.angular_margin, (360 - widths) / 3 + 1e-9) << r.panel.name;  // the smallest of 3 gaps
  }
  // Known decision regions: a cosine head gives each class the direction of its own weight.
  const PanelResult& cosface = atlas.result.panels[1];
  std::vector<double> at_weights = cosface.weights;
  for (double& v : at_weights) v *= 3;
  EXPECT_EQ(cosface.classify(at_weights), (std::vector<std::int64_t>{0, 1, 2}));
  for (const std::string& f : atlas.files) EXPECT_TRUE(fs::exists(fs::path(atlas.options.out) / f)) << f;
  EXPECT_EQ(atlas.files.back(), "index.html");
  // circles, planes, the 95% arcs and angles in three formats, 9 frames of each of two views (the
  // 10th is the final figure), four figures of each panel in three formats, summary.json and index.html.
  EXPECT_EQ(atlas.files.size(), 12u + 18u + 2u * 12u + 2u);
  nlohmann::json summary = nlohmann::json::parse(std::ifstream(fs::path(atlas.options.out) / "summary.json"));
  ASSERT_EQ(summary["panels"].size(), 2u);
  EXPECT_EQ(summary["panels"][1]["name"], "cosface");
  EXPECT_DOUBLE_EQ(summary["panels"][1]["test_accuracy"].get<double>(), atlas.result.panels[1].test_accuracy);
  EXPECT_EQ(summary["settings"]["seed"], 0);
  EXPECT_EQ(summary["panels"][0]["snapshots"].size(), 10u);
  // The 95% arcs: each class's extent and its gaps to both neighbours; the margin is the smallest.
  for (const nlohmann::json& panel : summary["panels"]) {
    const nlohmann::json& arcs = panel["arcs95"];
    ASSERT_EQ(arcs.size(), 3u);
    double smallest = 360;
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(arcs[k]["gap_previous"], arcs[(k + 2) % 3]["gap_next"]);
      EXPECT_GT(arcs[k]["width"].get<double>(), 0);
      smallest = std::min(smallest, arcs[k]["gap_next"].get<double>());
    }
    EXPECT_EQ(panel["margin95"].get<double>(), smallest);
  }
  std::ifstream page_in(fs::path(atlas.options.out) / "index.html");
  const std::string page((std::istreambuf_iterator<char>(page_in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("A negative gap means the two neighbours' arcs overlap"), std::string::npos);
  EXPECT_NE(page.find("<img src=\"arcs95.png\""), std::string::npos);
  expect_snapshots_follow_training(atlas);
  expect_margin_regions_inside_the_heads(atlas);
}

TEST(Margins, CommandLineRefusesBadSettingsWithOneLine) {
  for (const char* args : {"margins --losses circle", "margins --set cosface.q=1", "margins --dim 5",
                           "margins --epochs -1", "margins --jobs -2", "margins --weight-decay -1", "margins --clip-grad-norm -1", "margins --snapshots 1"}) {
    zg_tests::CliRun r = zg_tests::run_cli(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
  }
}

}  // namespace
