#include "train/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace zg {

namespace {
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};


std::string fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::vector<double> round_ticks(double lo, double hi) {
  double span = hi - lo;
  double step = std::pow(10.0, std::floor(std::log10(span / 5)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (span / (step * m) <= 6) {
      step *= m;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) t.push_back(std::abs(v) < 1e-12 * span ? 0 : v);
  return t;
}

// Code points of UTF-8 text: roughly its width in characters, for sizing the legend.
std::size_t characters(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string xml_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

std::string line_chart_svg(const LineChart& chart, int width, int height) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& s : chart.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        x0 = std::min(x0, s.x[i]);
        x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i]);
        y1 = std::max(y1, s.y[i]);
      }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  x0 = chart.x_min.value_or(x0), x1 = chart.x_max.value_or(x1);
  y0 = chart.y_min.value_or(y0), y1 = chart.y_max.value_or(y1);
  const bool clip = chart.x_min || chart.x_max || chart.y_min || chart.y_max;
  std::size_t longest = 0;
  for (const Series& se : chart.series) longest = std::max(longest, characters(se.label));
  const double legend_width = chart.legend_outside ? 40 + 7.5 * static_cast<double>(longest) : 0;
  const double left = 64, right = width - 16.0 - legend_width, top = 36, bottom = height - 48.0;
  const double legend_x = chart.legend_outside ? right + 16 : right - 120;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
  auto py = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fixed(width / 2.0) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" + xml_escape(chart.title) + "</text>\n";
  for (double t : chart.y_ticks.empty() ? round_ticks(y0, y1) : chart.y_ticks)
    s += "<line x1=\"" + fixed(left) + "\" x2=\"" + fixed(right) + "\" y1=\"" + fixed(py(t)) + "\" y2=\"" + fixed(py(t)) +
         "\" stroke=\"#e0e0e0\"/><text x=\"" + fixed(left - 6) + "\" y=\"" + fixed(py(t) + 4) +
         "\" text-anchor=\"end\">" + format_number(t) + "</text>\n";
  for (double t : chart.x_ticks.empty() ? round_ticks(x0, x1) : chart.x_ticks)
    s += "<line x1=\"" + fixed(px(t)) + "\" x2=\"" + fixed(px(t)) + "\" y1=\"" + fixed(bottom) + "\" y2=\"" +
         fixed(bottom + 4) + "\" stroke=\"black\"/><text x=\"" + fixed(px(t)) + "\" y=\"" + fixed(bottom + 18) +
         "\" text-anchor=\"middle\">" + format_number(t) + "</text>\n";
  s += "<rect x=\"" + fixed(left) + "\" y=\"" + fixed(top) + "\" width=\"" + fixed(right - left) + "\" height=\"" +
       fixed(bottom - top) + "\" fill=\"none\" stroke=\"black\"/>\n";
  s += "<text x=\"" + fixed((left + right) / 2) + "\" y=\"" + fixed(height - 10.0) + "\" text-anchor=\"middle\">" +
       xml_escape(chart.x_label) + "</text>\n";
  s += "<text transform=\"translate(14," + fixed((top + bottom) / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       xml_escape(chart.y_label) + "</text>\n";
  // A nested <svg> clips to its viewport; the viewBox keeps the outer coordinates.
  if (clip)
    s += "<svg x=\"" + fixed(left) + "\" y=\"" + fixed(top) + "\" width=\"" + fixed(right - left) + "\" height=\"" +
         fixed(bottom - top) + "\" viewBox=\"" + fixed(left) + " " + fixed(top) + " " + fixed(right - left) + " " +
         fixed(bottom - top) + "\" overflow=\"hidden\">\n";
  std::string legend;
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& se = chart.series[k];
    const char* color = kColors[k % std::size(kColors)];
    const std::string stroke = "stroke=\"" + std::string(color) + (se.dashed ? "\" stroke-dasharray=\"6 4\"" : "\"");
    std::string points;
    for (std::size_t i = 0; i < se.x.size() && i < se.y.size(); ++i)
      if (std::isfinite(se.x[i]) && std::isfinite(se.y[i])) points += fixed(px(se.x[i])) + "," + fixed(py(se.y[i])) + " ";
    s += "<polyline fill=\"none\" " + stroke + " stroke-width=\"2\" points=\"" + points + "\"/>\n";
    if (se.x.size() == 1)
      s += "<circle cx=\"" + fixed(px(se.x[0])) + "\" cy=\"" + fixed(py(se.y[0])) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    double ly = top + 14 + 16.0 * static_cast<double>(k);
    legend += "<line x1=\"" + fixed(legend_x) + "\" x2=\"" + fixed(legend_x + 20) + "\" y1=\"" + fixed(ly - 4) + "\" y2=\"" +
              fixed(ly - 4) + "\" " + stroke + " stroke-width=\"2\"/><text x=\"" + fixed(legend_x + 25) +
              "\" y=\"" + fixed(ly) + "\">" + xml_escape(se.label) + "</text>\n";
  }
  if (clip) s += "</svg>\n";
  return s + legend + "</svg>\n";
}

std::string confusion_svg(const std::vector<std::vector<std::int64_t>>& counts, const std::vector<std::string>& names,
                          const std::string& title) {
  const int n = static_cast<int>(counts.size());
  const int cell = 40, left = 110, top = 50;
  const int width = left + n * cell + 20, height = top + n * cell + 60;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + std::to_string(width / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" + xml_escape(title) +
       "</text>\n";
  for (int i = 0; i < n; ++i) {
    std::int64_t row_total = 0;
    for (std::int64_t c : counts[static_cast<std::size_t>(i)]) row_total += c;
    std::string name = i < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(i)] : std::to_string(i);
    s += "<text x=\"" + std::to_string(left - 6) + "\" y=\"" + std::to_string(top + i * cell + cell / 2 + 4) +
         "\" text-anchor=\"end\">" + xml_escape(name) + "</text>\n";
    s += "<text transform=\"translate(" + std::to_string(left + i * cell + cell / 2 + 4) + "," +
         std::to_string(top + n * cell + 8) + ") rotate(45)\">" + xml_escape(name) + "</text>\n";
    for (int j = 0; j < n; ++j) {
      std::int64_t c = counts[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
      double share = row_total ? static_cast<double>(c) / static_cast<double>(row_total) : 0;
      int shade = static_cast<int>(255 - 200 * share);
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02x%02xff", shade, shade);
      s += "<rect x=\"" + std::to_string(left + j * cell) + "\" y=\"" + std::to_string(top + i * cell) + "\" width=\"" +
           std::to_string(cell) + "\" height=\"" + std::to_string(cell) + "\" fill=\"" + fill +
           "\" stroke=\"white\"/><text x=\"" + std::to_string(left + j * cell + cell / 2) + "\" y=\"" +
           std::to_string(top + i * cell + cell / 2 + 4) + "\" text-anchor=\"middle\" fill=\"" +
           (share > 0.6 ? "white" : "black") + "\">" + std::to_string(c) + "</text>\n";
    }
  }
  s += "<text x=\"" + std::to_string(left + n * cell / 2) + "\" y=\"" + std::to_string(height - 4) +
       "\" text-anchor=\"middle\">predicted</text>\n";
  s += "<text transform=\"translate(12," + std::to_string(top + n * cell / 2) + ") rotate(-90)\" text-anchor=\"middle\">true</text>\n";
  return s + "</svg>\n";
}

}  // namespace zg
