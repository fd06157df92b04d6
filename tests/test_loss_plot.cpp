// zoograd loss plot: the pictures are written in every format and readable, the options choose
// and set them, and the numbers behind them match the closed forms the papers give.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include "zoograd/tests/test_util.h"
#include "zoograd/tests/browser.h"
#include "zoograd/tests/figure_checks.h"
#include "zoograd/train/loss/loss_curves.h"
#include "zoograd/train/loss/loss_figures.h"
#include "zoograd/train/loss/loss_plot.h"

namespace {

using namespace zg;
using zg_tests::TempDir;

constexpr double kPi = std::numbers::pi;
constexpr double kDegree = kPi / 180;

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

AngularTargetLogit angular(const std::string& name) {
  for (const AngularTargetLogit& loss : angular_target_logits())
    if (loss.name.starts_with(name)) return loss;
  throw std::runtime_error("no angular loss " + name);
}

TEST(LossPlot, WritesEveryPictureInEveryFormatAndAnIndexThatShowsThem) {
  TempDir tmp;
  const std::string dir = tmp / "nested/plots";  // created, parents included
  const std::vector<std::string> files = write_loss_plots(dir);
  std::vector<std::string> expected;
  for (const LossFigureInfo& f : loss_figures())
    for (const char* ext : {".svg", ".png", ".pdf"}) expected.push_back(f.name + ext);
  expected.push_back("index.html");
  ASSERT_EQ(files, expected);
  EXPECT_EQ(loss_figures().size(), 10u);
  const std::string index = read(dir + "/index.html");
  for (const LossFigureInfo& f : loss_figures()) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(read(dir + "/" + f.name + ".svg").starts_with("<?xml"));
    EXPECT_TRUE(read(dir + "/" + f.name + ".pdf").starts_with("%PDF-"));
    EXPECT_CONTAINS(index, "<img src=\"" + f.name + ".png\"");
    EXPECT_CONTAINS(index, "<a href=\"" + f.name + ".pdf\">PDF</a>");
  }
  EXPECT_TRUE(index.starts_with("<!doctype html>"));
  EXPECT_EQ(count(index, "<h2"), 10u);
  EXPECT_EQ(count(index, "http"), 0u);  // relative links only: opens with no server
}

TEST(LossPlot, EveryFigureIsReadableAndShowsWhatItNames) {
  const auto settings = resolved_loss_settings({});
  std::vector<LossPicture> pictures;
  pictures.push_back(regression_loss_figure(settings.at("regression_loss")));
  pictures.push_back(regression_grad_figure(settings.at("regression_grad")));
  pictures.push_back(focal_figure(settings.at("focal_pt")));
  pictures.push_back(ce_vs_mse_figure(settings.at("ce_vs_mse_grad")));
  pictures.push_back(target_logit_figure(settings.at("target_logit")));
  pictures.push_back(target_logit_arcface_figure(settings.at("target_logit_arcface")));
  pictures.push_back(theta_boundaries_figure(settings.at("binary_boundaries")));
  pictures.push_back(cos_boundaries_figure(settings.at("cos_boundaries")));
  pictures.push_back(normface_figure(settings.at("normface_bound"), {10, 100}));
  pictures.push_back(circle_figure(settings.at("circle_boundary")));
  for (const LossPicture& p : pictures) zg_tests::expect_readable(p.figure, p.name);
  auto texts = [](const Figure& f) {
    std::string all;
    for (const TextBox& t : f.texts()) all += t.text + "\n";
    return all;
  };
  EXPECT_CONTAINS(texts(pictures[5].figure), "SphereFace m = 4, λ = 5");
  EXPECT_EQ(pictures[5].figure.axes().at(0).x0, 20);
  EXPECT_EQ(pictures[5].figure.axes().at(0).x1, 100);
  EXPECT_CONTAINS(texts(pictures[6].figure), "‖W1‖ = 1.2, ‖W2‖ = 0.8");
  EXPECT_EQ(pictures[6].figure.axes().size(), 6u);
  for (const AxesRecord& a : pictures[6].figure.axes()) EXPECT_TRUE(a.equal_aspect) << a.title;
  EXPECT_CONTAINS(texts(pictures[7].figure), "cos θ1 (dimensionless)");
  EXPECT_TRUE(pictures[8].figure.axes().at(0).y_log);
  EXPECT_LT(pictures[8].figure.axes().at(0).y0, 1e-25);  // the bound at s = 64 is readable on the log axis
  for (const AxesRecord& a : pictures[9].figure.axes()) EXPECT_TRUE(a.equal_aspect) << a.title;
}

