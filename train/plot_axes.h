#pragma once
// The frame the PNG plots of train/plots.h share: a plot area mapped to a data box, with grid,
// ticks, labels, title and legend, and dashed polylines clipped to the box.
#include <string>
#include <utility>
#include <vector>

#include "train/canvas.h"
#include "train/svg.h"

namespace zg {

// The plot area spans pixel centres [left, right] x [top, bottom] and data [x0, x1] x [y0, y1].
struct Axes {
  int left = 0, top = 0, right = 0, bottom = 0;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  std::vector<double> x_ticks, y_ticks;  // empty: round_ticks

  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
  double x_at(int px) const { return x0 + (px - left) * (x1 - x0) / (right - left); }
  double y_at(int py) const { return y0 + (bottom - py) * (y1 - y0) / (bottom - top); }
  // Shrinks a segment in data coordinates to its part inside the data box; false when none is.
  bool clip(double& ax, double& ay, double& bx, double& by) const;

  void draw_grid(Canvas& c) const;
  // Border, ticks with their values, title and axis labels: drawn last, over the content.
  void draw_frame(Canvas& c, const std::string& title, const std::string& x_label, const std::string& y_label) const;
};

void draw_title(Canvas& c, const std::string& title);

// Points in data coordinates, joined by straight segments clipped to the data box; a dash pattern
// runs on across the joints.
void draw_polyline(Canvas& c, const Axes& a, const std::vector<std::pair<double, double>>& points, Rgb colour,
                   double thickness, bool dashed);

enum class Swatch { square, line, dashed_line };

struct LegendEntry {
  std::string label;
  Rgb colour;
  Swatch swatch = Swatch::square;
};

int legend_width(const std::vector<LegendEntry>& entries);
// The box's top-right corner is (right, top); nothing is drawn for no entries.
void draw_legend(Canvas& c, int right, int top, const std::vector<LegendEntry>& entries);

}  // namespace zg
