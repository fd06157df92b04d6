// The PNG canvas and plots: exact pixel colours after each drawing call, text confined to its
// measured box, PNG round trips through stb_image, atomic saving, what each plot draws where, and
// invalid arguments named in the error.
#include <gtest/gtest.h>

#include <stb/stb_image.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <numbers>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/generator.h"
#include "tests/test_util.h"
#include "train/canvas.h"
#include "train/plots.h"

namespace {

using namespace zg;
using zg_tests::error_of;

constexpr Rgb kRed{200, 30, 40};

bool near(Rgb a, Rgb b, int tolerance) {
  return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance && std::abs(a.b - b.b) <= tolerance;
}

// The pixels (x, y) for which keep(x, y, colour) holds.
std::vector<std::pair<int, int>> pixels_where(const Canvas& c, const std::function<bool(int, int, Rgb)>& keep) {
  std::vector<std::pair<int, int>> found;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x)
      if (keep(x, y, c.pixel(x, y))) found.emplace_back(x, y);
  return found;
}

std::vector<std::pair<int, int>> pixels_of(const Canvas& c, Rgb colour) {
  return pixels_where(c, [&](int, int, Rgb p) { return p == colour; });
}

TEST(Canvas, StartsWhiteAndFillRectColoursExactlyItsRectangle) {
  Canvas c(20, 10);
  EXPECT_EQ(c.pixel(0, 0), kWhite);
  c.fill_rect(2, 3, 4, 5, kRed);
  EXPECT_EQ(c.pixel(2, 3), kRed);
  EXPECT_EQ(c.pixel(5, 7), kRed);
  EXPECT_EQ(c.pixel(6, 7), kWhite);
  EXPECT_EQ(c.pixel(2, 8), kWhite);
  EXPECT_EQ(pixels_of(c, kRed).size(), 20u);
  c.fill_rect(-5, -5, 7, 7, kBlack);  // clipped to the canvas
  EXPECT_EQ(c.pixel(1, 1), kBlack);
  EXPECT_EQ(c.pixel(2, 2), kWhite);
  EXPECT_EQ(pixels_of(c, kBlack).size(), 4u);
  EXPECT_CONTAINS(error_of([&] { c.pixel(20, 0); }), "(20, 0) is outside the 20x10 canvas");
}

TEST(Canvas, BlendingHalfwayGivesTheMidColour) {
  Canvas c(4, 4, Rgb{0, 0, 0});
  c.blend_pixel(1, 1, Rgb{200, 100, 51}, 0.5);
  EXPECT_TRUE(near(c.pixel(1, 1), Rgb{100, 50, 25}, 1));
  c.blend_pixel(2, 2, kWhite, 0.5);
  EXPECT_TRUE(near(c.pixel(2, 2), Rgb{127, 127, 127}, 1));
  c.blend_pixel(3, 3, kWhite, 7);  // alpha clamps to 1
  EXPECT_EQ(c.pixel(3, 3), kWhite);
  c.blend_pixel(-1, 40, kWhite, 1);  // outside: ignored
  EXPECT_EQ(mix(kBlack, kWhite, 0.25), (Rgb{64, 64, 64}));
}

TEST(Canvas, DotCoversItsCentreWithAnAntiAliasedEdge) {
  Canvas c(40, 40);
  c.dot(10, 10, 2, kBlack);
  EXPECT_EQ(c.pixel(10, 10), kBlack);
  EXPECT_EQ(c.pixel(11, 10), kBlack);
  EXPECT_TRUE(near(c.pixel(10, 12), Rgb{127, 127, 127}, 1));  // distance 2 = radius: half covered
  EXPECT_EQ(c.pixel(10, 13), kWhite);
  EXPECT_EQ(c.pixel(30, 30), kWhite);
  // Translucent dots accumulate, so dense regions of a scatter look darker.
  c.dot(30, 30, 2, kBlack, 0.5);
  Rgb once = c.pixel(30, 30);
  c.dot(30, 30, 2, kBlack, 0.5);
  EXPECT_TRUE(near(once, Rgb{127, 127, 127}, 1));
  EXPECT_TRUE(near(c.pixel(30, 30), Rgb{64, 64, 64}, 1));
}