TEST(LossPlot, OptionsChooseFiguresFormatsSettingsAndClasses) {
  TempDir tmp;
  LossPlotOptions o{.only = {"focal_pt", "normface_bound"}, .formats = {ImageFormat::pdf}, .set = {"focal_pt.gamma=3"},
                    .classes = {7}};
  EXPECT_EQ(write_loss_plots(tmp / "p", o),
            (std::vector<std::string>{"focal_pt.pdf", "normface_bound.pdf", "index.html"}));
  EXPECT_EQ(resolved_loss_settings(o).at("focal_pt").at("gamma"), 3);
  EXPECT_CONTAINS(read(tmp / "p/index.html"), "<a href=\"focal_pt.pdf\">PDF</a>");
  auto error = [](LossPlotOptions bad) { return zg_tests::error_of([&] { resolved_loss_settings(bad); }); };
  EXPECT_CONTAINS(error({.only = {"focal"}}), "--only: unknown figure \"focal\"; choose from regression_loss,");
  EXPECT_CONTAINS(error({.set = {"focal_pt.alpha=1"}}), "focal_pt has no setting \"alpha\"; its settings: gamma");
  EXPECT_CONTAINS(error({.set = {"gamma=1"}}), "expected FIGURE.key=value");
  EXPECT_CONTAINS(error({.set = {"focal_pt.gamma=two"}}), "the value \"two\" is not a finite number");
  EXPECT_CONTAINS(error({.classes = {1}}), "--classes: 1 is outside 2..100000");
  EXPECT_CONTAINS(error({.formats = {}}), "--format: give at least one");
  EXPECT_CONTAINS(zg_tests::error_of([&] { target_logit_figure(resolved_loss_settings({.set = {"target_logit.sphereface_m=2.5"}}).at("target_logit")); }),
                  "SphereFace's m must be a whole number >= 1, got 2.5");
}

TEST(LossPlot, ThePageRendersInHeadlessChromium) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << "chromium is not installed; scripts/setup installs it (apt-get install chromium)";
  TempDir tmp;
  write_loss_plots(tmp / "plots");
  const zg_tests::PageRender page = zg_tests::render_page(tmp / "plots/index.html", 1280, 6000);
  EXPECT_CONTAINS(page.dom, "data-images=\"10 of 10 loaded\"");
  EXPECT_CONTAINS(page.dom, "data-overflow=\"none\"");
  EXPECT_CONTAINS(page.dom, "data-smallest-image-scale=\"1.000\"");  // at their own size: text >= 14 px
  EXPECT_FALSE(zg_tests::looks_blank(page));
}

TEST(LossPlot, UnwritableFolderThrowsNamingIt) {
  TempDir tmp;
  std::ofstream(tmp / "file") << "a regular file";
  const std::string dir = tmp / "file/plots";
  std::string error = zg_tests::error_of([&] { write_loss_plots(dir, {.only = {"focal_pt"}}); });
  EXPECT_CONTAINS(error, dir);
}

