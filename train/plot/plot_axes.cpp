#include "zoograd/train/plot/plot_axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace zg {

namespace {

constexpr double kPad = 8;
constexpr double kLegendRow = 20, kSwatch = 22;

double line_height(double size) { return size * 1.3; }

// Liang-Barsky: shrinks the segment to its part inside the box; false when none is.
bool clip_segment(double& ax, double& ay, double& bx, double& by, double x0, double y0, double x1, double y1) {
  const double dx = bx - ax, dy = by - ay;
  double t0 = 0, t1 = 1;
  auto keep = [&](double p, double q) {  // keeps the t with p·t <= q
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

// The fixed ends where given, else [lo, hi] padded by 5% (a unit around a single value; on a log
// axis a decade either side).
std::pair<double, double> fit(const AxisSpec& spec, double lo, double hi, const char* axis) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo) lo = spec.log ? 1 : 0, hi = spec.log ? 10 : 1;
  if (spec.log) {
    if (hi <= lo) lo /= 10, hi *= 10;
  } else if (hi <= lo) {  // one value: a band around it that is wide enough to show at its magnitude
    const double half = std::max(0.5, 0.05 * std::abs(lo));
    lo -= half, hi += half;
  } else {
    const double pad = 0.05 * (hi - lo);
    lo -= pad, hi += pad;
  }
  lo = spec.min.value_or(lo), hi = spec.max.value_or(hi);
  if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi) || (spec.log && lo <= 0))
    throw std::invalid_argument(std::string(axis) + " axis \"" + spec.label + "\": range [" + format_number(lo) + ", " +
                                format_number(hi) + "] is not a finite lo < hi" + (spec.log ? " above 0" : ""));
  return {lo, hi};
}

std::string tick_text(double v, bool log) { return log ? power_of_ten(v) : format_number(v); }

}  // namespace

Axes::Axes(Box box, std::string title, AxisSpec x, AxisSpec y, double x0, double x1, double y0, double y1,
           const std::vector<LegendEntry>& legend, LegendPlace place, bool equal_aspect)
    : box_(box), title_(std::move(title)), xs_(std::move(x)), ys_(std::move(y)), legend_(legend), place_(place),
      equal_aspect_(equal_aspect) {
  std::tie(x0_, x1_) = fit(xs_, x0, x1, "x");
  std::tie(y0_, y1_) = fit(ys_, y0, y1, "y");
  for (double t : xs_.ticks)
    if (!std::isfinite(t)) throw std::invalid_argument("x axis \"" + xs_.label + "\": tick " + format_number(t));
  for (double t : ys_.ticks)
    if (!std::isfinite(t)) throw std::invalid_argument("y axis \"" + ys_.label + "\": tick " + format_number(t));
  layout();
}

