// The plots: layouts that keep every text inside the figure, linear and log axes, equal aspect,
// regions and points where the data says, and clear errors for data that cannot be plotted.
#include <gtest/gtest.h>

#include <cmath>

#include "zoograd/tests/figure_checks.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/plot/plots.h"

namespace {

using namespace zg;
using zg_tests::error_of;
using zg_tests::expect_readable;

TEST(Plots, LongTitlesAndLabelsWrapInsideTheirBox) {
  LineChart chart{.title = "softmax with bias: angle between feature and class weight, measured on every test image",
                  .x = {"true-class logit z_y with the other two logits fixed at 0 (nats; z_y < 0: misclassified)"},
                  .y = {"|dℓ/dz_y| (loss per logit unit)"},
                  .series = {{"a series with a rather long legend label", {0, 1, 2}, {0, 1, 4}}},
                  .legend = LegendPlace::outside};
  const Figure f = line_chart(chart, 520, 380);
  expect_readable(f, "long labels");
  ASSERT_EQ(f.axes().size(), 1u);
  const AxesRecord& a = f.axes()[0];
  EXPECT_GT(a.right - a.left, 100);
  EXPECT_GT(a.bottom - a.top, 100);
  EXPECT_CONTAINS(error_of([&] { line_chart(chart, 120, 100); }), "leaves no room to plot");
}

TEST(Plots, LogAxesTickPowersOfTenAndSkipNonPositivePoints) {
  EXPECT_EQ(log_ticks(1e-3, 20), (std::vector<double>{1e-3, 1e-2, 1e-1, 1, 10}));
  EXPECT_EQ(log_ticks(1e-30, 2).size(), 7u);  // every fifth decade: 10⁻³⁰ ... 10⁰
  EXPECT_EQ(power_of_ten(1e-30), "10⁻³⁰");
  EXPECT_EQ(power_of_ten(100), "10²");
  EXPECT_EQ(power_of_ten(1), "1");
  EXPECT_EQ(power_of_ten(0.5), "0.5");
  LineChart chart{.title = "bound", .x = {"s (logit units)"}, .y = {"loss (nats, log scale)", {}, {}, {}, true},
                  .series = {{"curve", {1, 2, 3, 4}, {1, 1e-3, 0, 1e-9}}}};
  const Figure f = line_chart(chart);
  expect_readable(f, "log chart");
  const AxesRecord& a = f.axes().at(0);
  EXPECT_TRUE(a.y_log);
  EXPECT_LE(a.y0, 1e-9);  // the zero is left out of the range
  EXPECT_GE(a.y1, 1);
  chart.y.min = 0;
  EXPECT_CONTAINS(error_of([&] { line_chart(chart); }), "is not a finite lo < hi above 0");
}

TEST(Plots, EqualAspectGivesBothAxesOneScale) {
  for (bool fixed : {false, true}) {
    LineChart chart{.title = "circle", .x = {"s_n (cosine)"}, .y = {"s_p (cosine)"},
                    .series = {{"line", {0, 1}, {0, 0.5}}}, .equal_aspect = true};
    if (fixed) chart.x.min = chart.y.min = 0, chart.x.max = chart.y.max = 1;
    const Figure f = line_chart(chart, 700, 400);
    expect_readable(f, fixed ? "fixed ranges" : "data ranges");
    const AxesRecord& a = f.axes().at(0);
    EXPECT_TRUE(a.equal_aspect);
    if (fixed) {  // the area shrinks to a square instead of widening a range
      EXPECT_DOUBLE_EQ(a.x0, 0);
      EXPECT_DOUBLE_EQ(a.x1, 1);
      EXPECT_NEAR(a.right - a.left, a.bottom - a.top, 1e-9);
    }
  }
}

TEST(Plots, ScatterShadesRegionsAndPlacesPointsInTheirClassColour) {
  ScatterPlot p{.title = "regions", .x = {"x (units)", -1.0, 1.0}, .y = {"y (units)", -1.0, 1.0}};
  p.px = {0.5}, p.py = {0.5}, p.labels = {2}, p.class_names = {"a", "b", "c"};
  p.point_radius = 6, p.point_alpha = 1, p.region_alpha = 1;
  p.region = [](const std::vector<double>& x, const std::vector<double>&) {
    std::vector<int> r;
    for (double v : x) r.push_back(v < 0 ? 0 : 1);
    return r;
  };
  Figure f = scatter_plot(p, 500, 400);
  expect_readable(f, "scatter");
  const AxesRecord& a = f.axes().at(0);
  const zg_tests::Decoded png = zg_tests::decode_png(f.render(ImageFormat::png));
  auto px = [&](double x) { return a.left + (x - a.x0) / (a.x1 - a.x0) * (a.right - a.left); };
  auto py = [&](double y) { return a.bottom - (y - a.y0) / (a.y1 - a.y0) * (a.bottom - a.top); };
  EXPECT_EQ(png.at(px(0.5), py(0.5)), class_colour(2));    // the point, over the shading
  EXPECT_EQ(png.at(px(-0.45), py(-0.65)), class_colour(0));  // region 0 left of x = 0 (off the grid lines)
  EXPECT_EQ(png.at(px(0.65), py(-0.65)), class_colour(1));  // region 1 right of it
  p.labels = {12};
  EXPECT_CONTAINS(error_of([&] { scatter_plot(p); }), "labels[0] = 12 is outside the palette [0, 10)");
  p.labels = {1}, p.px = {NAN};
  EXPECT_CONTAINS(error_of([&] { scatter_plot(p); }), "x[0] is nan");
  p.px = {0.5}, p.rays = {{0, 0}};
  EXPECT_CONTAINS(error_of([&] { scatter_plot(p); }), "rays[0] is the zero vector (0, 0)");
  p.rays = {}, p.region = [](const std::vector<double>& x, const std::vector<double>&) { return std::vector<int>(x.size(), 11); };
  EXPECT_CONTAINS(error_of([&] { scatter_plot(p); }), "is outside the 10 colours");
}

TEST(Plots, HistogramsBinValuesAndLineChartsCheckTheirSeries) {
  EXPECT_EQ(bin_counts({0, 5, 9.99, 10, 180, 181, -1}, 0, 180, 18), ([] {
              std::vector<double> c(18);
              c[0] = 3, c[1] = 1, c[17] = 1;
              return c;
            })());
  EXPECT_CONTAINS(error_of([] { bin_counts({NAN}, 0, 1, 2); }), "values[0] is nan");
  EXPECT_CONTAINS(error_of([] { bin_counts({}, 1, 1, 2); }), "bin range [1, 1] is not a finite lo < hi");
  Histogram h{.title = "angles", .x = {"angle (degrees)"}, .y = {"share (%)"},
              .series = {{"own", {10, 20, 20}, {}}, {"other", {90}, {}}}, .percent = true};
  expect_readable(histogram(h), "histogram");
  h.series[0].counts = {1};
  EXPECT_CONTAINS(error_of([&] { histogram(h); }), "has both counts and values");
  LineChart bad{.title = "bad", .x = {"x (units)"}, .y = {"y (units)"}, .series = {{"s", {1, 2}, {1}}}};
  EXPECT_CONTAINS(error_of([&] { line_chart(bad); }), "series 's' has 2 x values but 1 y values");
}

TEST(Plots, SphereConfusionAndGridsStayReadable) {
  SpherePlot s{.title = "sphere", .x = {1, -1}, .y = {0, 0}, .z = {0, 0}, .labels = {0, 1}, .class_names = {"a", "b"},
               .rays = {{0, 0, 1, class_colour(0)}}};
  expect_readable(sphere_plot(s), "sphere");
  s.x = {0, 0}, s.y = {0, 0}, s.z = {0, 0};
  EXPECT_CONTAINS(error_of([&] { sphere_plot(s); }), "point 0 has length 0 and no direction");
  const Figure c = confusion_matrix({{50, 2, 0}, {3, 40, 7}, {0, 0, 60}}, {"T-shirt/top", "Trouser", "Ankle boot"},
                                    "confusion matrix (test set)");
  expect_readable(c, "confusion");
  EXPECT_CONTAINS(error_of([] { confusion_matrix({{1, 2}}, {}, "x"); }), "row 0 has 2 counts for 1 classes");
  std::vector<Panel> panels;
  for (int k = 0; k < 5; ++k)
    panels.push_back([k](Figure& f, Box b) {
      draw_line_chart(f, b, {.title = "panel " + std::to_string(k), .x = {"x (units)"}, .y = {"y (units)"},
                             .series = {{"s", {0, 1}, {0, double(k)}}}, .legend = LegendPlace::none});
    });
  const Figure g = grid_figure("five panels", panels, 4, 300, 300, class_legend({"zero", "one", "two"}));
  expect_readable(g, "grid");
  EXPECT_EQ(g.axes().size(), 5u);
  EXPECT_DOUBLE_EQ(g.width(), 4 * 300 + 16);
}

}  // namespace