TEST(Canvas, LinesAndCirclesCoverTheirPixelsOnly) {
  Canvas c(60, 60);
  c.line(5, 10, 40, 10, kRed, 2);
  EXPECT_EQ(c.pixel(5, 10), kRed);
  EXPECT_EQ(c.pixel(20, 10), kRed);
  EXPECT_EQ(c.pixel(40, 10), kRed);
  EXPECT_EQ(c.pixel(20, 12), kWhite);
  EXPECT_EQ(c.pixel(43, 10), kWhite);
  c.line(0, 20, 39, 59, kBlack, 1.5);  // a diagonal
  EXPECT_EQ(c.pixel(20, 40), kBlack);
  EXPECT_EQ(c.pixel(20, 44), kWhite);
  c.line(30, 30, 1e12, -1e12, kBlack);  // far endpoints are clipped, not overflowed
  EXPECT_EQ(c.pixel(35, 25), kBlack);
  c.line(58, 50, 2, 50 + 1e-14, kBlack);  // nearly horizontal: a ray at angle pi
  EXPECT_EQ(c.pixel(20, 50), kBlack);
  EXPECT_EQ(c.pixel(20, 52), kWhite);

  Canvas ring(60, 60);
  ring.circle(30, 30, 20, kBlack, 1);
  EXPECT_EQ(ring.pixel(50, 30), kBlack);
  EXPECT_EQ(ring.pixel(30, 10), kBlack);
  EXPECT_EQ(ring.pixel(30, 30), kWhite);
  EXPECT_EQ(ring.pixel(52, 30), kWhite);
}

TEST(Canvas, TextDrawsOnlyInsideItsMeasuredBox) {
  std::string all;
  for (char ch = ' '; ch <= '~'; ++ch) all += ch;
  for (const std::string& s : {std::string("Angle 0-180, gjpqy"), all, std::string("two\nlines")})
    for (int scale : {1, 3})
      for (TextDirection direction : {TextDirection::horizontal, TextDirection::up}) {
        const bool up = direction == TextDirection::up;
        const int w = Canvas::text_width(s, scale), h = Canvas::text_height(s, scale);
        // The box, (x, by0) to (x + bx, by0 + by), with 20 pixels of margin all round.
        const int bx = up ? h : w, by = up ? w : h, x = 20, by0 = 20, y = up ? by0 + w : by0;
        Canvas c(bx + 40, by + 40);
        c.text(x, y, s, kBlack, scale, direction);
        auto inside = pixels_where(c, [&](int px, int py, Rgb p) {
          return p == kBlack && px >= x && px < x + bx && py >= by0 && py < by0 + by;
        });
        EXPECT_GT(inside.size(), static_cast<std::size_t>(10 * scale * scale)) << s;
        EXPECT_EQ(pixels_of(c, kBlack).size(), inside.size()) << s << " scale " << scale;
        EXPECT_EQ(pixels_where(c, [](int, int, Rgb p) { return p != kBlack && p != kWhite; }).size(), 0u);
      }
  EXPECT_EQ(Canvas::text_width("ab", 2), 2 * Canvas::text_width("ab"));
  EXPECT_EQ(Canvas::text_height("a\nb"), 2 * Canvas::text_height("a"));
  // Bytes outside printable ASCII would index past stb_easy_font's tables: they show as '?'.
  EXPECT_EQ(Canvas::text_width("\x01\x7f\xc3\xa9"), Canvas::text_width("????"));
  Canvas c(80, 20);
  c.text(2, 2, "\x01\x7f\xc3\xa9", kBlack);
  Canvas q(80, 20);
  q.text(2, 2, "????", kBlack);
  EXPECT_EQ(c.pixels(), q.pixels());
}

TEST(Canvas, EncodePngRoundTripsThroughStbImage) {
  Canvas c(37, 23, Rgb{10, 20, 30});
  c.fill_rect(3, 4, 10, 5, class_colour(1));
  c.line(0, 0, 36, 22, class_colour(2), 2, 0.7);
  c.dot(30, 5, 3, class_colour(3), 0.4);
  c.text(2, 12, "png", kWhite);
  const std::vector<std::uint8_t> png = c.encode_png();
  int w = 0, h = 0, channels = 0;
  stbi_uc* decoded = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &w, &h, &channels, 3);
  ASSERT_NE(decoded, nullptr) << stbi_failure_reason();
  EXPECT_EQ(w, 37);
  EXPECT_EQ(h, 23);
  EXPECT_EQ(channels, 3);
  EXPECT_EQ(std::vector<std::uint8_t>(decoded, decoded + 37 * 23 * 3), c.pixels());
  stbi_image_free(decoded);
}

