#include "zoograd/train/atlas/atlas_figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <utility>

#include "zoograd/core/generator.h"

namespace zg {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kJitter = 0.06;  // the circle views spread points radially by ±6%
constexpr int kColumns = 4;
constexpr double kCellW = 300, kCellH = 340;

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
double plot_radius(const std::vector<double>& features, std::int64_t dim) {
  std::vector<double> norms;
  const auto d = static_cast<std::size_t>(dim);
  for (std::size_t i = 0; i + d <= features.size(); i += d) {
    double s = 0;
    for (std::size_t k = 0; k < d; ++k) s += features[i + k] * features[i + k];
    norms.push_back(std::sqrt(s));
  }
  if (norms.empty()) return 1;
  std::sort(norms.begin(), norms.end());
  return std::max(1e-6, 1.15 * norms[static_cast<std::size_t>(0.99 * static_cast<double>(norms.size() - 1))]);
}

std::vector<Ray> weight_rays(const std::vector<double>& weights, bool unit) {
  std::vector<Ray> rays;
  for (std::size_t c = 0; c + 1 < weights.size(); c += 2) {
    const double n = unit ? std::hypot(weights[c], weights[c + 1]) : 1;
    if (n > 0) rays.push_back({weights[c] / n, weights[c + 1] / n, class_colour(static_cast<std::int64_t>(c / 2)), !unit, false});
  }
  return rays;
}

// The class at each of the circle's 3600 directions nearest the angle of (x, y).
std::size_t direction_index(double x, double y) {
  const double a = std::atan2(y, x);
  return static_cast<std::size_t>(std::lround((a < 0 ? a + 2 * kPi : a) / kPi * 1800)) % 3600;
}

std::string panel_title(const AtlasView& v) { return v.note.empty() ? v.title : v.title + ": " + v.note; }

// The head's classes from plain weights: argmax_j of W_j·x (normalized W_j for a cosine head) + b_j.
std::vector<std::int64_t> head_classes(const Snapshot& s, std::int64_t dim, const std::vector<double>& points) {
  const auto d = static_cast<std::size_t>(dim), classes = s.weights.size() / d;
  std::vector<double> norms(classes, 1.0);
  if (s.cosine_head)
    for (std::size_t j = 0; j < classes; ++j) {
      double n = 0;
      for (std::size_t k = 0; k < d; ++k) n += s.weights[j * d + k] * s.weights[j * d + k];
      norms[j] = std::max(std::sqrt(n), 1e-12);
    }
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i + d <= points.size(); i += d) {
    std::int64_t best = 0;
    double best_score = -INFINITY;
    for (std::size_t j = 0; j < classes; ++j) {
      double score = s.bias.empty() ? 0 : s.bias[j];
      for (std::size_t k = 0; k < d; ++k) score += s.weights[j * d + k] * points[i + k] / norms[j];
      if (score > best_score) best_score = score, best = static_cast<std::int64_t>(j);
    }
    out.push_back(best);
  }
  return out;
}

}  // namespace

namespace {

AtlasView view(const PanelResult& r, std::string note, const std::vector<double>& features,
               const std::vector<std::int64_t>& labels, const std::vector<double>& weights, const CircleClasses& circle) {
  return {.title = r.panel.title, .note = std::move(note),
          .dim = labels.empty() ? 2 : static_cast<std::int64_t>(features.size() / labels.size()), .features = features,
          .labels = labels, .weights = weights, .circle = circle, .classify = {}};
}

}  // namespace

AtlasView final_view(const PanelResult& r) {
  AtlasView v = view(r, "test accuracy " + fixed(r.test_accuracy, 4), r.features, r.labels, r.weights, r.circle);
  v.classify = r.classify;
  return v;
}

AtlasView snapshot_view(const PanelResult& r, const Snapshot& s) {
  AtlasView v = view(r, "accuracy " + fixed(s.accuracy, 3), s.features, s.labels, s.weights, s.circle);
  v.classify = [s, dim = v.dim](const std::vector<double>& points) { return head_classes(s, dim, points); };
  return v;
}

std::vector<LegendEntry> circle_legend(const std::vector<std::string>& class_names) {
  std::vector<LegendEntry> entries = class_legend(class_names);
  entries.push_back({"dark: the class meets its margin", kGuide});
  entries.push_back({"pale: the head's class only", mix(kGuide, kWhite, 0.6)});
  entries.push_back({"angular decision boundary", kBlack, Swatch::dashed_line});
  entries.push_back({"class weight direction", kGuide, Swatch::line});
  return entries;
}

