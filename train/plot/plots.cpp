#include "zoograd/train/plot/plots.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace zg {

namespace {

[[noreturn]] void fail(const char* where, const std::string& what) {
  throw std::invalid_argument(std::string(where) + ": " + what);
}

double line_height(double size) { return size * 1.3; }

}  // namespace

Rgb series_colour(std::size_t k) {
  static constexpr int kOrder[] = {0, 3, 2, 1, 4, 5, 6, 7, 8, 9};
  return class_colour(kOrder[k % std::size(kOrder)]);
}

std::vector<LegendEntry> class_legend(const std::vector<std::string>& names) {
  if (names.size() > kPaletteSize)
    fail("class_legend", std::to_string(names.size()) + " class names for a palette of " + std::to_string(kPaletteSize));
  std::vector<LegendEntry> entries;
  for (std::size_t k = 0; k < names.size(); ++k) entries.push_back({names[k], class_colour(static_cast<std::int64_t>(k))});
  return entries;
}

void shade_region(Figure& f, const Axes& a, const RegionFunction& region, const std::vector<Rgb>& colours, double alpha) {
  const double w = a.right() - a.left(), h = a.bottom() - a.top();
  const int nx = std::clamp(static_cast<int>(std::ceil(w)), 1, 600), ny = std::clamp(static_cast<int>(std::ceil(h)), 1, 600);
  std::vector<double> xs, ys;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      xs.push_back(a.x_at(a.left() + (i + 0.5) * w / nx));
      ys.push_back(a.y_at(a.top() + (j + 0.5) * h / ny));
    }
  const std::vector<int> cls = region(xs, ys);
  if (cls.size() != xs.size())
    fail("shade_region", "the region function gave " + std::to_string(cls.size()) + " classes for " +
                             std::to_string(xs.size()) + " points");
  std::vector<Rgba> pixels(cls.size());
  const auto a8 = static_cast<std::uint8_t>(std::lround(std::clamp(alpha, 0.0, 1.0) * 255));
  for (std::size_t i = 0; i < cls.size(); ++i) {
    if (cls[i] < 0) continue;
    if (cls[i] >= static_cast<int>(colours.size()))
      fail("shade_region", "region(" + format_number(xs[i]) + ", " + format_number(ys[i]) + ") = " + std::to_string(cls[i]) +
                               " is outside the " + std::to_string(colours.size()) + " colours");
    const Rgb c = colours[static_cast<std::size_t>(cls[i])];
    pixels[i] = {c.r, c.g, c.b, a8};
  }
  f.image(pixels, nx, ny, a.left(), a.top(), w, h, false);
}

void draw_line_chart(Figure& f, Box box, const LineChart& chart) {
  const char* where = "line_chart";
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  auto extend = [&](double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y) || (chart.x.log && x <= 0) || (chart.y.log && y <= 0)) return;
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  };
  std::vector<LegendEntry> legend;
  std::vector<std::string> labels;
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    if (s.x.size() != s.y.size())
      fail(where, "series '" + s.label + "' has " + std::to_string(s.x.size()) + " x values but " +
                      std::to_string(s.y.size()) + " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i) extend(s.x[i], s.y[i]);
    if (!s.label.empty())
      legend.push_back({s.label, s.colour.value_or(series_colour(k)), s.dashed ? Swatch::dashed_line : Swatch::line});
    labels.push_back(s.label);
  }
  for (const Arrow& r : chart.arrows) extend(r.x0, r.y0), extend(r.x1, r.y1);
  legend.insert(legend.end(), chart.extra_legend.begin(), chart.extra_legend.end());
  const Axes a(box, chart.title, chart.x, chart.y, x0, x1, y0, y1, legend, chart.legend, chart.equal_aspect);
  if (chart.region) shade_region(f, a, chart.region, chart.region_colours, chart.region_alpha);
  a.draw_grid(f);
  a.clip(f);
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    const Rgb colour = s.colour.value_or(series_colour(k));
    for (const auto& piece : a.to_pixels(s.x, s.y)) {
      if (piece.size() == 1) f.disc(piece[0].first, piece[0].second, s.width + 1, colour);
      f.polyline(piece, colour, s.width, s.dashed);
    }
  }
  for (const Arrow& r : chart.arrows)
    if (a.inside(r.x0, r.y0)) f.arrow(a.px(r.x0), a.py(r.y0), a.px(r.x1), a.py(r.y1), r.colour, 1.5, 6);
  f.pop_clip();
  a.draw_frame(f, labels);
}

