#include "zoograd/train/plot/figure.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <numbers>
#include <stdexcept>

#include "zoograd/core/io/serialize.h"

namespace zg {

namespace {

constexpr double kMaxSide = 16384;
constexpr const char* kFont = "DejaVu Sans";
constexpr double kPointsPerPixel = 0.75;  // CSS: 96 pixels to the inch, 72 points

std::string show(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void set_colour(cairo_t* cr, Rgb c, double alpha) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, std::clamp(alpha, 0.0, 1.0));
}

void set_font(cairo_t* cr, double size, bool bold) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

// A context on a 1x1 image, for measuring text before it is drawn (one per thread: Cairo
// contexts are not shared between threads).
cairo_t* measuring_context() {
  struct Holder {
    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
    cairo_t* cr = cairo_create(surface);
    ~Holder() {
      cairo_destroy(cr);
      cairo_surface_destroy(surface);
    }
  };
  thread_local Holder holder;
  return holder.cr;
}

cairo_font_extents_t font_extents(double size) {
  cairo_t* cr = measuring_context();
  set_font(cr, size, false);
  cairo_font_extents_t e;
  cairo_font_extents(cr, &e);
  return e;
}

cairo_status_t append_bytes(void* out, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(out)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check_status(cairo_status_t status, const std::string& what) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(what + ": Cairo reports " + cairo_status_to_string(status));
}

}  // namespace

struct DrawState {
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  ~DrawState() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }
};

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

const char* extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::svg: return "svg";
    case ImageFormat::png: return "png";
    case ImageFormat::pdf: return "pdf";
  }
  return "";
}

ImageFormat parse_image_format(const std::string& name) {
  for (ImageFormat f : kAllFormats)
    if (name == extension(f)) return f;
  throw std::invalid_argument("unknown image format \"" + name + "\"; choose svg, png or pdf");
}

Figure::Figure(double width, double height, Rgb background) : width_(width), height_(height) {
  if (!(width >= 1 && width <= kMaxSide && height >= 1 && height <= kMaxSide))
    throw std::invalid_argument("Figure: size " + show(width) + "x" + show(height) + " is outside 1.." +
                                show(kMaxSide) + " per side");
  cairo_rectangle_t extents{0, 0, width, height};
  state_ = std::make_unique<DrawState>();
  state_->surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
  state_->cr = cairo_create(state_->surface);
  check_status(cairo_status(state_->cr), "Figure");
  fill_rect(0, 0, width, height, background);
}

Figure::Figure(double width, double height, double x, double y, double scale)
    : width_(width), height_(height), layer_x_(x), layer_y_(y), layer_scale_(scale) {
  const int w = static_cast<int>(std::ceil(width * scale)), h = static_cast<int>(std::ceil(height * scale));
  state_ = std::make_unique<DrawState>();
  state_->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, std::max(w, 1), std::max(h, 1));
  state_->cr = cairo_create(state_->surface);
  check_status(cairo_status(state_->cr), "Figure::raster_layer");
  cairo_scale(state_->cr, scale, scale);
  cairo_translate(state_->cr, -x, -y);
}

Figure::~Figure() = default;
Figure::Figure(Figure&&) noexcept = default;
Figure& Figure::operator=(Figure&&) noexcept = default;

void Figure::check_finite(const char* what, std::initializer_list<double> values) const {
  for (double v : values)
    if (!std::isfinite(v)) throw std::invalid_argument(std::string("Figure::") + what + ": non-finite argument " + show(v));
}

void Figure::fill_rect(double x, double y, double w, double h, Rgb colour, double alpha) {
  check_finite("fill_rect", {x, y, w, h, alpha});
  cairo_t* cr = state_->cr;
  cairo_rectangle(cr, x, y, w, h);
  set_colour(cr, colour, alpha);
  cairo_fill(cr);
}

