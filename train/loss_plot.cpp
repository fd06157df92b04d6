#include "train/loss_plot.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>
#include <stdexcept>
#include <system_error>

#include "core/ops.h"
#include "losses/angular.h"
#include "losses/classification.h"
#include "losses/metric.h"
#include "losses/regression.h"
#include "train/report.h"
#include "train/svg.h"

namespace zg {

namespace {

constexpr double kDegree = std::numbers::pi / 180;

struct Picture {
  std::string file, heading, text, svg;
};

Tensor f64(const std::vector<double>& values, const Shape& shape) { return tensor(values, shape, DType::Float64); }

// n evenly spaced values from lo to hi, both ends exact.
std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(lo + (hi - lo) * (static_cast<double>(i) / (n - 1)));
  return v;
}

std::vector<double> scaled(std::vector<double> v, double factor) {
  for (double& x : v) x *= factor;
  return v;
}

std::vector<double> magnitudes(std::vector<double> v) {
  for (double& x : v) x = std::abs(x);
  return v;
}

Tensor cosines(const std::vector<double>& theta) {
  std::vector<double> c;
  for (double t : theta) c.push_back(std::cos(t));
  return f64(c, {static_cast<std::int64_t>(c.size())});
}

std::string label_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Charts side by side, `columns` to a row, each in a width × height cell.
std::string grid_svg(const std::vector<std::string>& charts, int width, int height, int columns) {
  const int rows = (static_cast<int>(charts.size()) + columns - 1) / columns;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(columns * width) +
                  "\" height=\"" + std::to_string(rows * height) + "\">\n";
  for (int i = 0; i < static_cast<int>(charts.size()); ++i)
    s += "<g transform=\"translate(" + std::to_string(i % columns * width) + "," +
         std::to_string(i / columns * height) + ")\">\n" + charts[static_cast<std::size_t>(i)] + "</g>\n";
  return s + "</svg>\n";
}

std::vector<Picture> regression_pictures() {
  const std::vector<double> e = linspace(-3, 3, 601);
  const std::string x_label = "error e = prediction − target";
  LineChart loss{.title = "Regression losses", .x_label = x_label, .y_label = "loss", .y_min = 0, .y_max = 4,
                 .legend_outside = true};
  LineChart grad{.title = "Gradients of the regression losses", .x_label = x_label, .y_label = "dℓ/d(prediction)",
                 .y_min = -2.5, .y_max = 2.5, .legend_outside = true};
  for (const LossCurve& c : regression_curves(e)) {
    // With δ = β = 1, Huber and smooth L1 are the same curve: dashing the second keeps both visible.
    const bool dashed = c.label.starts_with("smooth");
    loss.series.push_back({c.label, e, c.loss, dashed});
    grad.series.push_back({c.label, e, c.grad, dashed});
  }
  return {{"regression_loss.svg", "Regression losses",
           "MSE grows with the square of the error, so outliers dominate it; L1, Huber, smooth L1 and log-cosh grow "
           "linearly far from 0. The quantile loss with τ = 0.9 charges under-prediction (e < 0) nine times more than "
           "over-prediction, so its minimizer is the 0.9-quantile.",
           line_chart_svg(loss, 640)},
          {"regression_grad.svg", "Their gradients",
           "MSE's gradient 2e is unbounded and L1's jumps from -1 to 1; Huber, smooth L1 and log-cosh (tanh e) are "
           "smooth near 0 and saturate at ±1, which bounds the pull of an outlier. With δ = β = 1 Huber and smooth L1 "
           "coincide (smooth L1 is Huber divided by β).",
           line_chart_svg(grad, 640)}};
}

Picture focal_picture() {
  std::vector<double> p_t;
  for (int i = 1; i < 400; ++i) p_t.push_back(i / 400.0);
  LineChart chart{.title = "Focal loss against p_t (Lin et al. 2017, Figure 1)",
                  .x_label = "p_t, the probability of the true class", .y_label = "loss",
                  .x_min = 0, .x_max = 1, .y_min = 0, .y_max = 5, .legend_outside = true};
  for (double gamma : {0.0, 0.5, 1.0, 2.0, 5.0})
    chart.series.push_back({gamma == 0 ? "γ = 0 (cross-entropy)" : "γ = " + label_number(gamma), p_t,
                            focal_loss_at(p_t, gamma)});
  return {"focal_pt.svg", "Focal loss",
          "The factor (1 - p_t)^γ keeps the loss of hard examples (small p_t) close to the cross-entropy and shrinks "
          "that of well-classified ones (p_t > 0.5) towards 0, the more the larger γ: the many easy examples stop "
          "drowning out the few hard ones.",
          line_chart_svg(chart, 640)};
}

Picture ce_vs_mse_picture() {
  const std::vector<double> z = linspace(-8, 8, 321);
  const TrueLogitGradients g = true_logit_gradients(z);
  LineChart chart{.title = "Gradient on the true class's logit, 3 classes",
                  .x_label = "true-class logit z_y (the other two logits 0; z_y < 0: misclassified)",
                  .y_label = "|dℓ/dz_y|",
                  .series = {{"cross-entropy", z, magnitudes(g.cross_entropy)},
                             {"MSE on softmax (Brier)", z, magnitudes(g.brier)}},
                  .legend_outside = true};
  return {"ce_vs_mse_grad.svg", "Cross-entropy against MSE on the softmax",
          "Cross-entropy's gradient on the true logit, p_y - 1, tends to -1 as the sample becomes confidently wrong; "
          "the Brier score's, -3·p_y·(1 - p_y)² here, tends to 0: the worse the mistake, the less MSE corrects it. "
          "(Seed 001's 1.8 and 10 are magnitudes of derivatives with respect to the probability ŷ = 0.1 of a positive "
          "sample, -2(1 - ŷ) and -1/ŷ; through the sigmoid both are multiplied by ŷ(1 - ŷ) = 0.09.)",
          line_chart_svg(chart, 640)};
}

Picture target_logit_picture() {
  const std::vector<double> theta = linspace(0, std::numbers::pi, 721);
  LineChart chart{.title = "Target logit per unit scale against θ", .x_label = "θ, angle to the class's weight (degrees)",
                  .y_label = "target logit / s", .x_min = 0, .x_max = 180, .y_min = -1.5, .y_max = 1.1,
                  .x_ticks = {0, 45, 90, 135, 180}, .legend_outside = true};
  for (const AngularTargetLogit& loss : angular_target_logits())
    chart.series.push_back({loss.name, scaled(theta, 1 / kDegree), loss.of(cosines(theta)).to_vector()});
  return {"target_logit.svg", "Target logits of the angular-margin losses",
          "Each margin lowers the target logit below softmax's cos θ, so a feature must come closer to its class's "
          "weight to win. SphereFace's ψ falls steeply (to -7 at 180°, cut off here); ArcFace drops at θ = 180° - 0.5 "
          "rad ≈ 151°, where insightface's fallback cos θ - m·sin m takes over.",
          line_chart_svg(chart, 640)};
}

Picture boundaries_picture() {
  const int width = 460, height = 330;
  const std::vector<double> theta = linspace(0, std::numbers::pi, 721);
  const std::vector<double> degrees = scaled(theta, 1 / kDegree);
  auto axes = [](const std::string& title) {
    return LineChart{.title = title, .x_label = "θ1 (degrees)", .y_label = "θ2 (degrees)", .x_min = 0, .x_max = 180,
                     .y_min = 0, .y_max = 180, .x_ticks = {0, 45, 90, 135, 180}, .y_ticks = {0, 45, 90, 135, 180},
                     .legend_outside = true};
  };
  std::vector<std::string> charts;
  LineChart all = axes("the class-1 boundaries together");
  for (const AngularTargetLogit& loss : angular_target_logits()) {
    const std::vector<double> boundary = scaled(class1_boundary(loss, theta), 1 / kDegree);
    LineChart chart = axes(loss.name + ": " + loss.boundary);
    chart.series = {{"class 1 boundary", degrees, boundary},
                    {"class 2 boundary", boundary, degrees},
                    {"θ1 = θ2", {0, 180}, {0, 180}, true}};
    charts.push_back(line_chart_svg(chart, width, height));
    all.series.push_back({loss.name, degrees, boundary});
  }
  charts.push_back(line_chart_svg(all, width, height));
  return {"binary_boundaries.svg", "Binary decision boundaries",
          "θ1 and θ2 are the feature's angles to the two class weights. Class 1 meets its margin above its boundary "
          "(small θ1, large θ2), class 2 right of its own; softmax's two boundaries coincide on θ1 = θ2, and every "
          "margin opens a band between them where neither class meets its margin. Each boundary solves "
          "target logit(θ1) = cos θ2 with the library's transforms.",
          grid_svg(charts, width, height, 2)};
}

Picture normface_picture() {
  const std::vector<double> s = linspace(1, 64, 253);
  LineChart chart{.title = "NormFace: the lowest reachable loss against the scale s", .x_label = "scale s",
                  .y_label = "lowest softmax loss", .legend_outside = true};
  for (std::int64_t classes : {10, 100}) {
    std::vector<double> bound;
    for (double v : s) bound.push_back(normface_bound(classes, v));
    const std::string c = "C = " + std::to_string(classes);
    chart.series.push_back({c + ": normface_loss", s, normface_simplex_loss(classes, s)});
    chart.series.push_back({c + ": closed form", s, bound, true});
  }
  return {"normface_bound.svg", "NormFace: why normalized losses need a scale",
          "With normalized features and weights every logit lies in [-s, s], so even ideal features (weights on a "
          "regular simplex, each feature on its class's weight) leave a loss of log(1 + (C - 1)·exp(-s·C/(C - 1))): "
          "at s = 1 at least 1.4 for 10 classes. Solid: the library's normface_loss on that simplex; dashed: the "
          "closed form.",
          line_chart_svg(chart, 640)};
}

Picture circle_picture() {
  const double m = 0.25;
  const std::vector<double> s_n = linspace(0, 1, 2001);
  std::vector<double> circle, line;
  for (double v : s_n) {
    circle.push_back(1 - std::sqrt(2 * m * m - v * v));
    line.push_back(v + m);
  }
  LineChart chart{.title = "Circle loss decision boundary, m = 0.25", .x_label = "s_n, similarity to a negative",
                  .y_label = "s_p, similarity to a positive",
                  .series = {{"circle_loss (bisection)", s_n, circle_boundary(s_n, m)},
                             {"s_n² + (s_p - 1)² = 2m²", s_n, circle, true},
                             {"s_p - s_n = m", s_n, line}},
                  .x_min = 0, .x_max = 1, .y_min = 0, .y_max = 1, .legend_outside = true};
  return {"circle_boundary.svg", "Circle loss decision boundary",
          "With α_p = [1 + m - s_p]+, α_n = [s_n + m]+, Δ_p = 1 - m and Δ_n = m, the boundary α_n(s_n - Δ_n) = "
          "α_p(s_p - Δ_p) is the circle s_n² + (s_p - 1)² = 2m² around (0, 1): the larger s_n, the more s_p it "
          "demands, while a fixed margin asks for the same gap s_p - s_n = m everywhere. Solid: found by bisection "
          "on the library's circle_loss; dashed: the circle.",
          line_chart_svg(chart, 640)};
}

std::string index_html(const std::vector<Picture>& pictures) {
  std::string body;
  for (const Picture& p : pictures)
    body += "<h2>" + xml_escape(p.heading) + "</h2>\n<p>" + xml_escape(p.text) + "</p>\n<p><img src=\"" + p.file +
            "\" alt=\"" + xml_escape(p.heading) + "\"></p>\n";
  return R"(<!doctype html>
<html><head><meta charset="utf-8"><title>zoograd loss zoo</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}img{border:1px solid #ddd;max-width:100%}</style>
</head><body>
<h1>The loss zoo in pictures</h1>
<p>Every curve is computed by zoograd's own losses and autograd in float64.</p>
)" + body + "</body></html>\n";
}

}  // namespace