TEST(Canvas, SavePngWritesAtomicallyAndNamesThePathOnFailure) {
  zg_tests::TempDir dir;
  Canvas c(16, 8);
  c.dot(4, 4, 2, kRed);
  const std::string path = dir / "picture.png";
  c.save_png(path);
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, c.encode_png());

  const std::string missing = dir / "no-such-folder/picture.png";
  std::string error = error_of([&] { c.save_png(missing); });
  EXPECT_CONTAINS(error, missing + ": ");
  EXPECT_CONTAINS(error, "No such file or directory");
  // A folder in the way of the rename: the old entry stays and the temporary file is removed.
  const std::string taken = dir / "taken.png";
  std::filesystem::create_directories(taken + "/inside");
  EXPECT_CONTAINS(error_of([&] { c.save_png(taken); }), taken + ": rename failed");
  EXPECT_TRUE(std::filesystem::is_directory(taken));
  std::vector<std::string> left;  // no temporary file beside them
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) left.push_back(entry.path().filename());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"picture.png", "taken.png"}));
}

TEST(Canvas, ClassColoursAreTab10AndInvalidArgumentsThrowWithTheValue) {
  EXPECT_EQ(class_colour(0), (Rgb{31, 119, 180}));
  EXPECT_EQ(class_colour(9), (Rgb{23, 190, 207}));
  std::set<std::tuple<int, int, int>> distinct;
  for (int i = 0; i < kPaletteSize; ++i) distinct.insert({class_colour(i).r, class_colour(i).g, class_colour(i).b});
  EXPECT_EQ(distinct.size(), 10u);
  EXPECT_CONTAINS(error_of([] { class_colour(10); }), "class 10 is outside the palette [0, 10)");
  EXPECT_CONTAINS(error_of([] { class_colour(-1); }), "class -1");
  EXPECT_CONTAINS(error_of([] { Canvas(0, 10); }), "size 0x10");
  EXPECT_CONTAINS(error_of([] { Canvas(10, -3); }), "size 10x-3");
  EXPECT_CONTAINS(error_of([] { Canvas(20000, 10); }), "size 20000x10");
  Canvas c(10, 10);
  EXPECT_CONTAINS(error_of([&] { c.text(0, 0, "a", kBlack, 0); }), "scale 0");
  EXPECT_CONTAINS(error_of([&] { c.line(0, NAN, 3, 3, kBlack); }), "non-finite argument nan");
  EXPECT_CONTAINS(error_of([&] { c.dot(INFINITY, 0, 1, kBlack); }), "Canvas::dot: non-finite argument inf");
}

// ---- plots ----

TEST(Plot, ScatterShadesEachRegionInItsClassColourAndPlacesPoints) {
  ScatterPlot p;
  p.region = [](double x, double) -> std::int64_t { return x < 0 ? 2 : 5; };
  p.x_range = {-2, 2};
  p.y_range = {-2, 2};
  p.x = {1};
  p.y = {1};
  p.labels = {3};
  p.point_radius = 4;
  p.point_alpha = 1;
  const Canvas c = scatter_plot_png(p, 400, 400);
  // The plot area is symmetric about x = 0, the middle of [64, 380].
  const Rgb left = mix(kWhite, class_colour(2), 0.2), right = mix(kWhite, class_colour(5), 0.2);
  int left_hits = 0, right_hits = 0;
  for (int x = 80; x < 210; ++x) left_hits += c.pixel(x, 300) == left;
  for (int x = 235; x < 365; ++x) right_hits += c.pixel(x, 300) == right;
  EXPECT_GT(left_hits, 110);
  EXPECT_GT(right_hits, 110);
  // The point (1, 1) lies in the upper-right quadrant of the plot area.
  auto point = pixels_of(c, class_colour(3));
  ASSERT_GT(point.size(), 20u);
  for (auto [x, y] : point) {
    EXPECT_GT(x, 222);
    EXPECT_LT(y, 196);
  }
  // A dashed black ray to the left edge along y = 0.
  p.rays = {ray_at_angle(std::numbers::pi, kBlack, true)};
  const Canvas with_ray = scatter_plot_png(p, 400, 400);
  int on_ray = 0;
  for (int x = 66; x < 220; ++x) on_ray += with_ray.pixel(x, 196) == kBlack;
  EXPECT_GT(on_ray, 50);
  EXPECT_LT(on_ray, 140);  // the gaps
}

