#include "zoograd/train/loss/loss_figures.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "zoograd/losses/checks.h"
#include "zoograd/train/loss/loss_curves.h"
#include "zoograd/train/plot/plots.h"

namespace zg {

namespace {

constexpr double kDegree = std::numbers::pi / 180;

std::vector<double> scaled(std::vector<double> v, double factor) {
  for (double& x : v) x *= factor;
  return v;
}

std::vector<double> magnitudes(std::vector<double> v) {
  for (double& x : v) x = std::abs(x);
  return v;
}

using checks::num;  // %g: "0.5", "1e-06"

AngularSettings angular_settings(const FigureSettings& s) {
  return {.sphereface_m = s.at("sphereface_m"), .sphereface_lambda = s.at("sphereface_lambda"),
          .cosface_m = s.at("cosface_m"), .arcface_m = s.at("arcface_m"), .m1 = s.at("m1"), .m2 = s.at("m2"),
          .m3 = s.at("m3")};
}

RegressionSettings regression_settings(const FigureSettings& s) {
  return {.delta = s.at("delta"), .beta = s.at("beta"), .tau = s.at("tau")};
}

const std::vector<Rgb> kTwoClasses = {class_colour(0), class_colour(1)};

// The shading and lines every boundary panel shares.
std::vector<LegendEntry> boundary_legend(const std::string& equal) {
  return {{"class 1 meets its margin", class_colour(0)},
          {"class 2 meets its margin", class_colour(1)},
          {"class 1 boundary", kInk, Swatch::line},
          {"class 2 boundary", class_colour(3), Swatch::line},
          {equal, kGuide, Swatch::dashed_line}};
}

}  // namespace

namespace {

// The regression losses (or their gradients) against the error, one curve each.
Figure regression_chart(const FigureSettings& s, const std::string& title, const AxisSpec& y, bool gradients) {
  const double r = s.at("range");
  const std::vector<double> e = linspace(-r, r, 601);
  LineChart chart{.title = title, .x = {"error e = prediction − target (units of the target)"}, .y = y,
                  .legend = LegendPlace::outside};
  for (const LossCurve& c : regression_curves(e, regression_settings(s)))
    // With δ = β, Huber and smooth L1 can be one curve: dashing the second keeps both visible.
    chart.series.push_back({c.label, e, gradients ? c.grad : c.loss, c.label.starts_with("smooth")});
  return line_chart(chart, 820, 460);
}

}  // namespace

LossPicture regression_loss_figure(const FigureSettings& s) {
  const double r = s.at("range");
  return {"regression_loss", "Regression losses",
          "MSE grows with the square of the error, so outliers dominate it; L1, Huber, smooth L1 and log-cosh grow "
          "linearly far from 0. The quantile loss with τ > 0.5 charges under-prediction (e < 0) τ/(1 − τ) times more "
          "than over-prediction, so its minimizer is the τ-quantile.",
          regression_chart(s, "Regression losses", {"loss (squared units for MSE, units for L1)", 0.0, r * r / 2.25}, false)};
}

LossPicture regression_grad_figure(const FigureSettings& s) {
  return {"regression_grad", "Their gradients",
          "MSE's gradient 2e is unbounded and L1's jumps from −1 to 1; Huber, smooth L1 and log-cosh (tanh e) are "
          "smooth near 0 and saturate, which bounds the pull of an outlier. With δ = β = 1 Huber and smooth L1 "
          "coincide (smooth L1 is Huber divided by β).",
          regression_chart(s, "Gradients of the regression losses",
                           {"dℓ/d(prediction) (loss units per target unit)", -2.5, 2.5}, true)};
}

LossPicture focal_figure(const FigureSettings& s) {
  std::vector<double> p_t;
  for (int i = 1; i < 400; ++i) p_t.push_back(i / 400.0);
  LineChart chart{.title = "Focal loss against p_t (Lin et al. 2017, Figure 1)",
                  .x = {"p_t, the probability of the true class (probability)", 0.0, 1.0},
                  .y = {"loss (nats)", 0.0, 5.0}, .legend = LegendPlace::outside};
  for (double gamma : {0.0, 0.5, 1.0, 2.0, 5.0})
    chart.series.push_back({gamma == 0 ? "γ = 0 (cross-entropy)" : "γ = " + num(gamma), p_t, focal_loss_at(p_t, gamma)});
  if (const double gamma = s.at("gamma"); gamma > 0)
    chart.series.push_back({"γ = " + num(gamma) + " (--set)", p_t, focal_loss_at(p_t, gamma), false, kBlack, 3});
  return {"focal_pt", "Focal loss",
          "The factor (1 − p_t)^γ keeps the loss of hard examples (small p_t) close to the cross-entropy and shrinks "
          "that of well-classified ones (p_t > 0.5) towards 0, the more the larger γ: the many easy examples stop "
          "drowning out the few hard ones.",
          line_chart(chart, 820, 460)};
}

LossPicture ce_vs_mse_figure(const FigureSettings& s) {
  const double r = s.at("range");
  const std::vector<double> z = linspace(-r, r, 321);
  const TrueLogitGradients g = true_logit_gradients(z);
  LineChart chart{.title = "Gradient on the true class's logit, 3 classes",
                  .x = {"true-class logit z_y, the other two logits 0 (nats; z_y < 0: misclassified)"},
                  .y = {"|dℓ/dz_y| (loss per logit unit)"},
                  .series = {{"cross-entropy", z, magnitudes(g.cross_entropy)},
                             {"MSE on softmax (Brier)", z, magnitudes(g.brier)}},
                  .legend = LegendPlace::outside};
  return {"ce_vs_mse_grad", "Cross-entropy against MSE on the softmax",
          "Cross-entropy's gradient on the true logit, p_y − 1, tends to −1 as the sample becomes confidently wrong; "
          "the Brier score's, −3·p_y·(1 − p_y)² here, tends to 0: the worse the mistake, the less MSE corrects it.",
          line_chart(chart, 820, 460)};
}

namespace {

LineChart target_logit_chart(const FigureSettings& s, const std::string& title, double from_deg, double to_deg) {
  const std::vector<double> theta = linspace(from_deg * kDegree, to_deg * kDegree, 721);
  LineChart chart{.title = title, .x = {"θ, angle to the class's weight (degrees)", from_deg, to_deg},
                  .y = {"target logit / s (cosine units)"}, .legend = LegendPlace::outside};
  if (to_deg - from_deg == 180) chart.x.ticks = {0, 45, 90, 135, 180}, chart.y.min = -1.5, chart.y.max = 1.1;
  for (const AngularTargetLogit& loss : angular_target_logits(angular_settings(s)))
    chart.series.push_back({loss.name, scaled(theta, 1 / kDegree), target_logit_at(loss, theta)});
  return chart;
}

}  // namespace

LossPicture target_logit_figure(const FigureSettings& s) {
  return {"target_logit", "Target logits of the angular-margin losses",
          "Each margin lowers the target logit below the modified softmax's cos θ, so a feature must come closer to "
          "its class's weight to win. SphereFace's ψ falls steeply (to 1 − 2m at 180°, cut off here); ArcFace drops "
          "at θ = 180° − m, where insightface's fallback cos θ − m·sin m takes over.",
          line_chart(target_logit_chart(s, "Target logit per unit scale against θ", 0, 180), 820, 460)};
}

LossPicture target_logit_arcface_figure(const FigureSettings& s) {
  return {"target_logit_arcface", "The same with the ArcFace paper's settings",
          "The ArcFace paper (Deng et al. 2019, Figure 4(b)) compares the target logits where training keeps the "
          "angles, from 20° to 100°, with SphereFace at m = 4 blended with cos θ at λ = 5 (its training setting). "
          "There the margins are nearly parallel: ArcFace's constant in angle, CosFace's constant in cosine.",
          line_chart(target_logit_chart(s, "Target logits, θ from 20° to 100° (ArcFace paper, Fig. 4b)",
                                        s.at("theta_from"), s.at("theta_to")),
                     820, 460)};
}

LossPicture theta_boundaries_figure(const FigureSettings& s) {
  const std::vector<double> theta = linspace(0, std::numbers::pi, 721);
  const std::vector<double> degrees = scaled(theta, 1 / kDegree);
  auto panel = [&](const std::string& title, std::vector<double> boundary1, std::vector<double> boundary2,
                   RegionFunction region) {
    LineChart chart{.title = title, .x = {"θ1 (degrees)", 0.0, 180.0, {0, 45, 90, 135, 180}},
                    .y = {"θ2 (degrees)", 0.0, 180.0, {0, 45, 90, 135, 180}},
                    .series = {{"class 1 boundary", degrees, std::move(boundary1), false, kInk},
                               {"class 2 boundary", std::move(boundary2), degrees, false, class_colour(3)},
                               {"θ1 = θ2", {0, 180}, {0, 180}, true, kGuide, 1.5}},
                    .legend = LegendPlace::none, .equal_aspect = true, .region = std::move(region),
                    .region_colours = kTwoClasses};
    return Panel([chart](Figure& f, Box box) { draw_line_chart(f, box, chart); });
  };
  const double w1 = s.at("w1"), w2 = s.at("w2"), gap = s.at("bias_gap");
  std::vector<Panel> panels;
  const std::vector<double> plain = scaled(softmax_bias_boundary(theta, w1, w2, gap), 1 / kDegree);
  std::vector<double> plain2 = scaled(softmax_bias_boundary(theta, w2, w1, -gap), 1 / kDegree);
  panels.push_back(panel("softmax with ‖W1‖ = " + num(w1) + ", ‖W2‖ = " + num(w2) + ", b1 − b2 = " + num(gap) +
                             " (‖x‖ = 1)",
                         plain, plain2, [=](const std::vector<double>& a, const std::vector<double>& b) {
                           std::vector<int> r;
                           for (std::size_t i = 0; i < a.size(); ++i)
                             r.push_back(w1 * std::cos(a[i] * kDegree) + gap > w2 * std::cos(b[i] * kDegree) ? 0 : 1);
                           return r;
                         }));
  for (const AngularTargetLogit& loss : angular_target_logits(angular_settings(s))) {
    const std::vector<double> boundary = scaled(class1_boundary(loss, theta), 1 / kDegree);
    panels.push_back(panel(loss.name + ": " + loss.boundary, boundary, boundary,
                           [loss](const std::vector<double>& a, const std::vector<double>& b) {
                             std::vector<int> r = margin_regions(loss, scaled(a, kDegree), scaled(b, kDegree), false);
                             for (int& v : r) v -= 1;  // 0 (neither) becomes -1, unshaded
                             return r;
                           }));
  }
  return {"binary_boundaries", "Binary decision boundaries in the (θ1, θ2) plane",
          "θ1 and θ2 are the feature's angles to the two class weights. Shaded: where a class still wins with its "
          "margin applied (its target logit, through the library's transform, above the other class's cos θ). The "
          "modified softmax's two regions meet on θ1 = θ2; every margin opens a band between them where neither "
          "class meets its margin. The original softmax (first panel) has no margin: its norms and biases only move "
          "and bend the boundary, (W1 − W2)·x + b1 − b2 = 0.",
          grid_figure("Binary decision boundaries in the (θ1, θ2) plane", panels, 3, 400, 430,
                      boundary_legend("θ1 = θ2"))};
}

LossPicture cos_boundaries_figure(const FigureSettings& s) {
  const std::vector<double> c = linspace(-1, 1, 801);
  auto panel = [&](const std::string& title, std::vector<double> boundary, RegionFunction region) {
    LineChart chart{.title = title, .x = {"cos θ1 (dimensionless)", -1.0, 1.0}, .y = {"cos θ2 (dimensionless)", -1.0, 1.0},
                    .series = {{"class 1 boundary", c, boundary, false, kInk},
                               {"class 2 boundary", boundary, c, false, class_colour(3)},
                               {"cos θ1 = cos θ2", {-1, 1}, {-1, 1}, true, kGuide, 1.5}},
                    .legend = LegendPlace::none, .equal_aspect = true, .region = std::move(region),
                    .region_colours = kTwoClasses};
    return Panel([chart](Figure& f, Box box) { draw_line_chart(f, box, chart); });
  };
  const double w1 = s.at("w1"), w2 = s.at("w2"), gap = s.at("bias_gap");
  std::vector<Panel> panels;
  std::vector<double> plain;
  for (double v : c) plain.push_back((w1 * v + gap) / w2);
  LineChart first{.title = "softmax with ‖W1‖ = " + num(w1) + ", ‖W2‖ = " + num(w2) + ", b1 − b2 = " + num(gap) +
                           " (‖x‖ = 1)",
                  .x = {"cos θ1 (dimensionless)", -1.0, 1.0}, .y = {"cos θ2 (dimensionless)", -1.0, 1.0},
                  .series = {{"boundary", c, plain, false, kInk}, {"cos θ1 = cos θ2", {-1, 1}, {-1, 1}, true, kGuide, 1.5}},
                  .legend = LegendPlace::none, .equal_aspect = true,
                  .region = [=](const std::vector<double>& a, const std::vector<double>& b) {
                    std::vector<int> r;
                    for (std::size_t i = 0; i < a.size(); ++i) r.push_back(w1 * a[i] + gap > w2 * b[i] ? 0 : 1);
                    return r;
                  },
                  .region_colours = kTwoClasses};
  panels.push_back([first](Figure& f, Box box) { draw_line_chart(f, box, first); });
  for (const AngularTargetLogit& loss : angular_target_logits(angular_settings(s))) {
    std::vector<double> boundary = loss.of(tensor(c, {static_cast<std::int64_t>(c.size())}, DType::Float64)).to_vector();
    for (double& v : boundary)
      if (v < -1) v = NAN;  // class 1 cannot win there
    panels.push_back(panel(loss.name + ": " + loss.boundary, boundary,
                           [loss](const std::vector<double>& a, const std::vector<double>& b) {
                             std::vector<int> r = margin_regions(loss, a, b, true);
                             for (int& v : r) v -= 1;
                             return r;
                           }));
  }
  return {"cos_boundaries", "The same boundaries in the (cos θ1, cos θ2) plane",
          "As in the CosFace paper's Figure 2: the modified softmax's boundary is the diagonal, CosFace's are two "
          "parallel lines a margin m apart, ArcFace's and SphereFace's curve away from it. The original softmax's "
          "boundary ‖W1‖ cos θ1 + b1 = ‖W2‖ cos θ2 + b2 is a line whose slope and offset come from the weights' norms "
          "and the biases, so the two classes get unequal room.",
          grid_figure("Binary decision boundaries in the (cos θ1, cos θ2) plane", panels, 3, 400, 430,
                      boundary_legend("cos θ1 = cos θ2"))};
}

LossPicture normface_figure(const FigureSettings& s, const std::vector<std::int64_t>& classes) {
  const std::vector<double> scale = linspace(1, s.at("s_max"), 253);
  LineChart chart{.title = "NormFace: the lowest reachable loss against the scale s", .x = {"scale s (logit units)"},
                  .y = {"lowest softmax loss (nats, log scale)"}, .legend = LegendPlace::outside};
  chart.y.log = true;
  for (std::size_t k = 0; k < classes.size(); ++k) {
    std::vector<double> bound, library = normface_simplex_loss(classes[k], scale);
    for (double v : scale) bound.push_back(normface_bound(classes[k], v));
    // float64 resolves logsumexp(z) − z_y only to about 1e-16·s: below 1e-12 rounding would show.
    for (double& v : library)
      if (v < 1e-12) v = NAN;
    const std::string c = "C = " + std::to_string(classes[k]);
    chart.series.push_back({c + ": normface_loss", scale, library, false, series_colour(k), 3});
    chart.series.push_back({c + ": closed form", scale, bound, true, kInk, 1.5});
  }
  return {"normface_bound", "NormFace: why normalized losses need a scale",
          "With normalized features and weights every logit lies in [−s, s], so even ideal features (weights on a "
          "regular simplex, each feature on its class's weight) leave a loss of log(1 + (C − 1)·exp(−s·C/(C − 1))): "
          "at s = 1 at least 1.4 for 10 classes. On the log axis the bound falls as a straight line once s is a few "
          "units. Thick: the library's normface_loss at the simplex's cosines (drawn down to 10⁻¹², below which "
          "float64 rounding of logsumexp(z) − z_y shows); dashed: the closed form.",
          line_chart(chart, 880, 480)};
}

LossPicture circle_figure(const FigureSettings& s) {
  const double m = s.at("m"), gamma = s.at("gamma");
  const std::vector<double> s_n = linspace(0, 1, 2001);
  std::vector<double> circle, line;
  for (double v : s_n) {
    circle.push_back(1 - std::sqrt(std::max(2 * m * m - v * v, 0.0)));
    if (v * v > 2 * m * m) circle.back() = NAN;
    line.push_back(v + m);
  }
  // Arrows of −∇ℓ at a grid of (s_n, s_p), the longest 0.09 long in each panel.
  auto arrows = [&](bool circle_loss_arrows) {
    std::vector<double> gn, gp;
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 7; ++j) gn.push_back(0.08 + 0.14 * i), gp.push_back(0.08 + 0.14 * j);
    const PairGradients g = pair_gradients(gn, gp, m, gamma, circle_loss_arrows);
    double longest = 0;
    for (std::size_t i = 0; i < gn.size(); ++i) longest = std::max(longest, std::hypot(g.d_sn[i], g.d_sp[i]));
    std::vector<Arrow> out;
    for (std::size_t i = 0; i < gn.size(); ++i)
      if (longest > 0 && std::hypot(g.d_sn[i], g.d_sp[i]) > 1e-3 * longest)
        out.push_back({gn[i], gp[i], gn[i] - 0.09 * g.d_sn[i] / longest, gp[i] - 0.09 * g.d_sp[i] / longest, kInk});
    return out;
  };
  const AxisSpec x{"s_n, similarity to a negative (cosine)", 0.0, 1.0}, y{"s_p, similarity to a positive (cosine)", 0.0, 1.0};
  LineChart fixed{.title = "fixed margin: softplus(γ(s_n − s_p + m)), boundary s_p − s_n = m", .x = x, .y = y,
                  .series = {{"s_p − s_n = m", s_n, line}}, .legend = LegendPlace::inside, .equal_aspect = true,
                  .arrows = arrows(false), .extra_legend = {{"−gradient (scaled)", kInk, Swatch::line}}};
  LineChart round{.title = "circle loss: boundary s_n² + (s_p − 1)² = 2m²", .x = x, .y = y,
                  .series = {{"circle_loss (bisection)", s_n, circle_boundary(s_n, m), false, class_colour(3), 3},
                             {"s_n² + (s_p − 1)² = 2m²", s_n, circle, true, kInk, 1.5},
                             {"s_p − s_n = m", s_n, line, true, kGuide, 1.5}},
                  .legend = LegendPlace::inside, .equal_aspect = true, .arrows = arrows(true),
                  .extra_legend = {{"−gradient (scaled)", kInk, Swatch::line}}};
  return {"circle_boundary", "Circle loss: its boundary and its gradients",
          "As in the circle loss paper's Figure 1 (Sun et al. 2020), m = " + num(m) + ", γ = " + num(gamma) +
              ". A fixed margin pushes s_n down and s_p up equally everywhere and asks for the same gap s_p − s_n = m. "
              "Circle loss weights each score by its distance from its optimum, α_n = [s_n + m]₊ and α_p = "
              "[1 + m − s_p]₊: a pair far from the optimum is pushed harder, on the score that is further off, and "
              "the boundary becomes the circle around (0, 1). Arrows: −∇ℓ by autograd, scaled to the longest in "
              "each panel; the circle found by bisection on the library's circle_loss is solid.",
          grid_figure("Circle loss (Sun et al. 2020, Figure 1)",
                      {[fixed](Figure& f, Box b) { draw_line_chart(f, b, fixed); },
                       [round](Figure& f, Box b) { draw_line_chart(f, b, round); }},
                      2, 600, 600)};
}

}  // namespace zg