std::vector<LossCurve> regression_curves(const std::vector<double>& errors) {
  using Loss = std::function<Tensor(const Tensor&, const Tensor&)>;
  constexpr Reduction none = Reduction::None;
  const std::vector<std::pair<std::string, Loss>> losses = {
      {"MSE", [](const Tensor& x, const Tensor& y) { return mse_loss(x, y, {.reduction = none}); }},
      {"L1", [](const Tensor& x, const Tensor& y) { return l1_loss(x, y, {.reduction = none}); }},
      {"Huber δ = 1",
       [](const Tensor& x, const Tensor& y) { return huber_loss(x, y, {.reduction = none, .delta = 1}); }},
      {"smooth L1 β = 1",
       [](const Tensor& x, const Tensor& y) { return smooth_l1_loss(x, y, {.reduction = none, .beta = 1}); }},
      {"log-cosh", [](const Tensor& x, const Tensor& y) { return log_cosh_loss(x, y, {.reduction = none}); }},
      {"quantile τ = 0.9",
       [](const Tensor& x, const Tensor& y) { return quantile_loss(x, y, {.reduction = none, .tau = 0.9}); }},
  };
  const Shape shape{static_cast<std::int64_t>(errors.size())};
  std::vector<LossCurve> curves;
  for (const auto& [label, loss] : losses) {
    Tensor prediction = f64(errors, shape);
    prediction.requires_grad_();
    Tensor value = loss(prediction, zeros(shape, DType::Float64));
    // Each ℓ_i depends on prediction_i alone, so the gradient of the sum holds every dℓ_i/dx_i.
    sum(value).backward();
    curves.push_back({label, value.to_vector(), prediction.grad().to_vector()});
  }
  return curves;
}

