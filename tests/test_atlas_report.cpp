// The margin atlas's report: every figure readable, and the page in headless Chromium (every
// image loaded, not blank, no text overflowing, figures at their own size at 1280 px, the
// training player changing what is drawn). The 3-D report is tests/test_margins.cpp's.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "zoograd/tests/browser.h"
#include "zoograd/tests/figure_checks.h"
#include "zoograd/tests/small_atlas.h"
#include "zoograd/train/atlas/atlas_figures.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::read_file;
using zg_tests::expect_readable;
using zg_tests::SmallAtlas;

constexpr const char* kNoChromium = "chromium is not installed; scripts/setup installs it (apt-get install chromium)";


TEST(AtlasReport, EveryFigureIsReadable) {
  SmallAtlas flat(2);
  const MarginsResult& r = flat.result;
  const std::vector<std::string>& names = r.class_names;
  std::vector<AtlasView> finals, starts;
  for (const PanelResult& p : r.panels) {
    finals.push_back(final_view(p));
    starts.push_back(snapshot_view(p, p.snapshots.front()));
    expect_readable(feature_plane_figure(finals.back(), names), p.panel.name + " plane");
    expect_readable(unit_circle_figure(finals.back(), names), p.panel.name + " circle");
    expect_readable(unit_circle_figure(starts.back(), names), p.panel.name + " circle at step 0");
    expect_readable(angle_histogram_figure(p), p.panel.name + " angles");
    const Figure curves = training_curves_figure(p);
    expect_readable(curves, p.panel.name + " curves");
    EXPECT_EQ(curves.axes().size(), 2u);  // loss and accuracy on their own axes
  }
  expect_readable(comparison_figure("planes", starts, AtlasViewKind::plane, names), "planes at step 0");
  expect_readable(angle_comparison_figure(r), "angles");
  const Figure circles = comparison_figure("circles", finals, AtlasViewKind::circle, names);
  expect_readable(circles, "circles");
  ASSERT_EQ(circles.axes().size(), 2u);
  // The same scale in every panel, and each panel titled with the loss and its test accuracy.
  EXPECT_EQ(circles.axes()[0].x1 - circles.axes()[0].x0, circles.axes()[1].x1 - circles.axes()[1].x0);
  char accuracy[16];
  std::snprintf(accuracy, sizeof accuracy, "%.4f", r.panels[1].test_accuracy);
  EXPECT_EQ(circles.axes()[1].title, std::string("CosFace s=16 m=0.1: test accuracy ") + accuracy);
  // Training changed the picture: the first frame and the final figure differ.
  const std::string out = flat.options.out;
  EXPECT_NE(read_file(fs::path(out) / "frame_circles_00.png"), read_file(fs::path(out) / "circles.png"));
}

TEST(AtlasReport, ThePagePlaysTrainingInHeadlessChromium) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  SmallAtlas atlas(2);
  const std::string page = (fs::path(atlas.options.out) / "index.html").string();
  std::size_t images = 0;
  for (const std::string& f : atlas.files) images += f.ends_with(".png") && !f.starts_with("frame_");
  const zg_tests::PageRender start = zg_tests::render_page(page);
  EXPECT_CONTAINS(start.dom, "data-images=\"" + std::to_string(images) + " of " + std::to_string(images) + " loaded\"");
  EXPECT_CONTAINS(start.dom, "data-overflow=\"none\"");
  EXPECT_CONTAINS(start.dom, "data-smallest-image-scale=\"1.000\"");  // figures at their own size: text >= 14 px
  EXPECT_FALSE(zg_tests::looks_blank(start));
  EXPECT_EQ(zg_tests::attribute_of(start.dom, "cmp-circles", "src"), "circles.png");

  // The slider at the start of training shows the first frames, and the screen changes with them.
  const zg_tests::PageRender first = zg_tests::render_page(
      page, 1280, 2400, "const t = document.getElementById('time'); t.value = 0; t.dispatchEvent(new Event('input'));");
  EXPECT_EQ(zg_tests::attribute_of(first.dom, "cmp-circles", "src"), "frame_circles_00.png");
  EXPECT_EQ(zg_tests::attribute_of(first.dom, "cmp-planes", "src"), "frame_planes_00.png");
  EXPECT_CONTAINS(zg_tests::text_of(first.dom, "time-label"), "step 0 of 100");
  EXPECT_CONTAINS(first.dom, "data-images=\"" + std::to_string(images) + " of " + std::to_string(images) + " loaded\"");
  EXPECT_NE(first.rgb, start.rgb);

  // Play runs through every moment, moving both comparison images together, and stops at the end.
  const zg_tests::PageRender played = zg_tests::render_page(page, 1280, 2400, R"(
    const seen = [];
    document.addEventListener("zg-drawn", () => seen.push(document.getElementById("cmp-circles").getAttribute("src") + "|" +
                                                          document.getElementById("cmp-planes").getAttribute("src")));
    window.addEventListener("load", () => {
      document.getElementById("play").click();
      setTimeout(() => { document.body.dataset.seen = seen.join(","); }, 9000);
    });)");
  std::string expected;
  for (int k = 0; k < 9; ++k)
    expected += "frame_circles_0" + std::to_string(k) + ".png|frame_planes_0" + std::to_string(k) + ".png,";
  EXPECT_CONTAINS(played.dom, "data-seen=\"" + expected + "circles.png|planes.png");
  EXPECT_CONTAINS(zg_tests::text_of(played.dom, "play"), "play training");  // stopped
}

}  // namespace