void Axes::layout() {
  const double base_x0 = x0_, base_x1 = x1_, base_y0 = y0_, base_y1 = y1_;
  title_lines_ = title_.empty() ? std::vector<std::string>{} : Figure::wrap(title_, kTitleSize, box_.w - 2 * kPad);
  const double legend_room = place_ == LegendPlace::outside && !legend_.empty() ? legend_width(legend_) + 10 : 0;
  top_ = box_.y + kPad + static_cast<double>(title_lines_.size()) * line_height(kTitleSize) + kTickSize * 0.7;
  left_ = box_.x + kPad, right_ = box_.x + box_.w - kPad - legend_room, bottom_ = box_.y + box_.h - kPad;
  for (int pass = 0; pass < 3; ++pass) {
    x0_ = base_x0, x1_ = base_x1, y0_ = base_y0, y1_ = base_y1;
    if (equal_aspect_ && !(xs_.min && xs_.max && ys_.min && ys_.max) && !xs_.log && !ys_.log && right_ > left_ &&
        bottom_ > top_) {
      const double per_pixel = std::max((x1_ - x0_) / (right_ - left_), (y1_ - y0_) / (bottom_ - top_));
      const double xc = (x0_ + x1_) / 2, yc = (y0_ + y1_) / 2;
      x0_ = xc - per_pixel * (right_ - left_) / 2, x1_ = xc + per_pixel * (right_ - left_) / 2;
      y0_ = yc - per_pixel * (bottom_ - top_) / 2, y1_ = yc + per_pixel * (bottom_ - top_) / 2;
    }
    double widest = 0;
    for (double t : y_ticks()) widest = std::max(widest, Figure::text_width(tick_text(t, ys_.log), kTickSize));
    const std::vector<double> xt = x_ticks();
    const double last_half = xt.empty() ? 0 : Figure::text_width(tick_text(xt.back(), xs_.log), kTickSize) / 2;
    const double last_at = xt.empty() ? 0 : (px(xt.back()) - right_);  // <= 0: a tick left of the right edge
    x_label_lines_ = Figure::wrap(xs_.label, kLabelSize, std::max(right_ - left_, 40.0));
    y_label_lines_ = Figure::wrap(ys_.label, kLabelSize, std::max(bottom_ - top_, 40.0));
    y_tick_width_ = widest;
    left_ = box_.x + kPad + static_cast<double>(y_label_lines_.size()) * line_height(kLabelSize) + 6 + widest + 10;
    right_ = box_.x + box_.w - kPad - legend_room - std::max(0.0, last_half + last_at + 2);
    bottom_ = box_.y + box_.h - kPad - static_cast<double>(x_label_lines_.size()) * line_height(kLabelSize) - 6 -
              line_height(kTickSize) - 6;
  }
  if (!(right_ - left_ >= 40 && bottom_ - top_ >= 40))
    throw std::invalid_argument("Axes: a " + format_number(box_.w) + "x" + format_number(box_.h) + " box leaves no room to plot \"" +
                                title_ + "\"");
  const bool fixed_ranges = xs_.min && xs_.max && ys_.min && ys_.max;
  if (equal_aspect_ && fixed_ranges && !xs_.log && !ys_.log) {
    // Both ranges are fixed: the plot area shrinks to their shape, centred across, at the top.
    const double per_pixel = std::max((x1_ - x0_) / (right_ - left_), (y1_ - y0_) / (bottom_ - top_));
    const double w = (x1_ - x0_) / per_pixel, h = (y1_ - y0_) / per_pixel;
    left_ += (right_ - left_ - w) / 2, right_ = left_ + w;
    bottom_ = top_ + h;
  } else if (equal_aspect_ && !xs_.log && !ys_.log) {  // the final pixel box sets the final ranges
    const double per_pixel = std::max((base_x1 - base_x0) / (right_ - left_), (base_y1 - base_y0) / (bottom_ - top_));
    const double xc = (base_x0 + base_x1) / 2, yc = (base_y0 + base_y1) / 2;
    x0_ = xc - per_pixel * (right_ - left_) / 2, x1_ = xc + per_pixel * (right_ - left_) / 2;
    y0_ = yc - per_pixel * (bottom_ - top_) / 2, y1_ = yc + per_pixel * (bottom_ - top_) / 2;
  }
}

double Axes::px(double x) const {
  if (xs_.log) return left_ + (std::log10(x) - std::log10(x0_)) / (std::log10(x1_) - std::log10(x0_)) * (right_ - left_);
  return left_ + (x - x0_) / (x1_ - x0_) * (right_ - left_);
}

double Axes::py(double y) const {
  if (ys_.log) return bottom_ - (std::log10(y) - std::log10(y0_)) / (std::log10(y1_) - std::log10(y0_)) * (bottom_ - top_);
  return bottom_ - (y - y0_) / (y1_ - y0_) * (bottom_ - top_);
}

double Axes::x_at(double p) const {
  const double t = (p - left_) / (right_ - left_);
  return xs_.log ? std::pow(10, std::log10(x0_) + t * (std::log10(x1_) - std::log10(x0_))) : x0_ + t * (x1_ - x0_);
}

double Axes::y_at(double p) const {
  const double t = (bottom_ - p) / (bottom_ - top_);
  return ys_.log ? std::pow(10, std::log10(y0_) + t * (std::log10(y1_) - std::log10(y0_))) : y0_ + t * (y1_ - y0_);
}