std::vector<double> focal_loss_at(const std::vector<double>& p_t, double gamma) {
  std::vector<double> logits;
  for (double p : p_t) logits.push_back(std::log(p) - std::log1p(-p));
  const Shape shape{static_cast<std::int64_t>(logits.size())};
  return sigmoid_focal_loss(f64(logits, shape), ones(shape, DType::Float64),
                            {.reduction = Reduction::None, .alpha = -1, .gamma = gamma})
      .to_vector();
}

TrueLogitGradients true_logit_gradients(const std::vector<double>& z_y) {
  const auto n = static_cast<std::int64_t>(z_y.size());
  std::vector<double> logits;
  for (double z : z_y) logits.insert(logits.end(), {z, 0.0, 0.0});
  const Tensor target = zeros({n}, DType::Int64);
  auto on_true_logit = [&](const std::function<Tensor(const Tensor&)>& loss) {
    Tensor x = f64(logits, {n, 3});
    x.requires_grad_();
    sum(loss(x)).backward();
    std::vector<double> all = x.grad().to_vector(), first;
    for (std::size_t i = 0; i < all.size(); i += 3) first.push_back(all[i]);
    return first;
  };
  return {on_true_logit([&](const Tensor& x) { return cross_entropy(x, target, {.reduction = Reduction::None}); }),
          on_true_logit([&](const Tensor& x) { return brier_score(x, target, {.reduction = Reduction::None}); })};
}

