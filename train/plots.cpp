#include "train/plots.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "train/plot_axes.h"

namespace zg {

namespace {

constexpr Rgb kGuide{90, 90, 90};

[[noreturn]] void fail(const char* where, const std::string& what) {
  throw std::invalid_argument(std::string(where) + ": " + what);
}

void check_size(const char* where, int width, int height) {
  if (width < 200 || height < 160)
    fail(where, "size " + std::to_string(width) + "x" + std::to_string(height) + " is below the minimum 200x160");
}

void check_finite(const char* where, const std::string& name, double v) {
  if (!std::isfinite(v)) fail(where, name + " is " + format_number(v));
}

void check_range(const char* where, const char* axis, double lo, double hi) {
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
    fail(where, std::string(axis) + " range [" + format_number(lo) + ", " + format_number(hi) + "] is not a finite lo < hi");
}

using Coordinates = std::initializer_list<std::pair<const char*, const std::vector<double>*>>;

void check_points(const char* where, Coordinates coordinates, const std::vector<std::int64_t>& labels,
                  const std::vector<std::string>& class_names) {
  for (auto [name, values] : coordinates) {
    if (values->size() != labels.size())
      fail(where, std::string(name) + " has " + std::to_string(values->size()) + " values but labels has " +
                      std::to_string(labels.size()));
    for (std::size_t i = 0; i < values->size(); ++i)
      check_finite(where, std::string(name) + "[" + std::to_string(i) + "]", (*values)[i]);
  }
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= kPaletteSize)
      fail(where, "labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) + " is outside the palette [0, " +
                      std::to_string(kPaletteSize) + ")");
  if (class_names.size() > kPaletteSize)
    fail(where, std::to_string(class_names.size()) + " class names for a palette of " + std::to_string(kPaletteSize));
}

// The fixed range when given, else [lo, hi] padded by 5% (a unit around a single value).
std::pair<double, double> fit(const char* where, const char* axis, Range range, double lo, double hi) {
  if (range.lo != range.hi || !std::isfinite(range.lo)) {
    check_range(where, axis, range.lo, range.hi);
    return {range.lo, range.hi};
  }
  if (hi <= lo) return {lo - 0.5, hi + 0.5};
  double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

std::vector<LegendEntry> class_legend(const std::vector<std::string>& names) {
  std::vector<LegendEntry> entries;
  for (std::size_t k = 0; k < names.size(); ++k) entries.push_back({names[k], class_colour(static_cast<std::int64_t>(k))});
  return entries;
}

// In line_chart_svg's order, so a chart's PNG and SVG agree.
Rgb series_colour(std::size_t k) {
  static constexpr int kOrder[] = {0, 3, 2, 1, 4, 5, 6, 7};
  return class_colour(kOrder[k % std::size(kOrder)]);
}

}  // namespace

Ray ray_at_angle(double radians, Rgb colour, bool dashed) { return {std::cos(radians), std::sin(radians), colour, true, dashed}; }

Canvas scatter_plot_png(const ScatterPlot& p, int width, int height) {
  const char* where = "scatter_plot_png";
  check_size(where, width, height);
  check_points(where, {{"x", &p.x}, {"y", &p.y}}, p.labels, p.class_names);
  // The extent covers the origin, where rays start, and whatever else is drawn.
  double xlo = p.unit_circle ? -1 : 0, xhi = -xlo, ylo = xlo, yhi = xhi;
  auto extend = [&](double x, double y) {
    xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
  };
  for (std::size_t i = 0; i < p.x.size(); ++i) extend(p.x[i], p.y[i]);
  for (std::size_t k = 0; k < p.rays.size(); ++k) {
    const Ray& r = p.rays[k];
    const std::string name = "rays[" + std::to_string(k) + "]";
    check_finite(where, name + ".dx", r.dx);
    check_finite(where, name + ".dy", r.dy);
    if (r.dx == 0 && r.dy == 0) fail(where, name + " is the zero vector (0, 0)");
    if (!r.to_edge) extend(r.dx, r.dy);
  }
  const std::vector<LegendEntry> legend = class_legend(p.class_names);
  Axes a;
  a.left = 64, a.top = 40, a.right = width - 20 - legend_width(legend), a.bottom = height - 48;
  std::tie(a.x0, a.x1) = fit(where, "x", p.x_range, xlo, xhi);
  std::tie(a.y0, a.y1) = fit(where, "y", p.y_range, ylo, yhi);
  // Equal aspect: one data unit spans as many pixels on both axes.
  const double per_pixel = std::max((a.x1 - a.x0) / (a.right - a.left), (a.y1 - a.y0) / (a.bottom - a.top));
  const double xc = (a.x0 + a.x1) / 2, yc = (a.y0 + a.y1) / 2;
  a.x0 = xc - per_pixel * (a.right - a.left) / 2, a.x1 = xc + per_pixel * (a.right - a.left) / 2;
  a.y0 = yc - per_pixel * (a.bottom - a.top) / 2, a.y1 = yc + per_pixel * (a.bottom - a.top) / 2;

  Canvas c(width, height);
  if (p.region)
    for (int py = a.top; py <= a.bottom; ++py)
      for (int px = a.left; px <= a.right; ++px) {
        const double x = a.x_at(px), y = a.y_at(py);
        const std::int64_t k = p.region(x, y);
        if (k < 0 || k >= kPaletteSize)
          fail(where, "region(" + format_number(x) + ", " + format_number(y) + ") = " + std::to_string(k) +
                          " is outside the palette [0, " + std::to_string(kPaletteSize) + ")");
        c.blend_pixel(px, py, class_colour(k), p.region_alpha);
      }
  a.draw_grid(c);
  if (p.unit_circle) c.circle(a.px(0), a.py(0), 1 / per_pixel, kGuide, 1.5);
  for (std::size_t i = 0; i < p.x.size(); ++i) {
    const double px = a.px(p.x[i]), py = a.py(p.y[i]);
    if (px >= a.left - 0.5 && px <= a.right + 0.5 && py >= a.top - 0.5 && py <= a.bottom + 0.5)
      c.dot(px, py, p.point_radius, class_colour(p.labels[i]), p.point_alpha);
  }
  // Far enough to leave the data box from anywhere inside it.
  const double edge = 4 * std::max({std::abs(a.x0), std::abs(a.x1), std::abs(a.y0), std::abs(a.y1)});
  for (const Ray& r : p.rays) {
    const double scale = r.to_edge ? edge / std::hypot(r.dx, r.dy) : 1;
    // A dark edge keeps a ray visible over the points of its own class.
    draw_polyline(c, a, {{0, 0}, {r.dx * scale, r.dy * scale}}, mix(r.colour, kBlack, 0.5), 3.5, r.dashed);
    draw_polyline(c, a, {{0, 0}, {r.dx * scale, r.dy * scale}}, r.colour, 2, r.dashed);
  }
  a.draw_frame(c, p.title, p.x_label, p.y_label);
  draw_legend(c, width - 8, a.top, legend);
  return c;
}

std::vector<double> bin_counts(const std::vector<double>& values, double lo, double hi, int bins) {
  const char* where = "bin_counts";
  check_range(where, "bin", lo, hi);
  if (bins < 1 || bins > 100000) fail(where, "bins " + std::to_string(bins) + " is outside 1..100000");
  std::vector<double> counts(static_cast<std::size_t>(bins));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (std::isnan(v)) fail(where, "values[" + std::to_string(i) + "] is nan");
    if (v < lo || v > hi) continue;
    counts[static_cast<std::size_t>(std::min(bins - 1.0, std::floor((v - lo) / (hi - lo) * bins)))] += 1;
  }
  return counts;
}

Canvas histogram_png(const Histogram& h, int width, int height) {
  const char* where = "histogram_png";
  check_size(where, width, height);
  std::vector<std::vector<double>> bars;
  std::vector<LegendEntry> legend;
  double top = 0;
  for (const HistogramSeries& s : h.series) {
    if (!s.counts.empty() && !s.values.empty()) fail(where, "series '" + s.label + "' has both counts and values");
    std::vector<double> b = bin_counts(s.values, h.lo, h.hi, h.bins);
    if (!s.counts.empty()) {
      if (s.counts.size() != b.size())
        fail(where, "series '" + s.label + "' has " + std::to_string(s.counts.size()) + " counts for " +
                        std::to_string(h.bins) + " bins");
      b = s.counts;
    }
    double total = 0;
    for (double v : b) {
      if (!(v >= 0) || !std::isfinite(v)) fail(where, "series '" + s.label + "' has count " + format_number(v));
      total += v;
    }
    if (h.density && total > 0)
      for (double& v : b) v /= total;
    top = std::max(top, *std::max_element(b.begin(), b.end()));
    bars.push_back(std::move(b));
    legend.push_back({s.label, class_colour(static_cast<std::int64_t>((bars.size() - 1) % kPaletteSize))});
  }
  Axes a;
  a.left = 64, a.top = 40, a.right = width - 20, a.bottom = height - 48;
  a.x0 = h.lo, a.x1 = h.hi, a.y1 = top > 0 ? top * 1.05 : 1;

  Canvas c(width, height);
  a.draw_grid(c);
  const double bin_width = (h.hi - h.lo) / h.bins;
  for (std::size_t k = 0; k < bars.size(); ++k) {
    std::vector<std::pair<double, double>> outline{{h.lo, 0}};
    for (std::size_t i = 0; i < bars[k].size(); ++i) {
      const double xa = h.lo + static_cast<double>(i) * bin_width, xb = xa + bin_width, y = bars[k][i];
      const int x0 = static_cast<int>(std::lround(a.px(xa))), y0 = static_cast<int>(std::lround(a.py(y)));
      c.fill_rect(x0, y0, static_cast<int>(std::lround(a.px(xb))) - x0, a.bottom + 1 - y0, legend[k].colour, h.alpha);
      outline.insert(outline.end(), {{xa, y}, {xb, y}});
    }
    // The outline keeps each series readable where the translucent bars overlap.
    outline.emplace_back(h.hi, 0);
    draw_polyline(c, a, outline, legend[k].colour, 1.5, false);
  }
  a.draw_frame(c, h.title, h.x_label, h.y_label);
  draw_legend(c, a.right - 4, a.top + 4, legend);
  return c;
}

Canvas line_chart_png(const LineChart& chart, int width, int height) {
  const char* where = "line_chart_png";
  check_size(where, width, height);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  std::vector<LegendEntry> legend;
  for (const Series& s : chart.series) {
    if (s.x.size() != s.y.size())
      fail(where, "series '" + s.label + "' has " + std::to_string(s.x.size()) + " x values but " +
                      std::to_string(s.y.size()) + " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]), y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    legend.push_back({s.label, series_colour(legend.size()), s.dashed ? Swatch::dashed_line : Swatch::line});
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  Axes a;
  a.left = 64, a.top = 40, a.right = width - 20 - (chart.legend_outside ? legend_width(legend) : 0), a.bottom = height - 48;
  a.x0 = chart.x_min.value_or(x0), a.x1 = chart.x_max.value_or(x1 > x0 ? x1 : x0 + 1);
  std::tie(a.y0, a.y1) = fit(where, "y", {}, y0, y1);
  a.y0 = chart.y_min.value_or(a.y0), a.y1 = chart.y_max.value_or(a.y1);
  check_range(where, "x", a.x0, a.x1);
  check_range(where, "y", a.y0, a.y1);
  for (double t : chart.x_ticks) check_finite(where, "x tick", t);
  for (double t : chart.y_ticks) check_finite(where, "y tick", t);
  a.x_ticks = chart.x_ticks, a.y_ticks = chart.y_ticks;

  Canvas c(width, height);
  a.draw_grid(c);
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    std::vector<std::pair<double, double>> points;
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) points.emplace_back(s.x[i], s.y[i]);
    draw_polyline(c, a, points, legend[k].colour, 2, s.dashed);
    if (points.size() == 1 && a.clip(points[0].first, points[0].second, points[0].first, points[0].second))
      c.dot(a.px(points[0].first), a.py(points[0].second), 3, legend[k].colour);
  }
  a.draw_frame(c, chart.title, chart.x_label, chart.y_label);
  draw_legend(c, chart.legend_outside ? width - 8 : a.right - 4, a.top + 4, legend);
  return c;
}

Canvas sphere_plot_png(const SpherePlot& p, int width, int height) {
  const char* where = "sphere_plot_png";
  check_size(where, width, height);
  check_points(where, {{"x", &p.x}, {"y", &p.y}, {"z", &p.z}}, p.labels, p.class_names);
  check_finite(where, "azimuth_deg", p.azimuth_deg);
  check_finite(where, "elevation_deg", p.elevation_deg);
  const double az = p.azimuth_deg * std::numbers::pi / 180, el = p.elevation_deg * std::numbers::pi / 180;
  // Towards the viewer, and the screen's right and up directions.
  const double view[3] = {std::cos(el) * std::cos(az), std::cos(el) * std::sin(az), std::sin(el)};
  const double right[3] = {-std::sin(az), std::cos(az), 0};
  const double up[3] = {-std::sin(el) * std::cos(az), -std::sin(el) * std::sin(az), std::cos(el)};
  const std::vector<LegendEntry> legend = class_legend(p.class_names);
  const int legend_w = legend_width(legend);
  const double cx = (width - legend_w) / 2.0, cy = (height + 30) / 2.0;
  const double radius = std::min(width - legend_w - 40, height - 70) / 2.0;
  struct Projected {
    double x, y, depth;
  };
  auto project = [&](const std::string& name, double x, double y, double z) {
    const double n = std::sqrt(x * x + y * y + z * z);
    if (!(n > 0) || !std::isfinite(n)) fail(where, name + " has length " + format_number(n) + " and no direction");
    x /= n, y /= n, z /= n;
    return Projected{cx + radius * (x * right[0] + y * right[1] + z * right[2]),
                     cy - radius * (x * up[0] + y * up[1] + z * up[2]), x * view[0] + y * view[1] + z * view[2]};
  };
  std::vector<Projected> points, tips;
  for (std::size_t i = 0; i < p.x.size(); ++i)
    points.push_back(project("point " + std::to_string(i), p.x[i], p.y[i], p.z[i]));
  for (std::size_t k = 0; k < p.rays.size(); ++k)
    tips.push_back(project("rays[" + std::to_string(k) + "]", p.rays[k].x, p.rays[k].y, p.rays[k].z));

  Canvas c(width, height);
  auto draw_side = [&](bool front) {
    for (std::size_t i = 0; i < points.size(); ++i)
      if ((points[i].depth >= 0) == front) {
        const Rgb colour = class_colour(p.labels[i]);
        c.dot(points[i].x, points[i].y, p.point_radius, front ? colour : mix(colour, kWhite, p.back_fade), p.point_alpha);
      }
    for (std::size_t k = 0; k < tips.size(); ++k)
      if ((tips[k].depth >= 0) == front) {
        const Rgb colour = front ? p.rays[k].colour : mix(p.rays[k].colour, kWhite, p.back_fade);
        if (front) c.line(cx, cy, tips[k].x, tips[k].y, mix(colour, kBlack, 0.5), 3.5);
        c.line(cx, cy, tips[k].x, tips[k].y, colour, 2);
        c.dot(tips[k].x, tips[k].y, 3, colour);
      }
  };
  draw_side(false);
  // The equator shows the tilt: solid where it faces the viewer, faint behind.
  for (int s = 0; s < 180; ++s) {
    const double t0 = s * std::numbers::pi / 90, t1 = (s + 1) * std::numbers::pi / 90;
    const Projected a = project("equator", std::cos(t0), std::sin(t0), 0), b = project("equator", std::cos(t1), std::sin(t1), 0);
    c.line(a.x, a.y, b.x, b.y, kGuide, 1, a.depth >= 0 ? 0.8 : 0.25);
  }
  c.circle(cx, cy, radius, kGuide, 1.5);
  draw_side(true);
  draw_title(c, p.title);
  draw_legend(c, width - 8, 40, legend);
  return c;
}

}  // namespace zg
