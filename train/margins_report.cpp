#include "train/margins_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numbers>

#include "core/generator.h"
#include "train/html.h"
#include "train/plots.h"
#include "train/report.h"
#include "train/svg.h"

namespace zg {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = std::numbers::pi;

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::vector<double> column(const std::vector<double>& rows, std::int64_t dim, std::int64_t c) {
  std::vector<double> v;
  for (std::size_t i = static_cast<std::size_t>(c); i < rows.size(); i += static_cast<std::size_t>(dim)) v.push_back(rows[i]);
  return v;
}

// The plot's half-width: a little beyond the 99th-percentile feature norm, so a few far outliers
// do not shrink every class to a dot.
double plot_radius(const PanelResult& r, std::int64_t dim) {
  std::vector<double> norms;
  for (std::size_t i = 0; i + static_cast<std::size_t>(dim) <= r.features.size(); i += static_cast<std::size_t>(dim)) {
    double s = 0;
    for (std::int64_t k = 0; k < dim; ++k) s += r.features[i + static_cast<std::size_t>(k)] * r.features[i + static_cast<std::size_t>(k)];
    norms.push_back(std::sqrt(s));
  }
  if (norms.empty()) return 1;
  std::sort(norms.begin(), norms.end());
  return std::max(1e-6, 1.15 * norms[static_cast<std::size_t>(0.99 * static_cast<double>(norms.size() - 1))]);
}

// The head's class over a grid of the square [-radius, radius]², evaluated in one batch.
std::function<std::int64_t(double, double)> region_grid(const PanelResult& r, double radius) {
  const int n = 240;
  std::vector<double> points;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      points.push_back(-radius + (i + 0.5) * 2 * radius / n);
      points.push_back(-radius + (j + 0.5) * 2 * radius / n);
    }
  auto cls = std::make_shared<std::vector<std::int64_t>>(r.classify(points));
  return [cls, radius, n](double x, double y) {
    int i = std::clamp(static_cast<int>((x + radius) / (2 * radius) * n), 0, n - 1);
    int j = std::clamp(static_cast<int>((y + radius) / (2 * radius) * n), 0, n - 1);
    return (*cls)[static_cast<std::size_t>(j * n + i)];
  };
}

// The head's class along the circle of the given radius, one entry per 0.1°.
std::vector<std::int64_t> classes_around(const PanelResult& r, double radius) {
  std::vector<double> points;
  for (int k = 0; k < 3600; ++k) {
    double a = k * kPi / 1800;
    points.push_back(radius * std::cos(a));
    points.push_back(radius * std::sin(a));
  }
  return r.classify(points);
}

std::vector<Ray> weight_rays(const PanelResult& r) {
  std::vector<Ray> rays;
  for (std::size_t c = 0; c + 1 < r.weights.size(); c += 2)
    rays.push_back({r.weights[c], r.weights[c + 1], class_colour(static_cast<std::int64_t>(c / 2)), true, false});
  return rays;
}

void features_plane(const PanelResult& r, const std::vector<std::string>& names, const std::string& path) {
  ScatterPlot p;
  p.title = r.panel.title + ": test features";
  p.x_label = "feature 1";
  p.y_label = "feature 2";
  p.x = column(r.features, 2, 0);
  p.y = column(r.features, 2, 1);
  p.labels = r.labels;
  p.class_names = names;
  p.rays = weight_rays(r);
  double radius = plot_radius(r, 2);
  p.region = region_grid(r, radius);
  p.x_range = p.y_range = {-radius, radius};
  scatter_plot_png(p).save_png(path);
}

// Normalized features, spread radially a little (seeded) so that dense arcs show their density;
// shaded by the head's class along the circle at the typical feature norm, with dashed rays where
// that class changes: the angular decision boundaries.
void features_circle(const PanelResult& r, const std::vector<std::string>& names, const std::string& path) {
  double mean_norm = std::max(r.geometry.mean_feature_norm, 1e-6);
  auto around = std::make_shared<std::vector<std::int64_t>>(classes_around(r, mean_norm));
  ScatterPlot p;
  p.title = r.panel.title + ": on the unit circle";
  p.x_label = "x / |x|";
  p.y_label = "";
  Generator gen(1);
  for (std::size_t i = 0; i + 1 < r.features.size(); i += 2) {
    double norm = std::hypot(r.features[i], r.features[i + 1]), spread = 1 + 0.12 * (gen.uniform() - 0.5);
    p.x.push_back(norm > 0 ? spread * r.features[i] / norm : 0);
    p.y.push_back(norm > 0 ? spread * r.features[i + 1] / norm : 0);
  }
  p.labels = r.labels;
  p.class_names = names;
  p.unit_circle = true;
  p.x_range = p.y_range = {-1.25, 1.25};
  p.region = [around](double x, double y) {
    double a = std::atan2(y, x);
    int k = static_cast<int>(std::lround((a < 0 ? a + 2 * kPi : a) / kPi * 1800)) % 3600;
    return (*around)[static_cast<std::size_t>(k)];
  };
  for (std::size_t k = 0; k < around->size(); ++k)
    if ((*around)[k] != (*around)[(k + 1) % around->size()])
      p.rays.push_back(ray_at_angle((static_cast<double>(k) + 0.5) * kPi / 1800, kBlack, true));
  for (Ray ray : weight_rays(r)) {
    double n = std::hypot(ray.dx, ray.dy);
    p.rays.push_back({ray.dx / n, ray.dy / n, ray.colour, false, false});
  }
  scatter_plot_png(p).save_png(path);
}