std::vector<double> Axes::x_ticks() const {
  std::vector<double> t = xs_.ticks.empty() ? (xs_.log ? log_ticks(x0_, x1_) : round_ticks(x0_, x1_)) : xs_.ticks;
  std::erase_if(t, [&](double v) { return v < x0_ || v > x1_; });
  return t;
}

std::vector<double> Axes::y_ticks() const {
  std::vector<double> t = ys_.ticks.empty() ? (ys_.log ? log_ticks(y0_, y1_) : round_ticks(y0_, y1_)) : ys_.ticks;
  std::erase_if(t, [&](double v) { return v < y0_ || v > y1_; });
  return t;
}

void Axes::draw_grid(Figure& f) const {
  for (double t : x_ticks()) f.line(px(t), top_, px(t), bottom_, kGridGrey, 1);
  for (double t : y_ticks()) f.line(left_, py(t), right_, py(t), kGridGrey, 1);
}

void Axes::draw_frame(Figure& f, const std::vector<std::string>& series) const {
  f.stroke_rect(left_, top_, right_ - left_, bottom_ - top_, kInk, 1);
  const double tick_baseline = bottom_ + 5 + Figure::ascent(kTickSize);
  for (double t : x_ticks()) {
    f.line(px(t), bottom_, px(t), bottom_ + 4, kInk, 1);
    f.text(px(t), tick_baseline, tick_text(t, xs_.log), kTickSize, Anchor::centre);
  }
  const double centre_shift = (Figure::ascent(kTickSize) - Figure::descent(kTickSize)) / 2;
  for (double t : y_ticks()) {
    f.line(left_ - 4, py(t), left_, py(t), kInk, 1);
    f.text(left_ - 7, py(t) + centre_shift, tick_text(t, ys_.log), kTickSize, Anchor::right);
  }
  double y = bottom_ + 5 + line_height(kTickSize) + 4 + Figure::ascent(kLabelSize);
  for (const std::string& line : x_label_lines_) {
    f.text((left_ + right_) / 2, y, line, kLabelSize, Anchor::centre);
    y += line_height(kLabelSize);
  }
  double x = left_ - 10 - y_tick_width_ - 6 - static_cast<double>(y_label_lines_.size()) * line_height(kLabelSize) +
             Figure::ascent(kLabelSize);
  for (const std::string& line : y_label_lines_) {
    f.text(x, (top_ + bottom_) / 2, line, kLabelSize, Anchor::centre, kInk, false, TextDirection::up);
    x += line_height(kLabelSize);
  }
  draw_lines(f, box_.x + box_.w / 2, box_.y + kPad + Figure::ascent(kTitleSize), title_lines_, kTitleSize);
  if (place_ == LegendPlace::inside) draw_legend(f, right_ - 6, top_ + 6, legend_);
  if (place_ == LegendPlace::outside) draw_legend(f, box_.x + box_.w - kPad, top_, legend_);
  f.add_axes({title_, xs_.label, ys_.label, left_, top_, right_, bottom_, x0_, x1_, y0_, y1_, xs_.log, ys_.log,
              equal_aspect_, series});
}

std::vector<std::vector<std::pair<double, double>>> Axes::to_pixels(const std::vector<double>& x,
                                                                     const std::vector<double>& y) const {
  // Segments are cut to a little beyond the plot area (the clip trims the rest), so points far
  // outside it never reach Cairo's fixed-point coordinates.
  const double margin = 10, bx0 = left_ - margin, bx1 = right_ + margin, by0 = top_ - margin, by1 = bottom_ + margin;
  auto usable = [&](std::size_t i) {
    return std::isfinite(x[i]) && std::isfinite(y[i]) && (!xs_.log || x[i] > 0) && (!ys_.log || y[i] > 0);
  };
  std::vector<std::vector<std::pair<double, double>>> pieces;
  std::vector<std::pair<double, double>> piece;
  auto flush = [&] {
    if (!piece.empty()) pieces.push_back(std::move(piece));
    piece.clear();
  };
  const std::size_t n = std::min(x.size(), y.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!usable(i)) {
      flush();
      continue;
    }
    if (i == 0 || !usable(i - 1)) {
      if (px(x[i]) >= bx0 && px(x[i]) <= bx1 && py(y[i]) >= by0 && py(y[i]) <= by1) piece.emplace_back(px(x[i]), py(y[i]));
      continue;
    }
    double ax = px(x[i - 1]), ay = py(y[i - 1]), bx = px(x[i]), by = py(y[i]);
    if (!clip_segment(ax, ay, bx, by, bx0, by0, bx1, by1)) {
      flush();
      continue;
    }
    if (piece.empty() || piece.back() != std::pair{ax, ay}) {
      flush();
      piece.emplace_back(ax, ay);
    }
    piece.emplace_back(bx, by);
    if (bx != px(x[i]) || by != py(y[i])) flush();  // left the area
  }
  flush();
  return pieces;
}