TEST(LossPlot, RegressionCurvesAreTheLossesAndTheirDerivatives) {
  const std::vector<double> e = {-2.5, -0.5, 0.3, 2.0};
  const std::vector<LossCurve> curves = regression_curves(e);
  ASSERT_EQ(curves.size(), 6u);
  for (std::size_t i = 0; i < e.size(); ++i) {
    SCOPED_TRACE(e[i]);
    const double clamped = std::clamp(e[i], -1.0, 1.0);
    EXPECT_DOUBLE_EQ(curves[0].loss[i], e[i] * e[i]);
    EXPECT_DOUBLE_EQ(curves[0].grad[i], 2 * e[i]);
    EXPECT_DOUBLE_EQ(curves[1].grad[i], e[i] > 0 ? 1 : -1);
    EXPECT_DOUBLE_EQ(curves[2].grad[i], clamped);  // Huber δ = 1
    EXPECT_DOUBLE_EQ(curves[3].grad[i], clamped);  // smooth L1 β = 1
    EXPECT_NEAR(curves[4].loss[i], std::log(std::cosh(e[i])), 1e-14);
    EXPECT_NEAR(curves[4].grad[i], std::tanh(e[i]), 1e-14);
    EXPECT_NEAR(curves[5].loss[i], e[i] > 0 ? 0.1 * e[i] : -0.9 * e[i], 1e-14);
    EXPECT_NEAR(curves[5].grad[i], e[i] > 0 ? 0.1 : -0.9, 1e-14);
  }
}

TEST(LossPlot, FocalLossIsCrossEntropyScaledByOneMinusPtToTheGamma) {
  const std::vector<double> p_t = {0.01, 0.1, 0.5, 0.9, 0.999};
  for (double gamma : {0.0, 0.5, 2.0, 5.0}) {
    const std::vector<double> loss = focal_loss_at(p_t, gamma);
    for (std::size_t i = 0; i < p_t.size(); ++i) {
      const double expected = -std::pow(1 - p_t[i], gamma) * std::log(p_t[i]);
      EXPECT_NEAR(loss[i], expected, 1e-12 * std::max(1.0, expected)) << "gamma " << gamma << " p_t " << p_t[i];
    }
  }
}

TEST(LossPlot, TrueLogitGradientsMatchHandFormulasAndMseVanishesWhenConfidentlyWrong) {
  const std::vector<double> z = {-8, -2, 0, 1.5, 6};
  const TrueLogitGradients g = true_logit_gradients(z);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double denominator = std::exp(z[i]) + 2;
    const double p[3] = {std::exp(z[i]) / denominator, 1 / denominator, 1 / denominator};
    double brier = 0;
    for (int j = 0; j < 3; ++j) brier += 2 * (p[j] - (j == 0)) * p[j] * ((j == 0) - p[0]);
    EXPECT_NEAR(g.cross_entropy[i], p[0] - 1, 1e-14) << "z_y " << z[i];
    EXPECT_NEAR(g.brier[i], brier, 1e-14) << "z_y " << z[i];
    EXPECT_NEAR(g.brier[i], -3 * p[0] * (1 - p[0]) * (1 - p[0]), 1e-14) << "z_y " << z[i];
  }
  EXPECT_GT(std::abs(g.cross_entropy[0]), 0.999);
  EXPECT_LT(std::abs(g.brier[0]), 0.002);
  EXPECT_NEAR(g.brier[2], -4.0 / 9, 1e-14);  // p_y = 1/3: MSE's largest push is at the boundary
}

TEST(LossPlot, AngularBoundariesMatchThePapersClosedForms) {
  std::vector<double> theta1;
  for (double d = 0; d <= 180; d += 1) theta1.push_back(d * kDegree);
  const std::vector<double> softmax = class1_boundary(angular("modified softmax"), theta1);
  const std::vector<double> sphereface = class1_boundary(angular("SphereFace"), theta1);
  const std::vector<double> cosface = class1_boundary(angular("CosFace"), theta1);
  const std::vector<double> arcface = class1_boundary(angular("ArcFace"), theta1);
  const std::vector<double> combined = class1_boundary(angular("combined"), theta1);
  for (std::size_t i = 0; i < theta1.size(); ++i) {
    const double t = theta1[i];
    SCOPED_TRACE(t / kDegree);
    EXPECT_NEAR(softmax[i], t, 1e-7);
    if (t <= 44 * kDegree) {
      EXPECT_NEAR(sphereface[i], 4 * t, 1e-7);
    } else if (t >= 46 * kDegree) {
      EXPECT_TRUE(std::isnan(sphereface[i]));  // ψ < -1: class 1 cannot win
    }
    if (std::cos(t) - 0.35 >= -1) {
      EXPECT_NEAR(std::cos(cosface[i]), std::cos(t) - 0.35, 1e-12);
    } else {
      EXPECT_TRUE(std::isnan(cosface[i]));
    }
    if (t >= 1 * kDegree && t + 0.5 <= kPi - 1e-3) {
      EXPECT_NEAR(arcface[i], t + 0.5, 1e-7);
    } else if (t > kPi - 0.5) {
      EXPECT_TRUE(std::isnan(arcface[i]));  // insightface's fallback lies below -1
    }
    if (std::cos(t + 0.3) - 0.2 >= -1) {
      EXPECT_NEAR(std::cos(combined[i]), std::cos(t + 0.3) - 0.2, 1e-12);
    } else {
      EXPECT_TRUE(std::isnan(combined[i]));
    }
  }
}