TEST(Plot, ScatterRejectsInvalidPointsWithTheValue) {
  ScatterPlot p;
  p.x = {0, 1};
  p.y = {0, 1};
  p.labels = {0, 1, 2};
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p); }), "scatter_plot_png: x has 2 values but labels has 3");
  p.labels = {0, 10};
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p); }), "labels[1] = 10 is outside the palette [0, 10)");
  p.labels = {0, 1};
  p.y[0] = NAN;
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p); }), "y[0] is nan");
  p.y[0] = 0;
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p, 0, 600); }), "size 0x600");
  p.x_range = {2, 1};
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p); }), "x range [2, 1] is not a finite lo < hi");
  p.x_range = {};
  p.rays = {Ray{0, 0}};
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p); }), "rays[0] is the zero vector");
  p.rays = {};
  p.region = [](double, double) -> std::int64_t { return 11; };
  EXPECT_CONTAINS(error_of([&] { scatter_plot_png(p); }), ") = 11 is outside the palette");
}

TEST(Plot, HistogramBinsCountValuesInRange) {
  EXPECT_EQ(bin_counts({0, 10, 19.9, 20, 179, 180, 200, -1}, 0, 180, 9),
            (std::vector<double>{3, 1, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_CONTAINS(error_of([] { bin_counts({1, NAN}, 0, 1, 2); }), "values[1] is nan");
  EXPECT_CONTAINS(error_of([] { bin_counts({}, 0, 1, 0); }), "bins 0");
  EXPECT_CONTAINS(error_of([] { bin_counts({}, 5, 5, 3); }), "range [5, 5]");

  Histogram h;
  h.bins = 10;
  h.series = {{"own", {}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 10}}};
  const Canvas c = histogram_png(h, 600, 400);
  // Only the last bin, the right tenth of the plot area, holds the bar's translucent fill.
  auto bar = pixels_of(c, mix(kWhite, class_colour(0), h.alpha));
  EXPECT_GT(bar.size(), 5000u);
  for (auto [x, y] : bar) EXPECT_GT(x, 64 + (580 - 64) * 9 / 10 - 1);

  h.series = {{"own", {1}, {1}}};
  EXPECT_CONTAINS(error_of([&] { histogram_png(h); }), "series 'own' has both counts and values");
  h.series = {{"other", {}, {1, 2, 3}}};
  EXPECT_CONTAINS(error_of([&] { histogram_png(h); }), "series 'other' has 3 counts for 10 bins");
}

TEST(Plot, LineChartUsesTheSvgColoursAndClipsToFixedRanges) {
  LineChart chart;
  chart.series = {{"loss", {0, 1, 2, 3}, {3, 2, 1, 0.5}}, {"accuracy", {0, 1, 2, 3}, {0.1, 0.5, 10, 0.9}}};
  chart.series[1].dashed = true;
  chart.y_max = 4;
  const Canvas c = line_chart_png(chart, 520, 340);
  EXPECT_GT(pixels_of(c, class_colour(0)).size(), 100u);
  auto red = pixels_of(c, class_colour(3));
  EXPECT_GT(red.size(), 50u);
  // The spike to 10 is cut at the top of the plot area (y = 40); the legend's swatches are inside it.
  for (auto [x, y] : red) EXPECT_GE(y, 39);

  // Given ticks replace the round ones. Column 60 crosses only the y axis's tick marks.
  auto tick_marks = [](const Canvas& chart_png) {
    int n = 0;
    for (int y = 40; y <= 292; ++y) n += chart_png.pixel(60, y) == Rgb{30, 30, 30};
    return n;
  };
  EXPECT_EQ(tick_marks(c), 5);  // 0, 1, 2, 3, 4
  chart.y_ticks = {2, 3.5, 9};  // 9 is outside the range [-0.395, 4]
  EXPECT_EQ(tick_marks(line_chart_png(chart, 520, 340)), 2);
  chart.y_ticks = {NAN};
  EXPECT_CONTAINS(error_of([&] { line_chart_png(chart); }), "y tick is nan");
  chart.y_ticks = {};

  chart.series = {{"short", {0, 1, 2}, {1, 2}}};
  EXPECT_CONTAINS(error_of([&] { line_chart_png(chart); }), "series 'short' has 3 x values but 2 y values");
  chart.series = {{"flat", {0, 1}, {1, 1}}};
  chart.y_min = 5;
  EXPECT_CONTAINS(error_of([&] { line_chart_png(chart); }), "y range [5, 4] is not a finite lo < hi");
}

TEST(Plot, SphereDrawsTheFarHemisphereFaded) {
  SpherePlot p;
  p.azimuth_deg = 0;  // looking along -x: y runs right, z up
  p.elevation_deg = 0;
  p.x = {1, -1};
  p.y = {0.5, -0.5};
  p.z = {0.5, -0.5};
  p.labels = {3, 3};
  p.point_radius = 4;
  p.point_alpha = 1;
  const Canvas c = sphere_plot_png(p, 400, 400);
  auto front = pixels_of(c, class_colour(3)), back = pixels_of(c, mix(class_colour(3), kWhite, p.back_fade));
  ASSERT_GT(front.size(), 20u);
  ASSERT_GT(back.size(), 20u);
  for (auto [x, y] : front) EXPECT_TRUE(x > 200 && y < 215) << x << "," << y;
  for (auto [x, y] : back) EXPECT_TRUE(x < 200 && y > 215) << x << "," << y;
  p.z[1] = NAN;
  EXPECT_CONTAINS(error_of([&] { sphere_plot_png(p); }), "z[1] is nan");
  p.x[1] = p.y[1] = p.z[1] = 0;
  EXPECT_CONTAINS(error_of([&] { sphere_plot_png(p); }), "point 1 has length 0 and no direction");
}

TEST(Plot, ScatterOf10000PointsWithRegionsAt600x600) {
  Generator gen(3);
  const int classes = 10;
  ScatterPlot p;
  for (int i = 0; i < 10000; ++i) {
    const int k = i % classes;
    const double angle = 2 * std::numbers::pi * k / classes, r = 3 + gen.normal();
    p.x.push_back(r * std::cos(angle) + 0.4 * gen.normal());
    p.y.push_back(r * std::sin(angle) + 0.4 * gen.normal());
    p.labels.push_back(k);
  }
  // The argmax of a linear head with unit weights at the class angles.
  p.region = [&](double x, double y) -> std::int64_t {
    std::int64_t best = 0;
    double best_logit = -INFINITY;
    for (int k = 0; k < classes; ++k) {
      const double angle = 2 * std::numbers::pi * k / classes, logit = x * std::cos(angle) + y * std::sin(angle);
      if (logit > best_logit) best = k, best_logit = logit;
    }
    return best;
  };
  for (int k = 0; k < classes; ++k) {
    p.rays.push_back(ray_at_angle(2 * std::numbers::pi * k / classes, class_colour(k)));
    p.class_names.push_back("digit " + std::to_string(k));
  }
  p.title = "10,000 features";
  const auto start = std::chrono::steady_clock::now();
  const Canvas c = scatter_plot_png(p, 600, 600);
  const auto drawn = std::chrono::steady_clock::now();
  const std::vector<std::uint8_t> png = c.encode_png();
  const auto encoded = std::chrono::steady_clock::now();
  using ms = std::chrono::duration<double, std::milli>;
  std::cout << "[ timing   ] 600x600 scatter, 10000 points with regions: drawn in " << ms(drawn - start).count()
            << " ms, PNG encoded in " << ms(encoded - drawn).count() << " ms (" << png.size() << " bytes)\n";
  EXPECT_EQ(c.width(), 600);
  for (int k = 0; k < classes; ++k) EXPECT_GT(pixels_of(c, class_colour(k)).size(), 50u) << k;
}

}  // namespace
