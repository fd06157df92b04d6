// zoograd loss plot: the pictures are written and well-formed, and the numbers behind them match
// the closed forms the papers give.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include "tests/test_util.h"
#include "train/loss_plot.h"

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

TEST(LossPlot, WritesEveryPictureAndAnIndexThatShowsThem) {
  TempDir tmp;
  const std::string dir = tmp / "nested/plots";  // created, parents included
  const std::vector<std::string> files = write_loss_plots(dir);
  const std::vector<std::string> expected = {"regression_loss.svg", "regression_grad.svg", "focal_pt.svg",
                                             "ce_vs_mse_grad.svg",  "target_logit.svg",    "binary_boundaries.svg",
                                             "normface_bound.svg",  "circle_boundary.svg", "index.html"};
  ASSERT_EQ(files, expected);
  const std::vector<std::pair<std::string, std::vector<std::string>>> legends = {
      {"regression_loss.svg", {"MSE", "Huber δ = 1", "smooth L1 β = 1", "log-cosh", "quantile τ = 0.9"}},
      {"regression_grad.svg", {"L1", "Huber δ = 1"}},
      {"focal_pt.svg", {"γ = 0 (cross-entropy)", "γ = 0.5", "γ = 5"}},
      {"ce_vs_mse_grad.svg", {"cross-entropy", "MSE on softmax (Brier)"}},
      {"target_logit.svg", {"softmax", "SphereFace m=4", "CosFace m=0.35", "ArcFace m=0.5", "combined 1, 0.3, 0.2"}},
      {"binary_boundaries.svg", {"class 1 boundary", "class 2 boundary", "θ1 = θ2", "ArcFace m=0.5: θ1 + 0.5 = θ2"}},
      {"normface_bound.svg", {"C = 10: normface_loss", "C = 10: closed form", "C = 100: closed form"}},
      {"circle_boundary.svg", {"circle_loss (bisection)", "s_n² + (s_p - 1)² = 2m²", "s_p - s_n = m"}},
  };
  const std::string index = read(tmp / "nested/plots/index.html");
  for (const auto& [file, labels] : legends) {
    SCOPED_TRACE(file);
    const std::string svg = read(dir + "/" + file);
    EXPECT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    EXPECT_TRUE(svg.ends_with("</svg>\n"));
    EXPECT_EQ(count(svg, "<svg"), count(svg, "</svg>"));
    EXPECT_EQ(count(svg, "nan"), 0u);  // a non-finite point would print as nan
    EXPECT_GE(count(svg, "<polyline"), labels.size());
    for (const std::string& label : labels) EXPECT_CONTAINS(svg, ">" + label + "</text>");
    EXPECT_CONTAINS(index, "<img src=\"" + file + "\"");
  }
  EXPECT_TRUE(index.starts_with("<!doctype html>"));
  EXPECT_TRUE(index.ends_with("</html>\n"));
  EXPECT_EQ(count(index, "<h2>"), 8u);
  EXPECT_EQ(count(index, "http"), 0u);  // relative links only: opens with no server
}

TEST(LossPlot, UnwritableFolderThrowsNamingIt) {
  TempDir tmp;
  std::ofstream(tmp / "file") << "a regular file";
  const std::string dir = tmp / "file/plots";
  std::string error = zg_tests::error_of([&] { write_loss_plots(dir); });
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
  const std::vector<double> softmax = class1_boundary(angular("softmax"), theta1);
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