TEST(LossPlot, NormFaceSimplexLossIsTheClosedFormBound) {
  const std::vector<double> s = {1, 2, 4, 8, 16, 32, 64};
  for (std::int64_t classes : {2, 10, 1000}) {
    const std::vector<double> loss = normface_simplex_loss(classes, s);
    for (std::size_t i = 0; i < s.size(); ++i) {
      const double c = static_cast<double>(classes);
      EXPECT_NEAR(loss[i], std::log(1 + (c - 1) * std::exp(-s[i] * c / (c - 1))), 1e-9)
          << "C " << classes << " s " << s[i];
      EXPECT_NEAR(loss[i], normface_bound(classes, s[i]), 1e-9) << "C " << classes << " s " << s[i];
    }
  }
  EXPECT_NEAR(normface_bound(10, 1), std::log(1 + 9 * std::exp(-10.0 / 9)), 1e-15);
}

TEST(LossPlot, CircleBoundaryIsTheCircleAroundZeroOne) {
  for (double m : {0.25, 0.4}) {
    const double radius = std::sqrt(2) * m;
    const std::vector<double> s_n = {0, 0.1, 0.2, 0.9 * radius, 1.01 * radius, 0.9};
    const std::vector<double> s_p = circle_boundary(s_n, m);
    for (std::size_t i = 0; i < s_n.size(); ++i) {
      SCOPED_TRACE(s_n[i]);
      if (s_n[i] < radius) {
        EXPECT_NEAR(s_p[i], 1 - std::sqrt(2 * m * m - s_n[i] * s_n[i]), 1e-9) << "m " << m;
      } else {
        EXPECT_TRUE(std::isnan(s_p[i])) << "m " << m;  // the circle has left [0, 1]²
      }
    }
  }
}

}  // namespace

