#pragma once
// Small SVG pictures for run reports: line charts and a confusion-matrix heat map.
#include <cstdint>
#include <string>
#include <vector>

namespace zg {

struct Series {
  std::string label;
  std::vector<double> x, y;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
};

std::string line_chart_svg(const LineChart& chart, int width = 520, int height = 340);

// rows: true class, columns: predicted class.
std::string confusion_svg(const std::vector<std::vector<std::int64_t>>& counts, const std::vector<std::string>& names,
                          const std::string& title);

// Escapes &, <, >, " for SVG/HTML text.
std::string xml_escape(const std::string& s);

}  // namespace zg
