#include "train/plot_axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace zg {

namespace {

constexpr Rgb kText{30, 30, 30}, kGrid{215, 215, 215};
constexpr int kLegendRow = 14;
constexpr double kDash = 8, kGap = 5;  // pixels

}  // namespace


// Liang-Barsky: each box edge bounds the segment's parameter t from one side.
bool Axes::clip(double& ax, double& ay, double& bx, double& by) const {
  const double dx = bx - ax, dy = by - ay;
  double t0 = 0, t1 = 1;
  auto keep = [&](double p, double q) {  // keeps the t with p t <= q
    if (p == 0) return q >= 0;
    if (p < 0) t0 = std::max(t0, q / p);
    else t1 = std::min(t1, q / p);
    return t0 <= t1;
  };
  if (!keep(-dx, ax - x0) || !keep(dx, x1 - ax) || !keep(-dy, ay - y0) || !keep(dy, y1 - ay)) return false;
  bx = ax + t1 * dx, by = ay + t1 * dy;
  ax += t0 * dx, ay += t0 * dy;
  return true;
}

void Axes::draw_grid(Canvas& c) const {
  for (double t : x_ticks.empty() ? round_ticks(x0, x1) : x_ticks)
    if (t >= x0 && t <= x1) c.line(px(t), top, px(t), bottom, kGrid, 1);
  for (double t : y_ticks.empty() ? round_ticks(y0, y1) : y_ticks)
    if (t >= y0 && t <= y1) c.line(left, py(t), right, py(t), kGrid, 1);
}

void Axes::draw_frame(Canvas& c, const std::string& title, const std::string& x_label, const std::string& y_label) const {
  const int l = left - 1, r = right + 1, t = top - 1, b = bottom + 1;
  c.fill_rect(l, t, r - l + 1, 1, kText);
  c.fill_rect(l, b, r - l + 1, 1, kText);
  c.fill_rect(l, t, 1, b - t + 1, kText);
  c.fill_rect(r, t, 1, b - t + 1, kText);
  for (double v : x_ticks.empty() ? round_ticks(x0, x1) : x_ticks) {
    if (v < x0 || v > x1) continue;
    int x = static_cast<int>(std::lround(px(v)));
    c.fill_rect(x, b + 1, 1, 4, kText);
    c.text(x - Canvas::text_width(format_number(v)) / 2, b + 8, format_number(v), kText);
  }
  for (double v : y_ticks.empty() ? round_ticks(y0, y1) : y_ticks) {
    if (v < y0 || v > y1) continue;
    int y = static_cast<int>(std::lround(py(v)));
    c.fill_rect(l - 4, y, 4, 1, kText);
    c.text(l - 7 - Canvas::text_width(format_number(v)), y - 4, format_number(v), kText);
  }
  draw_title(c, title);
  c.text((left + right - Canvas::text_width(x_label)) / 2, b + 24, x_label, kText);
  c.text(8, (top + bottom + Canvas::text_width(y_label)) / 2, y_label, kText, 1, TextDirection::up);
}

void draw_title(Canvas& c, const std::string& title) {
  c.text((c.width() - Canvas::text_width(title, 2)) / 2, 10, title, kText, 2);
}

void draw_polyline(Canvas& c, const Axes& a, const std::vector<std::pair<double, double>>& points, Rgb colour,
                   double thickness, bool dashed) {
  double travelled = 0;  // along the polyline in pixels, which places the dashes
  for (std::size_t i = 1; i < points.size(); ++i) {
    double ax = points[i - 1].first, ay = points[i - 1].second, bx = points[i].first, by = points[i].second;
    const double start = travelled;
    travelled += std::hypot(a.px(bx) - a.px(ax), a.py(by) - a.py(ay));
    if (!a.clip(ax, ay, bx, by)) continue;
    const double x0 = a.px(ax), y0 = a.py(ay), x1 = a.px(bx), y1 = a.py(by), length = std::hypot(x1 - x0, y1 - y0);
    if (!dashed) {
      c.line(x0, y0, x1, y1, colour, thickness);
      continue;
    }
    if (length == 0) continue;
    const double offset = start + std::hypot(x0 - a.px(points[i - 1].first), y0 - a.py(points[i - 1].second));
    for (double s = -std::fmod(offset, kDash + kGap); s < length; s += kDash + kGap) {
      if (s + kDash <= 0) continue;  // the segment starts in a gap
      // Round caps lengthen a dash by the thickness: shortening it keeps the gaps open.
      const double from = std::clamp(s + thickness / 2, 0.0, length) / length;
      const double to = std::clamp(s + kDash - thickness / 2, from * length, length) / length;
      c.line(x0 + from * (x1 - x0), y0 + from * (y1 - y0), x0 + to * (x1 - x0), y0 + to * (y1 - y0), colour, thickness);
    }
  }
}

int legend_width(const std::vector<LegendEntry>& entries) {
  int w = 0;
  for (const LegendEntry& e : entries) w = std::max(w, Canvas::text_width(e.label));
  return entries.empty() ? 0 : w + 38;
}

void draw_legend(Canvas& c, int right, int top, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return;
  const int w = legend_width(entries), h = kLegendRow * static_cast<int>(entries.size()) + 6;
  c.fill_rect(right - w, top, w, h, kWhite, 0.85);
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const LegendEntry& e = entries[k];
    const int x = right - w + 6, y = top + 5 + kLegendRow * static_cast<int>(k);
    if (e.swatch == Swatch::square) c.fill_rect(x + 5, y, 10, 10, e.colour);
    if (e.swatch == Swatch::line) c.line(x, y + 5, x + 20, y + 5, e.colour, 2);
    if (e.swatch == Swatch::dashed_line) {
      c.line(x, y + 5, x + 7, y + 5, e.colour, 2);
      c.line(x + 13, y + 5, x + 20, y + 5, e.colour, 2);
    }
    c.text(x + 26, y + 1, e.label, kText);
  }
}

}  // namespace zg
