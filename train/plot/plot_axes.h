#pragma once
// The frame every plot shares: a plot area laid out inside a box of a Figure (title above, tick
// values and axis labels left and below, an optional legend right), mapped to a data box on linear
// or logarithmic axes, with grid, ticks, labels and legends. The layout measures its text, so
// nothing it draws leaves the box. Depends on train/plot/figure.h only.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "zoograd/train/plot/figure.h"

namespace zg {

// Text sizes of the plots, in pixels.
inline constexpr double kTickSize = 14, kLabelSize = 15, kTitleSize = 16;

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

struct AxisSpec {
  std::string label;  // the quantity and its unit, e.g. "θ (degrees)"
  std::optional<double> min{}, max{};  // fixed ends; by default the data's range, padded by 5%
  std::vector<double> ticks{};         // empty: about five round values (powers of ten on a log axis)
  bool log = false;
};

enum class Swatch { square, line, dashed_line };

struct LegendEntry {
  std::string label;
  Rgb colour;
  Swatch swatch = Swatch::square;
};

// Where a plot's legend goes: none, inside the plot area's top-right corner, or right of it.
enum class LegendPlace { none, inside, outside };

class Axes {
 public:
  // Lays out the plot area inside box for data spanning [x0, x1] x [y0, y1] (the specs' fixed ends
  // win). With equal_aspect, the axis with room to spare is widened about its centre so one data
  // unit spans as many pixels on both. Throws std::invalid_argument for a non-finite or empty
  // range, or a non-positive one on a log axis, naming the axis.
  Axes(Box box, std::string title, AxisSpec x, AxisSpec y, double x0, double x1, double y0, double y1,
       const std::vector<LegendEntry>& legend = {}, LegendPlace place = LegendPlace::none, bool equal_aspect = false);

  double left() const { return left_; }
  double top() const { return top_; }
  double right() const { return right_; }
  double bottom() const { return bottom_; }
  double x0() const { return x0_; }
  double x1() const { return x1_; }
  double y0() const { return y0_; }
  double y1() const { return y1_; }
  double px(double x) const;  // data to pixels
  double py(double y) const;
  double x_at(double px) const;  // pixels to data
  double y_at(double py) const;
  bool inside(double x, double y) const { return x >= x0_ && x <= x1_ && y >= y0_ && y <= y1_; }

  void draw_grid(Figure& f) const;
  // Border, ticks and their values, axis labels, title and legend, drawn over the content; and the
  // plot area's record in the figure, with the labels of the series drawn.
  void draw_frame(Figure& f, const std::vector<std::string>& series = {}) const;
  // Clips to the plot area until Figure::pop_clip.
  void clip(Figure& f) const { f.push_clip(left_, top_, right_ - left_, bottom_ - top_); }
  // Data points in pixels, split where a point is not finite (on a log axis: not positive).
  std::vector<std::vector<std::pair<double, double>>> to_pixels(const std::vector<double>& x,
                                                                 const std::vector<double>& y) const;

 private:
  void layout();
  std::vector<double> x_ticks() const;
  std::vector<double> y_ticks() const;

  Box box_;
  std::string title_;
  AxisSpec xs_, ys_;
  std::vector<LegendEntry> legend_;
  LegendPlace place_;
  bool equal_aspect_;
  std::vector<std::string> title_lines_, x_label_lines_, y_label_lines_;
  double left_ = 0, top_ = 0, right_ = 0, bottom_ = 0;
  double y_tick_width_ = 0;
  double x0_ = 0, x1_ = 1, y0_ = 0, y1_ = 1;
};

double legend_width(const std::vector<LegendEntry>& entries);
double legend_height(const std::vector<LegendEntry>& entries);
// A column of entries in a white box whose top-right corner is (right, top).
void draw_legend(Figure& f, double right, double top, const std::vector<LegendEntry>& entries);
// Entries in rows across width (a grid figure's shared legend); returns the height used. With
// draw false, only measures.
double draw_legend_rows(Figure& f, double x, double y, double width, const std::vector<LegendEntry>& entries,
                        bool draw = true);
// Lines of text centred on x, the first baseline at y; returns the y below the last line.
double draw_lines(Figure& f, double x, double y, const std::vector<std::string>& lines, double size,
                  bool bold = false);

std::string format_number(double v);  // %.4g
// Round values covering [lo, hi]: about five on a linear axis, powers of ten on a log axis.
std::vector<double> round_ticks(double lo, double hi);
std::vector<double> log_ticks(double lo, double hi);
// 10⁻³ for 0.001: a power of ten with a superscript exponent.
std::string power_of_ten(double v);

}  // namespace zg