double legend_width(const std::vector<LegendEntry>& entries) {
  double w = 0;
  for (const LegendEntry& e : entries) w = std::max(w, Figure::text_width(e.label, kTickSize));
  return entries.empty() ? 0 : w + kSwatch + 6 + 16;
}

double legend_height(const std::vector<LegendEntry>& entries) {
  return entries.empty() ? 0 : kLegendRow * static_cast<double>(entries.size()) + 8;
}

namespace {

void draw_swatch(Figure& f, double x, double centre_y, const LegendEntry& e) {
  if (e.swatch == Swatch::square) f.fill_rect(x + 5, centre_y - 6, 12, 12, e.colour);
  else f.line(x, centre_y, x + kSwatch - 2, centre_y, e.colour, 2.5, e.swatch == Swatch::dashed_line);
}

}  // namespace

void draw_legend(Figure& f, double right, double top, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return;
  const double w = legend_width(entries), h = legend_height(entries);
  f.fill_rect(right - w, top, w, h, kWhite, 0.85);
  f.stroke_rect(right - w, top, w, h, kGridGrey, 1);
  const double shift = (Figure::ascent(kTickSize) - Figure::descent(kTickSize)) / 2;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const double x = right - w + 8, centre = top + 4 + kLegendRow * (static_cast<double>(k) + 0.5);
    draw_swatch(f, x, centre, entries[k]);
    f.text(x + kSwatch + 6, centre + shift, entries[k].label, kTickSize);
  }
}

double draw_legend_rows(Figure& f, double x, double y, double width, const std::vector<LegendEntry>& entries, bool draw) {
  if (entries.empty()) return 0;
  const double shift = (Figure::ascent(kTickSize) - Figure::descent(kTickSize)) / 2;
  double at = x, row = 0;
  for (const LegendEntry& e : entries) {
    const double w = kSwatch + 6 + Figure::text_width(e.label, kTickSize) + 18;
    if (at > x && at + w > x + width) at = x, row += 1;
    if (draw) {
      const double centre = y + kLegendRow * (row + 0.5);
      draw_swatch(f, at, centre, e);
      f.text(at + kSwatch + 6, centre + shift, e.label, kTickSize);
    }
    at += w;
  }
  return kLegendRow * (row + 1);
}

double draw_lines(Figure& f, double x, double y, const std::vector<std::string>& lines, double size, bool bold) {
  for (const std::string& line : lines) {
    f.text(x, y, line, size, Anchor::centre, kInk, bold);
    y += line_height(size);
  }
  return y;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::vector<double> round_ticks(double lo, double hi) {
  const double span = hi - lo;
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

std::vector<double> log_ticks(double lo, double hi) {
  const int first = static_cast<int>(std::ceil(std::log10(lo) - 1e-9)), last = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
  const int step = std::max(1, (last - first + 6) / 7);  // at most about seven labels
  std::vector<double> t;
  for (int e = first; e <= last; e += step) t.push_back(std::pow(10.0, e));
  return t;
}

std::string power_of_ten(double v) {
  const long e = std::lround(std::log10(v));
  if (std::abs(std::pow(10.0, static_cast<double>(e)) - v) > 1e-9 * v) return format_number(v);
  if (e == 0) return "1";
  if (e == 1) return "10";
  static const char* const kDigits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string s = "10";
  if (e < 0) s += "⁻";
  for (char c : std::to_string(std::abs(e))) s += kDigits[c - '0'];
  return s;
}

}  // namespace zg