Figure line_chart(const LineChart& chart, double width, double height) {
  Figure f(width, height);
  draw_line_chart(f, {0, 0, width, height}, chart);
  return f;
}

std::vector<double> bin_counts(const std::vector<double>& values, double lo, double hi, int bins) {
  const char* where = "bin_counts";
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
    fail(where, "bin range [" + format_number(lo) + ", " + format_number(hi) + "] is not a finite lo < hi");
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

void draw_histogram(Figure& f, Box box, const Histogram& h) {
  const char* where = "histogram";
  std::vector<std::vector<double>> bars;
  std::vector<LegendEntry> legend;
  std::vector<std::string> labels;
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
    if (h.percent && total > 0)
      for (double& v : b) v *= 100 / total;
    top = std::max(top, *std::max_element(b.begin(), b.end()));
    bars.push_back(std::move(b));
    legend.push_back({s.label, class_colour(static_cast<std::int64_t>((bars.size() - 1) % kPaletteSize))});
    labels.push_back(s.label);
  }
  AxisSpec x = h.x, y = h.y;
  x.min = h.lo, x.max = h.hi, y.min = 0, y.max = top > 0 ? top * 1.08 : 1;
  const Axes a(box, h.title, x, y, h.lo, h.hi, 0, *y.max, legend, h.legend);
  a.draw_grid(f);
  const double bin_width = (h.hi - h.lo) / h.bins;
  for (std::size_t k = 0; k < bars.size(); ++k) {
    std::vector<std::pair<double, double>> outline{{a.px(h.lo), a.py(0)}};
    for (std::size_t i = 0; i < bars[k].size(); ++i) {
      const double xa = a.px(h.lo + static_cast<double>(i) * bin_width), xb = a.px(h.lo + static_cast<double>(i + 1) * bin_width);
      const double top_y = a.py(bars[k][i]);
      f.fill_rect(xa, top_y, xb - xa, a.py(0) - top_y, legend[k].colour, h.alpha);
      outline.insert(outline.end(), {{xa, top_y}, {xb, top_y}});
    }
    // The outline keeps each series readable where the translucent bars overlap.
    outline.emplace_back(a.px(h.hi), a.py(0));
    f.polyline(outline, legend[k].colour, 1.5);
  }
  a.draw_frame(f, labels);
}

Figure histogram(const Histogram& h, double width, double height) {
  Figure f(width, height);
  draw_histogram(f, {0, 0, width, height}, h);
  return f;
}

