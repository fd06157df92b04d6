#pragma once
// The plots of zoograd's figures, drawn on a Figure: line charts (linear or log axes, with shaded
// regions, fills and arrows), class-coloured scatter plots with decision regions and weight rays,
// overlaid histograms, features on the unit sphere, a confusion matrix, and grids of panels.
// Each draw_* function draws into a box of a figure; the functions without the prefix make a
// figure of one plot. Invalid arguments (lengths, classes outside the palette, non-finite points)
// throw std::invalid_argument naming the value. Depends on train/plot/figure.h and train/plot/plot_axes.h.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "zoograd/train/plot/figure.h"
#include "zoograd/train/plot/plot_axes.h"

namespace zg {

struct Series {
  std::string label;
  std::vector<double> x, y;  // points with a non-finite coordinate break the line
  bool dashed = false;
  std::optional<Rgb> colour{};  // default: the chart's series colours in order
  double width = 2;
};

// An arrow in data coordinates, from (x0, y0) to (x1, y1).
struct Arrow {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  Rgb colour = kInk;
};

// The class shading a region at each of M points (x[i], y[i]) in data coordinates: an index into
// the plot's colours, or -1 for none. Evaluated in one call for every cell of the plot area.
using RegionFunction = std::function<std::vector<int>(const std::vector<double>& x, const std::vector<double>& y)>;

struct LineChart {
  std::string title;
  AxisSpec x, y;
  std::vector<Series> series{};
  LegendPlace legend = LegendPlace::inside;
  bool equal_aspect = false;
  std::vector<Arrow> arrows{};
  RegionFunction region{};
  std::vector<Rgb> region_colours{};         // by the region function's index
  std::vector<LegendEntry> extra_legend{};   // after the series, e.g. what the shading means
  double region_alpha = 0.22;
};

// The colour of the k-th series when none is given.
Rgb series_colour(std::size_t k);

void draw_line_chart(Figure& f, Box box, const LineChart& chart);
Figure line_chart(const LineChart& chart, double width = 640, double height = 440);

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
  std::string title;
  AxisSpec x, y;
  std::vector<double> px{}, py{};
  std::vector<std::int64_t> labels{};      // each point's class, which picks its palette colour
  std::vector<std::string> class_names{};  // legend entries by class; empty: no legend
  std::vector<Ray> rays{};
  RegionFunction region{};               // indices into region_colours
  std::vector<Rgb> region_colours{};     // empty: the palette, so indices are classes
  bool unit_circle = false;              // draws the unit circle
  double point_radius = 1.8, point_alpha = 0.45, region_alpha = 0.22;
  LegendPlace legend = LegendPlace::outside;
};
// Equal aspect always: the axes' ranges are widened so both have the same scale. The points are
// drawn as one raster layer, so vector formats stay small for thousands of points.
void draw_scatter(Figure& f, Box box, const ScatterPlot& plot);
Figure scatter_plot(const ScatterPlot& plot, double width = 600, double height = 520);

// Either counts (one per bin) or raw values, binned over [lo, hi]; values outside it are left out.
struct HistogramSeries {
  std::string label;
  std::vector<double> values;
  std::vector<double> counts;
};

struct Histogram {
  std::string title;
  AxisSpec x, y;  // x's range is [lo, hi]
  std::vector<HistogramSeries> series;  // coloured in palette order
  double lo = 0, hi = 180;
  int bins = 36;
  bool percent = false;  // each series scaled to sum to 100, so series of different sizes compare
  double alpha = 0.4;
  LegendPlace legend = LegendPlace::inside;
};

// Bin i covers [lo + i w, lo + (i + 1) w) with w = (hi - lo) / bins; the last bin includes hi.
std::vector<double> bin_counts(const std::vector<double>& values, double lo, double hi, int bins);
void draw_histogram(Figure& f, Box box, const Histogram& histogram);
Figure histogram(const Histogram& histogram, double width = 600, double height = 420);

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
  double point_radius = 1.8, point_alpha = 0.5, back_fade = 0.75;
};
void draw_sphere(Figure& f, Box box, const SpherePlot& plot);
Figure sphere_plot(const SpherePlot& plot, double width = 600, double height = 520);

// rows: true class, columns: predicted class; each cell shaded by its share of the row.
Figure confusion_matrix(const std::vector<std::vector<std::int64_t>>& counts, const std::vector<std::string>& names,
                        const std::string& title);

// Panels in a grid, `columns` to a row, each drawn into a cell_w x cell_h box, under a title and
// above a shared legend (in rows).
using Panel = std::function<void(Figure&, Box)>;
Figure grid_figure(const std::string& title, const std::vector<Panel>& panels, int columns, double cell_w,
                   double cell_h, const std::vector<LegendEntry>& legend = {});

// Shades the plot area cell by cell (one cell per pixel, up to 600 a side) in colours[index] of
// the region function, leaving cells of index -1 unshaded; throws on an index outside colours.
void shade_region(Figure& f, const Axes& axes, const RegionFunction& region, const std::vector<Rgb>& colours,
                  double alpha);

// Each class's name with its palette colour, for a legend.
std::vector<LegendEntry> class_legend(const std::vector<std::string>& names);

}  // namespace zg