std::vector<AngularTargetLogit> angular_target_logits() {
  return {
      {"softmax", "cos θ1 = cos θ2", [](const Tensor& c) { return c; }},
      {"SphereFace m=4", "ψ(θ1) = cos θ2", [](const Tensor& c) { return lsoftmax_target_logit(c, 4, 0.0); }},
      {"CosFace m=0.35", "cos θ1 - 0.35 = cos θ2",
       [](const Tensor& c) { return cosface_target_logit(c, 1.0, 0.35); }},
      {"ArcFace m=0.5", "θ1 + 0.5 = θ2", [](const Tensor& c) { return arcface_target_logit(c, 1.0, 0.5); }},
      {"combined 1, 0.3, 0.2", "cos(θ1 + 0.3) - 0.2 = cos θ2",
       [](const Tensor& c) { return combined_margin_target_logit(c, 1.0, 1.0, 0.3, 0.2); }},
  };
}

std::vector<double> class1_boundary(const AngularTargetLogit& loss, const std::vector<double>& theta1) {
  // cos falls monotonically on [0, π], so cos θ2 = t has exactly one solution there for t ∈ [-1, 1].
  std::vector<double> theta2 = loss.of(cosines(theta1)).to_vector();
  for (double& t : theta2) t = t >= -1 ? std::acos(t) : NAN;
  return theta2;
}

