#pragma once
// PNG plots drawn on a Canvas, for the margins atlas: class-coloured features with decision regions
// and weight rays, the same on the unit circle, overlaid angle histograms, line charts, and
// features on the unit sphere. Each returns the picture; save it with Canvas::save_png.
// Invalid arguments (sizes, lengths, classes outside the palette, NaN) throw std::invalid_argument
// naming the value.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/canvas.h"
#include "train/svg.h"

namespace zg {

// Fixed bounds when lo < hi; lo == hi (the default) fits the data.
struct Range {
  double lo = 0, hi = 0;
};

// A line from the origin along (dx, dy): to the edge of the plot, or, when to_edge is false, to
// (dx, dy) itself, so a weight vector's norm shows. Dashed suits decision boundaries.
struct Ray {
  double dx = 1, dy = 0;
  Rgb colour = kBlack;
  bool to_edge = true;
  bool dashed = false;
};

Ray ray_at_angle(double radians, Rgb colour, bool dashed = false);

struct ScatterPlot {
  std::string title, x_label, y_label;
  std::vector<double> x, y;
  std::vector<std::int64_t> labels;      // each point's class, which picks its palette colour
  std::vector<std::string> class_names;  // legend entries by class; empty: no legend
  std::vector<Ray> rays;
  // The class at a point of the plane (e.g. the head's argmax); when set, each pixel of the plot
  // area is shaded lightly in the colour of the class at its centre.
  std::function<std::int64_t(double x, double y)> region;
  bool unit_circle = false;
  Range x_range, y_range;  // widened as needed so both axes have the same scale
  double point_radius = 1.5, point_alpha = 0.5, region_alpha = 0.2;
};

Canvas scatter_plot_png(const ScatterPlot& plot, int width = 600, int height = 600);

// Either counts (one per bin) or raw values, binned over [lo, hi]; values outside it are left out.
struct HistogramSeries {
  std::string label;
  std::vector<double> values;
  std::vector<double> counts;
};

struct Histogram {
  std::string title, x_label, y_label = "count";
  std::vector<HistogramSeries> series;  // coloured in palette order
  double lo = 0, hi = 180;
  int bins = 36;
  bool density = false;  // each series scaled to sum to 1, so series of different sizes compare
  double alpha = 0.4;
};

// Bin i covers [lo + i w, lo + (i + 1) w) with w = (hi - lo) / bins; the last bin includes hi.
std::vector<double> bin_counts(const std::vector<double>& values, double lo, double hi, int bins);

Canvas histogram_png(const Histogram& histogram, int width = 600, int height = 400);

// Honours every field of LineChart as line_chart_svg does: points with a non-finite coordinate are
// left out, fixed ranges clip the lines. Series are coloured in line_chart_svg's order.
Canvas line_chart_png(const LineChart& chart, int width = 520, int height = 340);

// A weight direction on the sphere, drawn from the centre.
struct Ray3 {
  double x = 0, y = 0, z = 1;
  Rgb colour = kBlack;
};

// Points are projected onto the unit sphere and seen orthographically from the direction given by
// azimuth (about z, from x towards y) and elevation (above the xy plane); points on the far
// hemisphere are faded and drawn first, so the near one stays readable.
struct SpherePlot {
  std::string title;
  std::vector<double> x, y, z;
  std::vector<std::int64_t> labels;
  std::vector<std::string> class_names;
  std::vector<Ray3> rays;
  double azimuth_deg = 30, elevation_deg = 20;
  double point_radius = 1.5, point_alpha = 0.5, back_fade = 0.75;
};

Canvas sphere_plot_png(const SpherePlot& plot, int width = 600, int height = 600);

}  // namespace zg