void features_sphere(const PanelResult& r, const std::vector<std::string>& names, const std::string& path) {
  SpherePlot p;
  p.title = r.panel.title + ": on the unit sphere";
  p.x = column(r.features, 3, 0);
  p.y = column(r.features, 3, 1);
  p.z = column(r.features, 3, 2);
  p.labels = r.labels;
  p.class_names = names;
  for (std::size_t c = 0; c + 2 < r.weights.size(); c += 3)
    p.rays.push_back({r.weights[c], r.weights[c + 1], r.weights[c + 2], class_colour(static_cast<std::int64_t>(c / 3))});
  sphere_plot_png(p).save_png(path);
}

void angle_histogram(const PanelResult& r, const std::string& path) {
  Histogram h;
  h.title = r.panel.title + ": angle between feature and class weight";
  h.x_label = "angle (degrees)";
  h.y_label = "share of pairs";
  h.density = true;
  h.series = {{"own class", r.geometry.own_angle, {}}, {"other classes", r.geometry.other_angles, {}}};
  histogram_png(h).save_png(path);
}

void curves(const PanelResult& r, const std::string& path) {
  LineChart c{r.panel.title + ": training", "epoch", "", {{"train loss", {}, {}}, {"train accuracy", {}, {}},
                                                          {"test accuracy", {}, {}}}};
  bool lambda = !r.curves.empty() && r.curves[0].contains("lambda");
  if (lambda) c.series.push_back({"lambda / 10", {}, {}});
  for (const auto& e : r.curves) {
    double epoch = e.at("epoch").get<double>();
    const char* keys[] = {"train_loss", "train_accuracy", "test_accuracy", "lambda"};
    for (std::size_t k = 0; k < c.series.size(); ++k) {
      c.series[k].x.push_back(epoch);
      c.series[k].y.push_back(e.at(keys[k]).get<double>() / (k == 3 ? 10.0 : 1.0));
    }
  }
  line_chart_png(c).save_png(path);
}

// Why the panels' margins are small: the bounds that C classes on a circle set, with their numbers.
std::string margin_bounds_html(std::size_t classes, std::int64_t dim) {
  const double delta = 360.0 / static_cast<double>(std::max<std::size_t>(classes, 2));
  const double rad = delta * kPi / 180;
  std::string n = std::to_string(classes);
  return "<p>Why the margins are smaller than the papers': " + n + " classes share the circle, so neighbouring "
         "class weights are at best Δ = " + fixed(delta, 1) + "° apart, and a margin must fit inside Δ. A feature θ "
         "from its own weight and Δ − θ from its neighbour's still wins with the margin when cos(θ + m) &gt; "
         "cos(Δ − θ) (ArcFace: θ &lt; (Δ − m)/2, so m &lt; Δ = " + fixed(rad, 2) + " rad), cos θ − m &gt; cos(Δ − θ) "
         "(CosFace: m &lt; 1 − cos Δ = " + fixed(1 - std::cos(rad), 3) + " even at θ = 0), or cos(mθ) &gt; cos(Δ − θ) "
         "(SphereFace and L-Softmax once λ is 0: θ &lt; Δ/(m + 1) = " + fixed(delta / 5, 1) + "° for m = 4). The "
         "panels keep well inside these bounds, so that every class keeps an arc to converge into; SphereFace and "
         "the L-Softmax panels anneal λ down to 5 (SphereFace's setting), which blends cos θ into ψ(θ)." +
         (dim == 2 ? std::string() : " In " + std::to_string(dim) + "-D the classes have more room than this.") +
         "</p>\n";
}

}  // namespace