void draw_feature_plane(Figure& f, Box box, const AtlasView& v, const std::vector<std::string>& names, LegendPlace legend) {
  ScatterPlot p{.title = panel_title(v), .x = {"feature 1 (network units)"}, .y = {"feature 2 (network units)"}};
  p.px = column(v.features, 2, 0);
  p.py = column(v.features, 2, 1);
  p.labels = v.labels;
  p.class_names = legend == LegendPlace::none ? std::vector<std::string>{} : names;
  p.legend = legend;
  p.rays = weight_rays(v.weights, false);
  const double radius = plot_radius(v.features, 2);
  p.x.min = p.y.min = -radius, p.x.max = p.y.max = radius;
  if (v.classify)
    p.region = [&v](const std::vector<double>& xs, const std::vector<double>& ys) {
      std::vector<double> points;
      for (std::size_t i = 0; i < xs.size(); ++i) points.insert(points.end(), {xs[i], ys[i]});
      const std::vector<std::int64_t> cls = v.classify(points);
      return std::vector<int>(cls.begin(), cls.end());
    };
  draw_scatter(f, box, p);
}

void draw_unit_circle(Figure& f, Box box, const AtlasView& v, const std::vector<std::string>& names, LegendPlace legend) {
  ScatterPlot p{.title = panel_title(v), .x = {"x₁ / ‖x‖ (unit circle)", -1.3, 1.3},
                .y = {"x₂ / ‖x‖ (unit circle)", -1.3, 1.3}};
  Generator gen(1);
  for (std::size_t i = 0; i + 1 < v.features.size(); i += 2) {
    const double norm = std::hypot(v.features[i], v.features[i + 1]), spread = 1 + kJitter * (2 * gen.uniform() - 1);
    p.px.push_back(norm > 0 ? spread * v.features[i] / norm : 0);
    p.py.push_back(norm > 0 ? spread * v.features[i + 1] / norm : 0);
  }
  p.labels = v.labels;
  p.class_names = legend == LegendPlace::none ? std::vector<std::string>{} : names;
  p.legend = legend;
  p.unit_circle = true;
  // Dark where the class meets its margin, pale where the head predicts it without the margin.
  for (int k = 0; k < kPaletteSize; ++k) p.region_colours.push_back(class_colour(k));
  for (int k = 0; k < kPaletteSize; ++k) p.region_colours.push_back(mix(class_colour(k), kWhite, 0.6));
  p.region_alpha = 0.35;
  const CircleClasses& c = v.circle;
  if (c.argmax.size() == 3600 && c.margin.size() == 3600) {
    p.region = [&c](const std::vector<double>& xs, const std::vector<double>& ys) {
      std::vector<int> r;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::size_t k = direction_index(xs[i], ys[i]);
        r.push_back(c.margin[k] >= 0 ? static_cast<int>(c.margin[k]) : kPaletteSize + static_cast<int>(c.argmax[k]));
      }
      return r;
    };
    for (std::size_t k = 0; k < 3600; ++k)
      if (c.argmax[k] != c.argmax[(k + 1) % 3600])
        p.rays.push_back(ray_at_angle((static_cast<double>(k) + 0.5) * kPi / 1800, kBlack, true));
  }
  for (Ray ray : weight_rays(v.weights, true)) p.rays.push_back(ray);
  draw_scatter(f, box, p);
}

void draw_unit_sphere(Figure& f, Box box, const AtlasView& v, const std::vector<std::string>& names, double azimuth) {
  SpherePlot p{.title = panel_title(v), .x = column(v.features, 3, 0), .y = column(v.features, 3, 1),
               .z = column(v.features, 3, 2), .labels = v.labels, .class_names = names, .rays = {}, .azimuth_deg = azimuth};
  for (std::size_t c = 0; c + 2 < v.weights.size(); c += 3)
    p.rays.push_back({v.weights[c], v.weights[c + 1], v.weights[c + 2], class_colour(static_cast<std::int64_t>(c / 3))});
  // A feature at the origin has no direction: it is left out of the sphere.
  for (std::size_t i = p.x.size(); i-- > 0;)
    if (p.x[i] == 0 && p.y[i] == 0 && p.z[i] == 0) {
      p.x.erase(p.x.begin() + static_cast<std::ptrdiff_t>(i)), p.y.erase(p.y.begin() + static_cast<std::ptrdiff_t>(i));
      p.z.erase(p.z.begin() + static_cast<std::ptrdiff_t>(i)), p.labels.erase(p.labels.begin() + static_cast<std::ptrdiff_t>(i));
    }
  draw_sphere(f, box, p);
}

