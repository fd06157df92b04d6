#include "train/canvas.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <stdexcept>

// The one translation unit that compiles stb_image_write; pictures are encoded to memory first so
// that save_png can write them atomically.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>

#include "core/serialize.h"

namespace zg {

namespace {

constexpr int kMaxSide = 1 << 14;
// stb_easy_font draws each glyph from at most 11 segments, one quad of 64 bytes each.
constexpr std::size_t kQuadBytesPerChar = 12 * 64;

std::string show(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void check_finite(const char* what, std::initializer_list<double> values) {
  for (double v : values)
    if (!std::isfinite(v)) throw std::invalid_argument(std::string("Canvas::") + what + ": non-finite argument " + show(v));
}

// stb_easy_font indexes its tables with (c - 32) and has glyphs for ' ' to '~' only.
std::string printable(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c != '\n' && (c < 32 || c > 126)) c = '?';
  return r;
}

// A pixel range [lo, hi] clipped to [0, n - 1] while still in double, so huge coordinates stay defined.
std::pair<int, int> span(double lo, double hi, int n) {
  return {static_cast<int>(std::clamp(std::floor(lo), 0.0, 1.0 * n)), static_cast<int>(std::clamp(std::ceil(hi), -1.0, n - 1.0))};
}

}  // namespace

Rgb class_colour(std::int64_t i) {
  static constexpr Rgb kTab10[kPaletteSize] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                               {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                               {188, 189, 34},  {23, 190, 207}};
  if (i < 0 || i >= kPaletteSize)
    throw std::invalid_argument("class_colour: class " + std::to_string(i) + " is outside the palette [0, " +
                                std::to_string(kPaletteSize) + ")");
  return kTab10[i];
}

Rgb mix(Rgb a, Rgb b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto channel = [t](std::uint8_t from, std::uint8_t to) {
    return static_cast<std::uint8_t>(std::lround(from + (to - from) * t));
  };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width < 1 || width > kMaxSide || height < 1 || height > kMaxSide)
    throw std::invalid_argument("Canvas: size " + std::to_string(width) + "x" + std::to_string(height) +
                                " is outside 1.." + std::to_string(kMaxSide) + " per side");
  pixels_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  for (std::size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = background.r;
    pixels_[i + 1] = background.g;
    pixels_[i + 2] = background.b;
  }
}

Rgb Canvas::pixel(int x, int y) const {
  if (x < 0 || x >= width_ || y < 0 || y >= height_)
    throw std::out_of_range("Canvas::pixel: (" + std::to_string(x) + ", " + std::to_string(y) + ") is outside the " +
                            std::to_string(width_) + "x" + std::to_string(height_) + " canvas");
  const std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + x) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::blend_pixel(int x, int y, Rgb colour, double alpha) {
  if (x < 0 || x >= width_ || y < 0 || y >= height_ || !(alpha > 0)) return;
  std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + x) * 3];
  Rgb out = mix({p[0], p[1], p[2]}, colour, std::min(alpha, 1.0));
  p[0] = out.r;
  p[1] = out.g;
  p[2] = out.b;
}

void Canvas::fill_rect(int x, int y, int w, int h, Rgb colour, double alpha) {
  int x1 = std::min(width_, x + std::max(w, 0)), y1 = std::min(height_, y + std::max(h, 0));
  for (int py = std::max(y, 0); py < y1; ++py)
    for (int px = std::max(x, 0); px < x1; ++px) blend_pixel(px, py, colour, alpha);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb colour, double thickness, double alpha) {
  check_finite("line", {x0, y0, x1, y1, thickness, alpha});
  const double reach = thickness / 2 + 0.5;  // coverage falls from 1 to 0 over the last pixel
  const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  auto [ya, yb] = span(std::min(y0, y1) - reach, std::max(y0, y1) + reach, height_);
  for (int py = ya; py <= yb; ++py) {
    double lo = std::min(x0, x1) - reach, hi = std::max(x0, x1) + reach;
    if (std::abs(dy) > 1) {  // only pixels near the infinite line can be covered: keeps long diagonals cheap
      double xc = x0 + (py - y0) * dx / dy, half = reach * std::sqrt(len2) / std::abs(dy);
      lo = std::max(lo, xc - half - 1);
      hi = std::min(hi, xc + half + 1);
    }
    auto [xa, xb] = span(lo, hi, width_);
    for (int px = xa; px <= xb; ++px) {
      double t = len2 > 0 ? std::clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0.0, 1.0) : 0.0;
      double d = std::hypot(px - (x0 + t * dx), py - (y0 + t * dy));
      blend_pixel(px, py, colour, alpha * std::clamp(reach - d, 0.0, 1.0));
    }
  }
}