Figure confusion_matrix(const std::vector<std::vector<std::int64_t>>& counts, const std::vector<std::string>& names,
                        const std::string& title) {
  const char* where = "confusion_matrix";
  const std::size_t n = counts.size();
  if (n == 0) fail(where, "no classes");
  if (!names.empty() && names.size() != n)
    fail(where, std::to_string(names.size()) + " names for " + std::to_string(n) + " classes");
  for (std::size_t i = 0; i < n; ++i)
    if (counts[i].size() != n)
      fail(where, "row " + std::to_string(i) + " has " + std::to_string(counts[i].size()) + " counts for " +
                      std::to_string(n) + " classes");
  auto name = [&](std::size_t i) { return names.empty() ? std::to_string(i) : names[i]; };
  double name_w = 0, count_w = 0;
  for (std::size_t i = 0; i < n; ++i) {
    name_w = std::max(name_w, Figure::text_width(name(i), kTickSize));
    for (std::int64_t c : counts[i]) count_w = std::max(count_w, Figure::text_width(std::to_string(c), kTickSize));
  }
  const std::string x_label = "predicted class (test images)", y_label = "true class (test images)";
  // Cells wide enough for the counts, and together for the axis labels.
  const double label_w = std::max(Figure::text_width(x_label, kLabelSize), Figure::text_width(y_label, kLabelSize));
  const double cell = std::max({44.0, count_w + 12, (label_w + 16) / static_cast<double>(n)});
  const double grid = cell * static_cast<double>(n);
  const double left = 8 + line_height(kLabelSize) + 6 + name_w + 8;
  const double width = std::max(left + grid + 16, 320.0);
  const std::vector<std::string> title_lines = Figure::wrap(title, kTitleSize, width - 16);
  const double top = 8 + line_height(kTitleSize) * static_cast<double>(title_lines.size()) + 8;
  const double height = top + grid + 8 + name_w + 10 + line_height(kLabelSize) + 8;
  Figure f(width, height);
  draw_lines(f, width / 2, 8 + Figure::ascent(kTitleSize), title_lines, kTitleSize);
  const double shift = (Figure::ascent(kTickSize) - Figure::descent(kTickSize)) / 2;
  for (std::size_t i = 0; i < n; ++i) {
    double row = 0;
    for (std::int64_t c : counts[i]) row += static_cast<double>(c);
    for (std::size_t j = 0; j < n; ++j) {
      const double share = row > 0 ? static_cast<double>(counts[i][j]) / row : 0;
      const double x = left + cell * static_cast<double>(j), y = top + cell * static_cast<double>(i);
      f.fill_rect(x, y, cell, cell, mix(kWhite, class_colour(0), share));
      f.text(x + cell / 2, y + cell / 2 + shift, std::to_string(counts[i][j]), kTickSize, Anchor::centre,
             share > 0.5 ? kWhite : kInk);
    }
    f.text(left - 6, top + cell * (static_cast<double>(i) + 0.5) + shift, name(i), kTickSize, Anchor::right);
    f.text(left + cell * (static_cast<double>(i) + 0.5) + shift, top + grid + 6, name(i), kTickSize, Anchor::right,
           kInk, false, TextDirection::up);
  }
  f.stroke_rect(left, top, grid, grid, kInk, 1);
  f.text(left + grid / 2, top + grid + 6 + name_w + 6 + Figure::ascent(kLabelSize), x_label, kLabelSize, Anchor::centre);
  f.text(8 + Figure::ascent(kLabelSize), top + grid / 2, y_label, kLabelSize, Anchor::centre, kInk, false,
         TextDirection::up);
  f.add_axes({title, x_label, y_label, left, top, left + grid, top + grid, 0, static_cast<double>(n), 0,
              static_cast<double>(n), false, false, true, {}});
  return f;
}

Figure grid_figure(const std::string& title, const std::vector<Panel>& panels, int columns, double cell_w,
                   double cell_h, const std::vector<LegendEntry>& legend) {
  if (columns < 1) fail("grid_figure", "columns " + std::to_string(columns) + " is below 1");
  const int rows = std::max(1, (static_cast<int>(panels.size()) + columns - 1) / columns);
  const double width = columns * cell_w + 16;
  const std::vector<std::string> title_lines = Figure::wrap(title, kTitleSize + 2, width - 16, true);
  const double top = 10 + line_height(kTitleSize + 2) * static_cast<double>(title_lines.size());
  Figure measure(width, 100);
  const double legend_h = draw_legend_rows(measure, 8, 0, width - 16, legend, false);
  const double height = top + rows * cell_h + (legend_h > 0 ? legend_h + 12 : 0) + 8;
  Figure f(width, height);
  draw_lines(f, width / 2, 8 + Figure::ascent(kTitleSize + 2), title_lines, kTitleSize + 2, true);
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const double x = 8 + cell_w * static_cast<double>(k % static_cast<std::size_t>(columns));
    const double y = top + cell_h * static_cast<double>(k / static_cast<std::size_t>(columns));
    panels[k](f, {x, y, cell_w, cell_h});
  }
  draw_legend_rows(f, 8, top + rows * cell_h + 6, width - 16, legend);
  return f;
}

}  // namespace zg