void draw_angle_histogram(Figure& f, Box box, const std::string& title, const FeatureGeometry& g, LegendPlace legend) {
  Histogram h{.title = title, .x = {"angle to a class weight (degrees)", {}, {}, {0, 45, 90, 135, 180}},
              .y = {"share of pairs (%)"},
              .series = {{"own class", g.own_angle, {}}, {"other classes", g.other_angles, {}}},
              .percent = true, .legend = legend};
  draw_histogram(f, box, h);
}

Figure feature_plane_figure(const AtlasView& v, const std::vector<std::string>& names) {
  Figure f(640, 520);
  draw_feature_plane(f, {0, 0, 640, 520}, v, names, LegendPlace::outside);
  return f;
}

Figure unit_circle_figure(const AtlasView& v, const std::vector<std::string>& names) {
  Figure f(640, 520);
  draw_unit_circle(f, {0, 0, 640, 520}, v, names, LegendPlace::outside);
  return f;
}

Figure unit_sphere_figure(const AtlasView& v, const std::vector<std::string>& names, double azimuth) {
  Figure f(640, 520);
  draw_unit_sphere(f, {0, 0, 640, 520}, v, names, azimuth);
  return f;
}

Figure angle_histogram_figure(const PanelResult& r) {
  Figure f(640, 440);
  draw_angle_histogram(f, {0, 0, 640, 440}, r.panel.title + ": angle between feature and class weight", r.geometry,
                       LegendPlace::inside);
  return f;
}

Figure training_curves_figure(const PanelResult& r) {
  auto series = [&](const char* key, double factor) {
    Series s;
    for (const auto& e : r.curves)
      if (e.contains(key)) s.x.push_back(e.at("epoch").get<double>()), s.y.push_back(factor * e.at(key).get<double>());
    return s;
  };
  const AxisSpec epochs{"training time (epochs)"};
  Series loss = series("train_loss", 1), train_acc = series("train_accuracy", 100), test_acc = series("test_accuracy", 100);
  loss.label = "train loss", train_acc.label = "train", test_acc.label = "test";
  const LineChart loss_chart{.title = "loss", .x = epochs, .y = {"train loss (nats)"}, .series = {loss}};
  const LineChart acc_chart{.title = "accuracy", .x = epochs, .y = {"accuracy (%)"}, .series = {train_acc, test_acc}};
  std::vector<Panel> panels = {[loss_chart](Figure& f, Box b) { draw_line_chart(f, b, loss_chart); },
                               [acc_chart](Figure& f, Box b) { draw_line_chart(f, b, acc_chart); }};
  if (!r.curves.empty() && r.curves[0].contains("lambda")) {
    Series lambda = series("lambda", 1);
    lambda.label = "λ";
    const LineChart lambda_chart{.title = "λ, the weight of cos θ in the target logit", .x = epochs,
                                 .y = {"λ (dimensionless, log scale)", {}, {}, {}, true}, .series = {lambda}};
    panels.push_back([lambda_chart](Figure& f, Box b) { draw_line_chart(f, b, lambda_chart); });
  }
  return grid_figure(r.panel.title + ": training", panels, static_cast<int>(panels.size()), 380, 360);
}

Figure comparison_figure(const std::string& title, const std::vector<AtlasView>& views, AtlasViewKind kind,
                         const std::vector<std::string>& names, double azimuth) {
  std::vector<Panel> panels;
  for (const AtlasView& v : views)
    panels.push_back([&v, kind, &names, azimuth](Figure& f, Box b) {
      if (kind == AtlasViewKind::plane) draw_feature_plane(f, b, v, names, LegendPlace::none);
      if (kind == AtlasViewKind::circle) draw_unit_circle(f, b, v, names, LegendPlace::none);
      if (kind == AtlasViewKind::sphere) draw_unit_sphere(f, b, v, {}, azimuth);
    });
  std::vector<LegendEntry> legend = kind == AtlasViewKind::circle ? circle_legend(names) : class_legend(names);
  if (kind == AtlasViewKind::plane) legend.push_back({"class weight W_j", kGuide, Swatch::line});
  const int columns = std::min<int>(kColumns, std::max<int>(1, static_cast<int>(views.size())));
  return grid_figure(title, panels, columns, kCellW, kCellH, legend);
}