void Canvas::dot(double cx, double cy, double radius, Rgb colour, double alpha) {
  check_finite("dot", {cx, cy, radius, alpha});
  auto [xa, xb] = span(cx - radius - 1, cx + radius + 1, width_);
  auto [ya, yb] = span(cy - radius - 1, cy + radius + 1, height_);
  for (int py = ya; py <= yb; ++py)
    for (int px = xa; px <= xb; ++px)
      blend_pixel(px, py, colour, alpha * std::clamp(radius + 0.5 - std::hypot(px - cx, py - cy), 0.0, 1.0));
}

void Canvas::circle(double cx, double cy, double radius, Rgb colour, double thickness, double alpha) {
  check_finite("circle", {cx, cy, radius, thickness, alpha});
  const double reach = thickness / 2 + 0.5;
  auto [xa, xb] = span(cx - radius - reach, cx + radius + reach, width_);
  auto [ya, yb] = span(cy - radius - reach, cy + radius + reach, height_);
  for (int py = ya; py <= yb; ++py)
    for (int px = xa; px <= xb; ++px)
      blend_pixel(px, py, colour, alpha * std::clamp(reach - std::abs(std::hypot(px - cx, py - cy) - radius), 0.0, 1.0));
}

void Canvas::text(int x, int y, std::string_view s, Rgb colour, int scale, TextDirection direction) {
  if (scale < 1) throw std::invalid_argument("Canvas::text: scale " + std::to_string(scale) + " is below 1");
  std::string chars = printable(s);
  std::vector<char> quads(chars.size() * kQuadBytesPerChar);
  int n = stb_easy_font_print(0, 0, chars.data(), nullptr, quads.data(), static_cast<int>(quads.size()));
  for (int q = 0; q < n; ++q) {
    // Vertices 0 and 2 of each quad are its top-left and bottom-right corners, in whole font pixels.
    float v0[2], v2[2];
    std::memcpy(v0, &quads[static_cast<std::size_t>(q) * 64], sizeof v0);
    std::memcpy(v2, &quads[static_cast<std::size_t>(q) * 64 + 32], sizeof v2);
    int fx0 = static_cast<int>(v0[0]) * scale, fy0 = static_cast<int>(v0[1]) * scale;
    int fx1 = static_cast<int>(v2[0]) * scale, fy1 = static_cast<int>(v2[1]) * scale;
    if (direction == TextDirection::horizontal)
      fill_rect(x + fx0, y + fy0, fx1 - fx0, fy1 - fy0, colour);
    else  // turned a quarter counter-clockwise: font x runs up from y, font y runs right from x
      fill_rect(x + fy0, y - fx1, fy1 - fy0, fx1 - fx0, colour);
  }
}

int Canvas::text_width(std::string_view s, int scale) {
  std::string chars = printable(s);
  return stb_easy_font_width(chars.data()) * scale;
}

int Canvas::text_height(std::string_view s, int scale) {
  std::string chars = printable(s);
  return stb_easy_font_height(chars.data()) * scale;
}

std::vector<std::uint8_t> Canvas::encode_png() const {
  std::vector<std::uint8_t> out;
  auto append = [](void* context, void* data, int size) {
    auto* bytes = static_cast<std::uint8_t*>(data);
    static_cast<std::vector<std::uint8_t>*>(context)->insert(static_cast<std::vector<std::uint8_t>*>(context)->end(),
                                                             bytes, bytes + size);
  };
  if (!stbi_write_png_to_func(append, &out, width_, height_, 3, pixels_.data(), width_ * 3))
    throw std::runtime_error("Canvas::encode_png: stb_image_write failed on a " + std::to_string(width_) + "x" +
                             std::to_string(height_) + " image");
  return out;
}

void Canvas::save_png(const std::string& path) const {
  std::vector<std::uint8_t> png = encode_png();
  write_file_atomic(path, {reinterpret_cast<const char*>(png.data()), png.size()});
}

}  // namespace zg
