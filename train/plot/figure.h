#pragma once
// The one drawing path of zoograd's pictures. A Figure is drawn once, through Cairo, onto a
// recording surface, and rendered from that recording as SVG, PNG or PDF, with text set in DejaVu
// Sans (Debian's fonts-dejavu-core, found through fontconfig). Coordinates are CSS pixels, x
// rightwards and y downwards; a PNG has one pixel per unit, so a figure up to 1240 units wide
// shows at its own size on a 1280-pixel screen.
//
// A figure remembers the box of every text it draws and every plot area the plot code registers
// (data ranges, axis labels, the series drawn), so tests can check that no text is clipped or too
// small, that geometry has equal aspect and that every axis is labelled.
//
// Of zoograd's own code it uses only core/io/serialize.h, to write its files.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace zg {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kInk{30, 30, 30};       // text and frames
inline constexpr Rgb kGuide{90, 90, 90};     // reference circles and lines
inline constexpr Rgb kGridGrey{220, 220, 220};

// tab10, matplotlib's qualitative palette: colours stay distinguishable for up to 10 classes.
inline constexpr int kPaletteSize = 10;
// Throws std::invalid_argument unless 0 <= i < kPaletteSize.
Rgb class_colour(std::int64_t i);
// a moved towards b by t in [0, 1], rounded per channel.
Rgb mix(Rgb a, Rgb b, double t);

// The smallest text any figure may use: readable on a slide and on a 1280-pixel screen.
inline constexpr double kMinTextSize = 14;

enum class Anchor { left, centre, right };  // where x is along the text
enum class TextDirection { horizontal, up };  // up: turned a quarter counter-clockwise (y-axis labels)

// The extent a text covers, in figure units (after turning, for upward text).
struct TextBox {
  std::string text;
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double size = 0;
};

// A plot area as the plot code drew it: pixel box, data box and labels.
struct AxesRecord {
  std::string title, x_label, y_label;
  double left = 0, top = 0, right = 0, bottom = 0;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool x_log = false, y_log = false;
  bool equal_aspect = false;             // one data unit spans as many pixels on both axes
  std::vector<std::string> series;       // labels of what was drawn in it
};

// RGBA pixels for Figure::image, row-major, alpha not premultiplied.
struct Rgba {
  std::uint8_t r = 0, g = 0, b = 0, a = 0;
};

enum class ImageFormat { svg, png, pdf };
const char* extension(ImageFormat format);  // "svg", "png", "pdf"
// "svg", "png" or "pdf"; throws std::invalid_argument naming the value and the choices.
ImageFormat parse_image_format(const std::string& name);
inline const std::vector<ImageFormat> kAllFormats = {ImageFormat::svg, ImageFormat::png, ImageFormat::pdf};

struct DrawState;  // the Cairo surface and context behind a figure

class Figure {
 public:
  // Throws std::invalid_argument unless both sides are in [1, 16384].
  Figure(double width, double height, Rgb background = kWhite);
  ~Figure();
  Figure(Figure&&) noexcept;
  Figure& operator=(Figure&&) noexcept;

  double width() const { return width_; }
  double height() const { return height_; }

  // Every coordinate, size and alpha must be finite, else std::invalid_argument naming it.
  void fill_rect(double x, double y, double w, double h, Rgb colour, double alpha = 1);
  void stroke_rect(double x, double y, double w, double h, Rgb colour, double width = 1);
  void line(double x0, double y0, double x1, double y1, Rgb colour, double width = 1.5, bool dashed = false,
            double alpha = 1);
  // Joined segments; the dash pattern runs on across the joints.
  void polyline(const std::vector<std::pair<double, double>>& points, Rgb colour, double width = 2,
                bool dashed = false, double alpha = 1);
  void fill_polygon(const std::vector<std::pair<double, double>>& points, Rgb colour, double alpha = 1);
  void circle(double cx, double cy, double radius, Rgb colour, double width = 1.5, double alpha = 1);
  void disc(double cx, double cy, double radius, Rgb colour, double alpha = 1);
  // A line with a filled head at (x1, y1).
  void arrow(double x0, double y0, double x1, double y1, Rgb colour, double width = 1.5, double head = 7);

  // Clips what is drawn until pop_clip to a rectangle (nested clips intersect).
  void push_clip(double x, double y, double w, double h);
  void pop_clip();

  // Text with its baseline at y; x is its left end, centre or right end per anchor (for upward
  // text, along the turned text). Returns the box it covers, which the figure also remembers.
  // Sizes below kMinTextSize throw std::invalid_argument naming the text.
  TextBox text(double x, double y, const std::string& s, double size, Anchor anchor = Anchor::left,
               Rgb colour = kInk, bool bold = false, TextDirection direction = TextDirection::horizontal);
  static double text_width(const std::string& s, double size, bool bold = false);
  static double ascent(double size);   // above the baseline
  static double descent(double size);  // below the baseline
  // Words of s in lines no wider than width (a single longer word stays whole on its own line).
  static std::vector<std::string> wrap(const std::string& s, double size, double width, bool bold = false);

  // Pixels (w x h) stretched over the box; smooth interpolates, otherwise each pixel stays a
  // sharp square (class regions).
  void image(const std::vector<Rgba>& pixels, int w, int h, double x, double y, double box_w, double box_h,
             bool smooth);
  // A layer for dense point clouds, drawn with this class's functions in this figure's
  // coordinates but held as pixels (`scale` per unit) over the box: a vector format then stores
  // one image instead of every point. Paint it back with paint_layer.
  Figure raster_layer(double x, double y, double w, double h, double scale = 2) const;
  void paint_layer(const Figure& layer);

  const std::vector<TextBox>& texts() const { return texts_; }
  const std::vector<AxesRecord>& axes() const { return axes_; }
  void add_axes(AxesRecord record) { axes_.push_back(std::move(record)); }

  // The picture in a format: an SVG or PDF document, or PNG bytes.
  std::string render(ImageFormat format) const;

 private:
  Figure(double width, double height, double x, double y, double scale);  // a raster layer
  void check_finite(const char* what, std::initializer_list<double> values) const;

  double width_, height_;
  double layer_x_ = 0, layer_y_ = 0, layer_scale_ = 0;  // layer_scale_ > 0: a raster layer
  std::unique_ptr<DrawState> state_;
  std::vector<TextBox> texts_;
  std::vector<AxesRecord> axes_;
};

// Renders the figure in each format and writes dir/stem.<ext> with write_file_atomic (core/io/serialize.h),
// so a path never holds a partial picture; returns the file names written.
std::vector<std::string> save_figure(const Figure& figure, const std::string& dir, const std::string& stem,
                                     const std::vector<ImageFormat>& formats = kAllFormats);

}  // namespace zg