Figure angle_comparison_figure(const MarginsResult& result) {
  std::vector<Panel> panels;
  for (const PanelResult& r : result.panels)
    panels.push_back([&r](Figure& f, Box b) {
      draw_angle_histogram(f, b, r.panel.title + ": test accuracy " + fixed(r.test_accuracy, 4), r.geometry,
                           LegendPlace::none);
    });
  const int columns = std::min<int>(kColumns, std::max<int>(1, static_cast<int>(panels.size())));
  return grid_figure("Angle between each test feature and the class weights (share of pairs per 5° bin)", panels,
                     columns, kCellW, kCellH - 20,
                     {{"own class", class_colour(0)}, {"other classes", class_colour(1)}});
}

namespace {

// Points along the circle of radius r (pixels) about (cx, cy) from `from` to `to` degrees,
// counter-clockwise (screen y grows downwards).
std::vector<std::pair<double, double>> arc_points(double cx, double cy, double r, double from, double to) {
  std::vector<std::pair<double, double>> points;
  const int steps = std::max(2, static_cast<int>(std::abs(to - from)) + 1);
  for (int k = 0; k <= steps; ++k) {
    const double a = (from + (to - from) * k / steps) * kPi / 180;
    points.emplace_back(cx + r * std::cos(a), cy - r * std::sin(a));
  }
  return points;
}

void draw_arcs95(Figure& f, Box box, const PanelResult& r) {
  const double title_h = 2 * (Figure::ascent(14) + Figure::descent(14)) + 6;
  f.text(box.x + box.w / 2, box.y + Figure::ascent(14), r.panel.title, 14, Anchor::centre, kInk, true);
  f.text(box.x + box.w / 2, box.y + title_h - Figure::descent(14) - 4,
         "smallest gap " + fixed(r.geometry.margin95, 1) + "°", 14, Anchor::centre);
  const double cx = box.x + box.w / 2, cy = box.y + title_h + (box.h - title_h) / 2;
  const double radius = std::min(box.w, box.h - title_h) / 2 - 24;
  f.circle(cx, cy, radius, kGuide, 1);
  const std::vector<ClassArc>& arcs = r.geometry.arcs95;
  for (std::size_t k = 0; k < arcs.size(); ++k) {
    const ClassArc& a = arcs[k];
    // Alternate rings, so that overlapping neighbours both show.
    const double ring = radius + (k % 2 == 0 ? 6 : 14);
    f.polyline(arc_points(cx, cy, ring, a.centre_deg - a.width_deg / 2, a.centre_deg + a.width_deg / 2),
               class_colour(a.cls), 6);
    if (arcs.size() < 2) continue;
    // The gap to the next arc counter-clockwise, inside the circle: solid where it is open, dashed
    // where the two overlap (in ink, apart from the class colours).
    const double end = a.centre_deg + a.width_deg / 2;
    const double mark = std::max(std::abs(a.gap_next_deg), 1.0);
    const bool open = a.gap_next_deg > 0;
    f.polyline(arc_points(cx, cy, radius - 8, open ? end : end - mark, open ? end + mark : end), kInk, open ? 4 : 2.5,
               !open);
  }
  for (std::size_t c = 0; c + 1 < r.weights.size(); c += 2) {  // each class weight's direction
    const double a = std::atan2(r.weights[c + 1], r.weights[c]);
    f.line(cx + (radius - 4) * std::cos(a), cy - (radius - 4) * std::sin(a), cx + (radius + 20) * std::cos(a),
           cy - (radius + 20) * std::sin(a), kGuide, 1);
  }
}

}  // namespace

Figure arcs95_comparison_figure(const MarginsResult& result, const std::vector<std::string>& names) {
  std::vector<Panel> panels;
  for (const PanelResult& r : result.panels) panels.push_back([&r](Figure& f, Box b) { draw_arcs95(f, b, r); });
  std::vector<LegendEntry> legend = class_legend(names);
  legend.push_back({"gap to the next class", kInk, Swatch::line});
  legend.push_back({"overlap with the next class", kInk, Swatch::dashed_line});
  legend.push_back({"class weight", kGuide, Swatch::line});
  const int columns = std::min<int>(kColumns, std::max<int>(1, static_cast<int>(panels.size())));
  return grid_figure("The arcs holding 95% of each class's test features, and the gaps between them", panels, columns,
                     kCellW, kCellW, legend);
}

}  // namespace zg