nlohmann::json margins_summary(const MarginsOptions& o, const MarginsResult& result) {
  nlohmann::json panels = nlohmann::json::array();
  for (const PanelResult& r : result.panels) {
    const FeatureGeometry& g = r.geometry;
    panels.push_back({{"name", r.panel.name},
                      {"title", r.panel.title},
                      {"loss", r.panel.loss},
                      {"params", r.panel.params},
                      {"test_accuracy", r.test_accuracy},
                      {"mean_own_angle", g.mean_own_angle},
                      {"p95_own_angle", g.p95_own_angle},
                      {"min_weight_angle", g.min_weight_angle},
                      {"angular_margin", g.angular_margin},
                      {"mean_feature_norm", g.mean_feature_norm},
                      {"seconds", r.seconds},
                      {"curves", r.curves}});
    if (const std::optional<LambdaSchedule>& a = r.panel.anneal)
      panels.back()["lambda_schedule"] = {
          {"base", a->base}, {"gamma", a->gamma}, {"power", a->power}, {"lambda_min", a->lambda_min}};
  }
  return {{"settings",
           {{"data", o.data}, {"dim", o.dim}, {"epochs", o.epochs_to_run()}, {"batch_size", o.batch_size},
            {"lr", o.lr}, {"weight_decay", o.weight_decay}, {"seed", o.seed}, {"threads", o.threads},
            {"jobs", o.jobs_to_run()}}},
          {"panels", panels},
          {"seconds", result.seconds}};
}

std::vector<std::string> write_margins_report(const std::string& dir, const MarginsOptions& o,
                                              const MarginsResult& result) {
  fs::create_directories(dir);
  std::vector<std::string> files;
  std::string rows, sections;
  for (const PanelResult& r : result.panels) {
    std::vector<std::string> pictures;
    auto add = [&](const std::string& suffix, const std::function<void(const std::string&)>& draw) {
      std::string name = r.panel.name + "_" + suffix + ".png";
      draw((fs::path(dir) / name).string());
      files.push_back(name);
      pictures.push_back(name);
    };
    if (o.dim == 2) {
      add("features", [&](const std::string& p) { features_plane(r, result.class_names, p); });
      add("circle", [&](const std::string& p) { features_circle(r, result.class_names, p); });
    } else {
      add("sphere", [&](const std::string& p) { features_sphere(r, result.class_names, p); });
    }
    add("angles", [&](const std::string& p) { angle_histogram(r, p); });
    add("curves", [&](const std::string& p) { curves(r, p); });
    const FeatureGeometry& g = r.geometry;
    rows += "<tr><td>" + xml_escape(r.panel.title) + "</td><td>" + fixed(r.test_accuracy, 4) + "</td><td>" +
            fixed(g.mean_own_angle, 1) + "</td><td>" + fixed(g.p95_own_angle, 1) + "</td><td>" +
            fixed(g.min_weight_angle, 1) + "</td><td>" + fixed(g.angular_margin, 1) + "</td><td>" +
            fixed(g.mean_feature_norm, 2) + "</td><td>" + fixed(r.seconds, 1) + "</td></tr>\n";
    sections += "<h2 id=\"" + r.panel.name + "\">" + xml_escape(r.panel.title) + "</h2>\n<div class=\"row\">";
    for (const std::string& p : pictures) sections += "<img src=\"" + p + "\" alt=\"" + p + "\">";
    sections += "</div>\n";
  }
  nlohmann::json summary = margins_summary(o, result);
  write_file((fs::path(dir) / "summary.json").string(), summary.dump(2) + "\n");
  files.push_back("summary.json");

  std::string html =
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>zoograd margins</title>\n<style>"
      "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
      ".row{display:flex;flex-wrap:wrap;gap:8px}.row img{max-width:32%;min-width:300px;height:auto}"
      "</style></head>\n<body>\n<h1>The margin atlas</h1>\n<p>The same network (same initial weights, same "
      "batches) trained under each loss on " + xml_escape(o.data) + " with " + std::to_string(o.dim) +
      "-D features; data and weights are seeded (seed " + std::to_string(o.seed) + "). Settings: " +
      xml_escape(summary["settings"].dump()) + ". Finished in " + fixed(result.seconds, 1) + " s.</p>\n"
      "<p>Angles are in degrees. θ<sub>own</sub>: the angle between a test feature and its class's weight. "
      "Angular margin: the smallest gap between the angular extents (98% of the features) of neighbouring "
      "classes on the circle; negative when they overlap.</p>\n" +
      margin_bounds_html(result.class_names.size(), o.dim) +
      "<table><tr><th>loss</th><th>test accuracy</th><th>mean θ<sub>own</sub></th><th>95th pct θ<sub>own</sub>"
      "</th><th>min angle between weights</th><th>angular margin</th><th>mean ‖x‖</th><th>seconds</th></tr>\n" +
      rows + "</table>\n" + sections + image_check_script() + "</body></html>\n";
  write_file((fs::path(dir) / "index.html").string(), html);
  files.push_back("index.html");
  return files;
}

}  // namespace zg