std::vector<double> normface_simplex_loss(std::int64_t classes, const std::vector<double>& s) {
  // The rows e_i - 1/C have pairwise cosines -1/(C - 1): a regular simplex (normface_loss normalizes them).
  const auto c = static_cast<std::size_t>(classes);
  std::vector<double> w(c * c);
  for (std::size_t i = 0; i < c; ++i)
    for (std::size_t j = 0; j < c; ++j) w[i * c + j] = (i == j ? 1.0 : 0.0) - 1.0 / static_cast<double>(c);
  const Tensor weight = f64(w, {classes, classes});
  // By symmetry every class's sample has the same loss, so class 0's stands for all, at 1/C of the cost.
  const Tensor feature = slice(weight, 0, 0, 1);
  const Tensor target = zeros({1}, DType::Int64);
  std::vector<double> loss;
  for (double scale : s) loss.push_back(normface_loss(feature, weight, target, {.s = scale}).item());
  return loss;
}

double normface_bound(std::int64_t classes, double s) {
  const auto c = static_cast<double>(classes);
  return std::log1p((c - 1) * std::exp(-s * c / (c - 1)));
}

std::vector<double> circle_boundary(const std::vector<double>& s_n, double m) {
  // circle_loss = softplus(γ·B) with the bracket B = α_n(s_n - Δ_n) - α_p(s_p - Δ_p), so the loss is
  // above log 2 exactly where B > 0. On s_p ∈ [0, 1], B falls as s_p rises: bisection finds B = 0.
  const std::size_t n = s_n.size();
  const Shape shape{static_cast<std::int64_t>(n), 1};
  const Tensor negative = f64(s_n, shape);
  const CircleLossOptions options{.m = m, .reduction = Reduction::None};
  auto positive_bracket = [&](const std::vector<double>& s_p) {
    std::vector<bool> positive;
    for (double loss : circle_loss(f64(s_p, shape), negative, options).to_vector())
      positive.push_back(loss > std::log(2.0));
    return positive;
  };
  std::vector<double> lo(n, 0.0), hi(n, 1.0), mid(n);
  const std::vector<bool> at_lo = positive_bracket(lo), at_hi = positive_bracket(hi);
  for (int step = 0; step < 60; ++step) {
    for (std::size_t i = 0; i < n; ++i) mid[i] = (lo[i] + hi[i]) / 2;
    const std::vector<bool> positive = positive_bracket(mid);
    for (std::size_t i = 0; i < n; ++i) (positive[i] ? lo[i] : hi[i]) = mid[i];
  }
  for (std::size_t i = 0; i < n; ++i) mid[i] = at_lo[i] && !at_hi[i] ? (lo[i] + hi[i]) / 2 : NAN;
  return mid;
}

std::vector<std::string> write_loss_plots(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create the folder: " + error.message());
  std::vector<Picture> pictures = regression_pictures();
  pictures.insert(pictures.end(), {focal_picture(), ce_vs_mse_picture(), target_logit_picture(), boundaries_picture(),
                                   normface_picture(), circle_picture()});
  std::vector<std::string> written;
  for (const Picture& p : pictures) {
    write_file((fs::path(dir) / p.file).string(), p.svg);
    written.push_back(p.file);
  }
  write_file((fs::path(dir) / "index.html").string(), index_html(pictures));
  written.push_back("index.html");
  return written;
}

}  // namespace zg
