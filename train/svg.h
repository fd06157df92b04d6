#pragma once
// Small SVG pictures for run reports: line charts and a confusion-matrix heat map.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zg {

struct Series {
  std::string label;
  std::vector<double> x, y;
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series{};
  // Fixed axis ranges, for curves that leave the interesting region (they are clipped there);
  // by default an axis spans the data.
  std::optional<double> x_min{}, x_max{}, y_min{}, y_max{};
  std::vector<double> x_ticks{}, y_ticks{};  // empty: about five round values
  bool legend_outside = false;  // right of the plot area, for charts whose lines fill the corners
};

// Points with a non-finite coordinate are left out.
std::string line_chart_svg(const LineChart& chart, int width = 520, int height = 340);

// rows: true class, columns: predicted class.
std::string confusion_svg(const std::vector<std::vector<std::int64_t>>& counts, const std::vector<std::string>& names,
                          const std::string& title);

std::string format_number(double v);  // %.4g

// About five round values covering [lo, hi].
std::vector<double> round_ticks(double lo, double hi);

// Escapes &, <, >, " for SVG/HTML text.
std::string xml_escape(const std::string& s);

}  // namespace zg
