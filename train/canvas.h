#pragma once
// A small RGB8 raster for the PNG pictures of a run: anti-aliased lines and dots with alpha
// blending, stb_easy_font text, and PNG encoding with stb_image_write.
//
// Coordinates are pixels, x rightwards and y downwards; pixel (i, j) is centred at (i, j), so a
// dot at (10, 10) covers pixel (10, 10). Everything drawn is clipped to the canvas.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zg {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};

// tab10, matplotlib's qualitative palette: colours stay distinguishable for up to 10 classes.
inline constexpr int kPaletteSize = 10;
// Throws std::invalid_argument unless 0 <= i < kPaletteSize.
Rgb class_colour(std::int64_t i);

// a moved towards b by t in [0, 1], rounded to the nearest integer per channel.
Rgb mix(Rgb a, Rgb b, double t);

enum class TextDirection { horizontal, up };

class Canvas {
 public:
  // Throws std::invalid_argument unless both sides are in [1, 16384].
  Canvas(int width, int height, Rgb background = kWhite);

  int width() const { return width_; }
  int height() const { return height_; }
  // Throws std::out_of_range outside the canvas.
  Rgb pixel(int x, int y) const;
  // Row-major RGB, 3 bytes per pixel.
  const std::vector<std::uint8_t>& pixels() const { return pixels_; }

  // Moves the pixel towards colour by alpha (clamped to [0, 1]).
  void blend_pixel(int x, int y, Rgb colour, double alpha = 1);
  void fill_rect(int x, int y, int w, int h, Rgb colour, double alpha = 1);
  // Round-capped and anti-aliased. Coordinates and sizes must be finite, else std::invalid_argument.
  void line(double x0, double y0, double x1, double y1, Rgb colour, double thickness = 1.5, double alpha = 1);
  // A filled disc with an anti-aliased edge; with alpha < 1 dense scatters show their density.
  void dot(double cx, double cy, double radius, Rgb colour, double alpha = 1);
  // An anti-aliased ring.
  void circle(double cx, double cy, double radius, Rgb colour, double thickness = 1, double alpha = 1);

  // stb_easy_font glyphs, each font pixel drawn as scale x scale pixels. Horizontal text fills the
  // box [x, x + text_width) x [y, y + text_height); text going up (for a y-axis label) fills
  // [x, x + text_height) x [y - text_width, y). Characters outside printable ASCII show as '?'.
  void text(int x, int y, std::string_view s, Rgb colour, int scale = 1,
            TextDirection direction = TextDirection::horizontal);
  static int text_width(std::string_view s, int scale = 1);
  static int text_height(std::string_view s, int scale = 1);

  std::vector<std::uint8_t> encode_png() const;
  // Writes with write_file_atomic (core/serialize.h): throws std::runtime_error naming path and the
  // reason on failure, leaving any existing file at path untouched and no temporary file.
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace zg