namespace {

TEST(LossPlot, PairGradientsAreTheFixedMarginsAndCircleLossesClosedForms) {
  const double m = 0.25, gamma = 2;
  const std::vector<double> s_n = {0.1, 0.5, 0.9}, s_p = {0.8, 0.4, 0.2};
  const PairGradients fixed = pair_gradients(s_n, s_p, m, gamma, false);
  const PairGradients circle = pair_gradients(s_n, s_p, m, gamma, true);
  for (std::size_t i = 0; i < s_n.size(); ++i) {
    SCOPED_TRACE(i);
    const double sigma = 1 / (1 + std::exp(-gamma * (s_n[i] - s_p[i] + m)));
    EXPECT_NEAR(fixed.d_sn[i], gamma * sigma, 1e-12);  // the same push on both scores everywhere
    EXPECT_NEAR(fixed.d_sp[i], -gamma * sigma, 1e-12);
    // α_n, α_p are constants of the gradient (detached, as in the paper).
    const double alpha_n = std::max(s_n[i] + m, 0.0), alpha_p = std::max(1 + m - s_p[i], 0.0);
    const double g = 1 / (1 + std::exp(-gamma * (alpha_n * (s_n[i] - m) - alpha_p * (s_p[i] - (1 - m)))));
    EXPECT_NEAR(circle.d_sn[i], gamma * alpha_n * g, 1e-12);
    EXPECT_NEAR(circle.d_sp[i], -gamma * alpha_p * g, 1e-12);
  }
  EXPECT_CONTAINS(zg_tests::error_of([] { pair_gradients({1}, {}, 0.25, 1, true); }), "1 s_n and 0 s_p");
}

TEST(LossPlot, MarginRegionsLieOnEachSideOfTheBoundaries) {
  for (const AngularTargetLogit& loss : angular_target_logits()) {
    SCOPED_TRACE(loss.name);
    std::vector<double> t1, t2;
    for (double d = 5; d < 180; d += 10) t1.push_back(d * kDegree);
    const std::vector<double> boundary = class1_boundary(loss, t1);
    std::vector<double> a, b;
    std::vector<int> expected;
    for (std::size_t i = 0; i < t1.size(); ++i) {
      if (std::isnan(boundary[i])) continue;
      if (boundary[i] + 0.01 < kPi) a.push_back(t1[i]), b.push_back(boundary[i] + 0.01), expected.push_back(1);
      if (boundary[i] - 0.01 > 0 && loss.name != "modified softmax") {
        a.push_back(t1[i]), b.push_back(boundary[i] - 0.01);
        expected.push_back(0);  // just below class 1's boundary: the margin band, or class 2's side
      }
    }
    std::vector<int> got = margin_regions(loss, a, b, false);
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (expected[i] == 1) {
        EXPECT_EQ(got[i], 1) << a[i] << ", " << b[i];
      } else {
        EXPECT_NE(got[i], 1) << a[i] << ", " << b[i];
      }
    }
    // The cosine plane says the same at the same points.
    std::vector<double> ca, cb;
    for (std::size_t i = 0; i < a.size(); ++i) ca.push_back(std::cos(a[i])), cb.push_back(std::cos(b[i]));
    EXPECT_EQ(margin_regions(loss, ca, cb, true), got);
  }
  // Both margins hold on their sides of a CosFace band, neither inside it.
  const AngularTargetLogit cosface = angular("CosFace");
  EXPECT_EQ(margin_regions(cosface, {0.0, 0.5, kPi / 2}, {kPi / 2, 0.5, 0.0}, false), (std::vector<int>{1, 0, 2}));
}

TEST(LossPlot, TheOriginalSoftmaxBoundaryFollowsTheNormsAndBiases) {
  const std::vector<double> theta = {0.2, 1.0, 2.0, 2.5};
  const std::vector<double> plain = softmax_bias_boundary(theta, 1, 1, 0);
  for (std::size_t i = 0; i < theta.size(); ++i) EXPECT_NEAR(plain[i], theta[i], 1e-12);
  const std::vector<double> tilted = softmax_bias_boundary(theta, 1.2, 0.8, 0.1);
  for (std::size_t i = 1; i < 3; ++i) {
    ASSERT_FALSE(std::isnan(tilted[i])) << theta[i];
    EXPECT_NEAR(0.8 * std::cos(tilted[i]), 1.2 * std::cos(theta[i]) + 0.1, 1e-12);
  }
  EXPECT_TRUE(std::isnan(tilted[0]));  // 1.2 cos 0.2 + 0.1 > 0.8: class 1 wins at every θ2
  EXPECT_TRUE(std::isnan(tilted[3]));  // 1.2 cos 2.5 + 0.1 < -0.8: class 2 wins at every θ2
}

TEST(LossPlot, NormFaceBoundForAnyNumberOfClasses) {
  for (std::int64_t classes : {2, 1000, 100000}) {
    const std::vector<double> loss = normface_simplex_loss(classes, {1, 16});
    EXPECT_NEAR(loss[0], normface_bound(classes, 1), 1e-9 * std::max(1.0, loss[0])) << classes;
    EXPECT_NEAR(loss[1], normface_bound(classes, 16), 1e-9) << classes;
  }
  EXPECT_CONTAINS(zg_tests::error_of([] { normface_simplex_loss(1, {1}); }), "needs 2 to 100000 classes, got 1");
}

}  // namespace