void Figure::stroke_rect(double x, double y, double w, double h, Rgb colour, double width) {
  check_finite("stroke_rect", {x, y, w, h, width});
  cairo_t* cr = state_->cr;
  cairo_rectangle(cr, x, y, w, h);
  set_colour(cr, colour, 1);
  cairo_set_line_width(cr, width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
  cairo_stroke(cr);
}

void Figure::line(double x0, double y0, double x1, double y1, Rgb colour, double width, bool dashed, double alpha) {
  polyline({{x0, y0}, {x1, y1}}, colour, width, dashed, alpha);
}

void Figure::polyline(const std::vector<std::pair<double, double>>& points, Rgb colour, double width, bool dashed,
                      double alpha) {
  check_finite("polyline", {width, alpha});
  for (const auto& [x, y] : points) check_finite("polyline", {x, y});
  if (points.size() < 2) return;
  cairo_t* cr = state_->cr;
  cairo_move_to(cr, points[0].first, points[0].second);
  for (std::size_t i = 1; i < points.size(); ++i) cairo_line_to(cr, points[i].first, points[i].second);
  set_colour(cr, colour, alpha);
  cairo_set_line_width(cr, width);
  // Butt caps keep a dashed line's gaps open; round ones keep solid joints smooth.
  cairo_set_line_cap(cr, dashed ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  const double dash[] = {8, 5};
  cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
}

void Figure::fill_polygon(const std::vector<std::pair<double, double>>& points, Rgb colour, double alpha) {
  check_finite("fill_polygon", {alpha});
  for (const auto& [x, y] : points) check_finite("fill_polygon", {x, y});
  if (points.size() < 3) return;
  cairo_t* cr = state_->cr;
  cairo_move_to(cr, points[0].first, points[0].second);
  for (std::size_t i = 1; i < points.size(); ++i) cairo_line_to(cr, points[i].first, points[i].second);
  cairo_close_path(cr);
  set_colour(cr, colour, alpha);
  cairo_fill(cr);
}

void Figure::circle(double cx, double cy, double radius, Rgb colour, double width, double alpha) {
  check_finite("circle", {cx, cy, radius, width, alpha});
  cairo_t* cr = state_->cr;
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx, cy, std::max(radius, 0.0), 0, 2 * std::numbers::pi);
  set_colour(cr, colour, alpha);
  cairo_set_line_width(cr, width);
  cairo_stroke(cr);
}

void Figure::disc(double cx, double cy, double radius, Rgb colour, double alpha) {
  check_finite("disc", {cx, cy, radius, alpha});
  cairo_t* cr = state_->cr;
  cairo_new_sub_path(cr);
  cairo_arc(cr, cx, cy, std::max(radius, 0.0), 0, 2 * std::numbers::pi);
  set_colour(cr, colour, alpha);
  cairo_fill(cr);
}

void Figure::arrow(double x0, double y0, double x1, double y1, Rgb colour, double width, double head) {
  check_finite("arrow", {x0, y0, x1, y1, width, head});
  const double length = std::hypot(x1 - x0, y1 - y0);
  if (length == 0) return;
  const double ux = (x1 - x0) / length, uy = (y1 - y0) / length, h = std::min(head, length);
  line(x0, y0, x1 - ux * h * 0.8, y1 - uy * h * 0.8, colour, width);
  fill_polygon({{x1, y1}, {x1 - ux * h - uy * h * 0.45, y1 - uy * h + ux * h * 0.45},
                {x1 - ux * h + uy * h * 0.45, y1 - uy * h - ux * h * 0.45}},
               colour);
}

void Figure::push_clip(double x, double y, double w, double h) {
  check_finite("push_clip", {x, y, w, h});
  cairo_save(state_->cr);
  cairo_rectangle(state_->cr, x, y, w, h);
  cairo_clip(state_->cr);
}

void Figure::pop_clip() { cairo_restore(state_->cr); }

TextBox Figure::text(double x, double y, const std::string& s, double size, Anchor anchor, Rgb colour, bool bold,
                     TextDirection direction) {
  check_finite("text", {x, y, size});
  if (size < kMinTextSize)
    throw std::invalid_argument("Figure::text: size " + show(size) + " of \"" + s + "\" is below the minimum " +
                                show(kMinTextSize));
  const double advance = text_width(s, size, bold);
  const double start = anchor == Anchor::left ? 0 : anchor == Anchor::centre ? -advance / 2 : -advance;
  const double up = ascent(size), down = descent(size);
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  set_font(cr, size, bold);
  set_colour(cr, colour, 1);
  cairo_translate(cr, x, y);
  TextBox box{s, x + start, y - up, x + start + advance, y + down, size};
  if (direction == TextDirection::up) {
    // (u, v) along and across the text lands on (x + v, y - u).
    cairo_rotate(cr, -std::numbers::pi / 2);
    box = {s, x - up, y - start - advance, x + down, y - start, size};
  }
  cairo_move_to(cr, start, 0);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
  texts_.push_back(box);
  return box;
}

double Figure::text_width(const std::string& s, double size, bool bold) {
  cairo_t* cr = measuring_context();
  set_font(cr, size, bold);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

double Figure::ascent(double size) { return font_extents(size).ascent; }
double Figure::descent(double size) { return font_extents(size).descent; }

std::vector<std::string> Figure::wrap(const std::string& s, double size, double width, bool bold) {
  std::vector<std::string> lines;
  std::string current;
  std::size_t at = 0;
  while (at < s.size()) {
    std::size_t end = s.find(' ', at);
    if (end == std::string::npos) end = s.size();
    const std::string word = s.substr(at, end - at);
    at = end + 1;
    if (word.empty()) continue;
    const std::string longer = current.empty() ? word : current + " " + word;
    if (current.empty() || text_width(longer, size, bold) <= width) {
      current = longer;
    } else {
      lines.push_back(current);
      current = word;
    }
  }
  if (!current.empty() || lines.empty()) lines.push_back(current);
  return lines;
}

void Figure::image(const std::vector<Rgba>& pixels, int w, int h, double x, double y, double box_w, double box_h,
                   bool smooth) {
  check_finite("image", {x, y, box_w, box_h});
  if (w < 1 || h < 1 || pixels.size() != static_cast<std::size_t>(w) * static_cast<std::size_t>(h))
    throw std::invalid_argument("Figure::image: " + std::to_string(pixels.size()) + " pixels for " + std::to_string(w) +
                                "x" + std::to_string(h));
  cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  check_status(cairo_surface_status(img), "Figure::image");
  cairo_surface_flush(img);
  unsigned char* data = cairo_image_surface_get_data(img);
  const int stride = cairo_image_surface_get_stride(img);
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < w; ++i) {
      const Rgba p = pixels[static_cast<std::size_t>(j) * static_cast<std::size_t>(w) + static_cast<std::size_t>(i)];
      auto pre = [&](std::uint8_t c) { return static_cast<std::uint32_t>((c * p.a + 127) / 255); };
      const std::uint32_t argb = std::uint32_t{p.a} << 24 | pre(p.r) << 16 | pre(p.g) << 8 | pre(p.b);
      std::memcpy(data + static_cast<std::ptrdiff_t>(j) * stride + 4 * i, &argb, 4);
    }
  cairo_surface_mark_dirty(img);
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  cairo_rectangle(cr, x, y, box_w, box_h);
  cairo_clip(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, box_w / w, box_h / h);
  cairo_set_source_surface(cr, img, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), smooth ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
  cairo_surface_destroy(img);
}

Figure Figure::raster_layer(double x, double y, double w, double h, double scale) const {
  check_finite("raster_layer", {x, y, w, h, scale});
  if (!(w > 0 && h > 0 && scale > 0 && w * scale <= kMaxSide && h * scale <= kMaxSide))
    throw std::invalid_argument("Figure::raster_layer: " + show(w) + "x" + show(h) + " at scale " + show(scale) +
                                " is outside 1.." + show(kMaxSide) + " pixels per side");
  return Figure(w, h, x, y, scale);
}

void Figure::paint_layer(const Figure& layer) {
  if (layer.layer_scale_ <= 0) throw std::invalid_argument("Figure::paint_layer: the figure is not a raster layer");
  cairo_surface_flush(layer.state_->surface);
  cairo_t* cr = state_->cr;
  cairo_save(cr);
  cairo_rectangle(cr, layer.layer_x_, layer.layer_y_, layer.width_, layer.height_);
  cairo_clip(cr);
  cairo_translate(cr, layer.layer_x_, layer.layer_y_);
  cairo_scale(cr, 1 / layer.layer_scale_, 1 / layer.layer_scale_);
  cairo_set_source_surface(cr, layer.state_->surface, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
  cairo_paint(cr);
  cairo_restore(cr);
  texts_.insert(texts_.end(), layer.texts_.begin(), layer.texts_.end());
}

std::string Figure::render(ImageFormat format) const {
  if (layer_scale_ > 0) throw std::invalid_argument("Figure::render: a raster layer is painted into a figure, not rendered");
  check_status(cairo_status(state_->cr), "Figure::render");
  std::string out;
  cairo_surface_t* target = nullptr;
  double scale = 1;
  if (format == ImageFormat::svg) {
    target = cairo_svg_surface_create_for_stream(append_bytes, &out, width_, height_);
    cairo_svg_surface_set_document_unit(target, CAIRO_SVG_UNIT_PX);
  } else if (format == ImageFormat::pdf) {
    scale = kPointsPerPixel;
    target = cairo_pdf_surface_create_for_stream(append_bytes, &out, width_ * scale, height_ * scale);
    cairo_pdf_surface_set_metadata(target, CAIRO_PDF_METADATA_CREATOR, "zoograd");
  } else {
    target = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(std::ceil(width_)),
                                        static_cast<int>(std::ceil(height_)));
  }
  cairo_t* cr = cairo_create(target);
  cairo_scale(cr, scale, scale);
  cairo_set_source_surface(cr, state_->surface, 0, 0);
  cairo_paint(cr);
  cairo_status_t status = cairo_status(cr);
  cairo_destroy(cr);
  if (status == CAIRO_STATUS_SUCCESS && format == ImageFormat::png)
    status = cairo_surface_write_to_png_stream(target, append_bytes, &out);
  cairo_surface_finish(target);
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(target);
  cairo_surface_destroy(target);
  check_status(status, std::string("Figure::render (") + extension(format) + ")");
  return out;
}

std::vector<std::string> save_figure(const Figure& figure, const std::string& dir, const std::string& stem,
                                     const std::vector<ImageFormat>& formats) {
  std::vector<std::string> names;
  for (ImageFormat f : formats) {
    const std::string name = stem + "." + extension(f);
    write_file_atomic((std::filesystem::path(dir) / name).string(), figure.render(f));
    names.push_back(name);
  }
  return names;
}

}  // namespace zg
