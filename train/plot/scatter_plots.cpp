// The scatter plots of train/plot/plots.h: class-coloured points with regions and rays, and points on
// the unit sphere.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numbers>
#include <stdexcept>

#include "zoograd/train/plot/plots.h"

namespace zg {

namespace {

[[noreturn]] void fail(const char* where, const std::string& what) {
  throw std::invalid_argument(std::string(where) + ": " + what);
}

using Coordinates = std::initializer_list<std::pair<const char*, const std::vector<double>*>>;

void check_points(const char* where, Coordinates coordinates, const std::vector<std::int64_t>& labels,
                  const std::vector<std::string>& class_names) {
  for (auto [name, values] : coordinates) {
    if (values->size() != labels.size())
      fail(where, std::string(name) + " has " + std::to_string(values->size()) + " values but labels has " +
                      std::to_string(labels.size()));
    for (std::size_t i = 0; i < values->size(); ++i)
      if (!std::isfinite((*values)[i]))
        fail(where, std::string(name) + "[" + std::to_string(i) + "] is " + format_number((*values)[i]));
  }
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= kPaletteSize)
      fail(where, "labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) + " is outside the palette [0, " +
                      std::to_string(kPaletteSize) + ")");
  if (class_names.size() > kPaletteSize)
    fail(where, std::to_string(class_names.size()) + " class names for a palette of " + std::to_string(kPaletteSize));
}

std::vector<Rgb> palette() {
  std::vector<Rgb> colours;
  for (int k = 0; k < kPaletteSize; ++k) colours.push_back(class_colour(k));
  return colours;
}

}  // namespace

Ray ray_at_angle(double radians, Rgb colour, bool dashed) { return {std::cos(radians), std::sin(radians), colour, true, dashed}; }

void draw_scatter(Figure& f, Box box, const ScatterPlot& p) {
  const char* where = "scatter_plot";
  check_points(where, {{"x", &p.px}, {"y", &p.py}}, p.labels, p.class_names);
  // The extent covers the origin, where rays start, and whatever else is drawn.
  double xlo = p.unit_circle ? -1 : 0, xhi = -xlo, ylo = xlo, yhi = xhi;
  auto extend = [&](double x, double y) {
    xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
  };
  for (std::size_t i = 0; i < p.px.size(); ++i) extend(p.px[i], p.py[i]);
  for (std::size_t k = 0; k < p.rays.size(); ++k) {
    const Ray& r = p.rays[k];
    const std::string name = "rays[" + std::to_string(k) + "]";
    if (!std::isfinite(r.dx) || !std::isfinite(r.dy)) fail(where, name + " is not finite");
    if (r.dx == 0 && r.dy == 0) fail(where, name + " is the zero vector (0, 0)");
    if (!r.to_edge) extend(r.dx, r.dy);
  }
  const std::vector<LegendEntry> legend = class_legend(p.class_names);
  const Axes a(box, p.title, p.x, p.y, xlo, xhi, ylo, yhi, legend, p.legend, true);
  if (p.region) shade_region(f, a, p.region, p.region_colours.empty() ? palette() : p.region_colours, p.region_alpha);
  a.draw_grid(f);
  if (p.unit_circle) f.circle(a.px(0), a.py(0), a.px(1) - a.px(0), kGuide, 1.5);
  a.clip(f);
  Figure cloud = f.raster_layer(a.left(), a.top(), a.right() - a.left(), a.bottom() - a.top());
  for (std::size_t i = 0; i < p.px.size(); ++i)
    if (a.inside(p.px[i], p.py[i]))
      cloud.disc(a.px(p.px[i]), a.py(p.py[i]), p.point_radius, class_colour(p.labels[i]), p.point_alpha);
  f.paint_layer(cloud);
  // Far enough to leave the data box from anywhere inside it.
  const double edge = 4 * std::max({std::abs(a.x0()), std::abs(a.x1()), std::abs(a.y0()), std::abs(a.y1())});
  for (const Ray& r : p.rays) {
    const double scale = r.to_edge ? edge / std::hypot(r.dx, r.dy) : 1;
    // A dark edge keeps a ray visible over the points of its own class.
    for (const auto& piece : a.to_pixels({0, r.dx * scale}, {0, r.dy * scale})) {
      f.polyline(piece, mix(r.colour, kBlack, 0.5), 3.5, r.dashed);
      f.polyline(piece, r.colour, 2, r.dashed);
    }
  }
  f.pop_clip();
  a.draw_frame(f, {"test features"});
}

Figure scatter_plot(const ScatterPlot& plot, double width, double height) {
  Figure f(width, height);
  draw_scatter(f, {0, 0, width, height}, plot);
  return f;
}

void draw_sphere(Figure& f, Box box, const SpherePlot& p) {
  const char* where = "sphere_plot";
  check_points(where, {{"x", &p.x}, {"y", &p.y}, {"z", &p.z}}, p.labels, p.class_names);
  if (!std::isfinite(p.azimuth_deg) || !std::isfinite(p.elevation_deg))
    fail(where, "view angles " + format_number(p.azimuth_deg) + ", " + format_number(p.elevation_deg) + " are not finite");
  const double az = p.azimuth_deg * std::numbers::pi / 180, el = p.elevation_deg * std::numbers::pi / 180;
  // Towards the viewer, and the screen's right and up directions.
  const double view[3] = {std::cos(el) * std::cos(az), std::cos(el) * std::sin(az), std::sin(el)};
  const double right[3] = {-std::sin(az), std::cos(az), 0};
  const double up[3] = {-std::sin(el) * std::cos(az), -std::sin(el) * std::sin(az), std::cos(el)};
  const std::vector<LegendEntry> legend = class_legend(p.class_names);
  const double legend_w = legend.empty() ? 0 : legend_width(legend) + 10;
  const std::vector<std::string> title = Figure::wrap(p.title, kTitleSize, box.w - 16);
  const double title_h = 8 + kTitleSize * 1.3 * static_cast<double>(title.size()) + 4;
  const double radius = std::max(10.0, std::min(box.w - legend_w - 24, box.h - title_h - 16) / 2);
  const double cx = box.x + (box.w - legend_w) / 2, cy = box.y + title_h + (box.h - title_h) / 2;
  struct Projected {
    double x, y, depth;
  };
  auto project = [&](const std::string& name, double x, double y, double z) {
    const double n = std::sqrt(x * x + y * y + z * z);
    if (!(n > 0) || !std::isfinite(n)) fail(where, name + " has length " + format_number(n) + " and no direction");
    x /= n, y /= n, z /= n;
    return Projected{cx + radius * (x * right[0] + y * right[1] + z * right[2]),
                     cy - radius * (x * up[0] + y * up[1] + z * up[2]), x * view[0] + y * view[1] + z * view[2]};
  };
  std::vector<Projected> points, tips;
  for (std::size_t i = 0; i < p.x.size(); ++i) points.push_back(project("point " + std::to_string(i), p.x[i], p.y[i], p.z[i]));
  for (std::size_t k = 0; k < p.rays.size(); ++k)
    tips.push_back(project("rays[" + std::to_string(k) + "]", p.rays[k].x, p.rays[k].y, p.rays[k].z));

  auto draw_side = [&](bool front) {
    Figure cloud = f.raster_layer(cx - radius - 4, cy - radius - 4, 2 * radius + 8, 2 * radius + 8);
    for (std::size_t i = 0; i < points.size(); ++i)
      if ((points[i].depth >= 0) == front) {
        const Rgb colour = class_colour(p.labels[i]);
        cloud.disc(points[i].x, points[i].y, p.point_radius, front ? colour : mix(colour, kWhite, p.back_fade), p.point_alpha);
      }
    f.paint_layer(cloud);
    for (std::size_t k = 0; k < tips.size(); ++k)
      if ((tips[k].depth >= 0) == front) {
        const Rgb colour = front ? p.rays[k].colour : mix(p.rays[k].colour, kWhite, p.back_fade);
        if (front) f.line(cx, cy, tips[k].x, tips[k].y, mix(colour, kBlack, 0.5), 3.5);
        f.line(cx, cy, tips[k].x, tips[k].y, colour, 2);
        f.disc(tips[k].x, tips[k].y, 3, colour);
      }
  };
  draw_side(false);
  // The equator shows the tilt: solid where it faces the viewer, faint behind.
  for (int s = 0; s < 180; ++s) {
    const double t0 = s * std::numbers::pi / 90, t1 = (s + 1) * std::numbers::pi / 90;
    const Projected a = project("equator", std::cos(t0), std::sin(t0), 0), b = project("equator", std::cos(t1), std::sin(t1), 0);
    f.line(a.x, a.y, b.x, b.y, kGuide, 1, false, a.depth >= 0 ? 0.8 : 0.25);
  }
  f.circle(cx, cy, radius, kGuide, 1.5);
  draw_side(true);
  draw_lines(f, box.x + box.w / 2, box.y + 8 + Figure::ascent(kTitleSize), title, kTitleSize);
  draw_legend(f, box.x + box.w - 8, box.y + title_h, legend);
  f.add_axes({p.title, "screen x (sphere radii)", "screen y (sphere radii)", cx - radius, cy - radius, cx + radius,
              cy + radius, -1, 1, -1, 1, false, false, true, {"test features"}});
}

Figure sphere_plot(const SpherePlot& plot, double width, double height) {
  Figure f(width, height);
  draw_sphere(f, {0, 0, width, height}, plot);
  return f;
}

}  // namespace zg
