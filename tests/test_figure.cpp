// The drawing path: a Figure drawn once through Cairo renders as SVG, PNG and PDF with real text,
// remembers where its text went, refuses what cannot be drawn, and is written atomically.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <iterator>
#include <fstream>

#include "zoograd/tests/figure_checks.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/train/plot/figure.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::read_file;
using zg_tests::error_of;
using zg_tests::decode_png;
using zg_tests::Decoded;
using zg_tests::TempDir;


Figure sample_figure() {
  Figure f(320, 200);
  f.fill_rect(10, 10, 100, 60, class_colour(0));
  f.line(10, 150, 300, 150, class_colour(3), 4);
  f.text(160, 120, "θ₁ = 90° (‖W‖ = 1)", 16, Anchor::centre);
  return f;
}

TEST(Figure, RendersThreeFormatsOfTheSameDrawing) {
  const Figure f = sample_figure();
  const Decoded png = decode_png(f.render(ImageFormat::png));
  EXPECT_EQ(png.width, 320);
  EXPECT_EQ(png.height, 200);
  EXPECT_EQ(png.at(50, 40), class_colour(0));  // inside the rectangle
  EXPECT_EQ(png.at(200, 150), class_colour(3));  // on the line
  EXPECT_EQ(png.at(300, 20), kWhite);            // the background
  const std::string svg = f.render(ImageFormat::svg);
  EXPECT_TRUE(svg.starts_with("<?xml"));
  EXPECT_CONTAINS(svg, "width=\"320px\" height=\"200px\"");  // CSS pixels, so a page shows it at its size
  EXPECT_CONTAINS(svg, "<symbol overflow=\"visible\" id=\"glyph");  // the text as DejaVu glyph outlines
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  const std::string pdf = f.render(ImageFormat::pdf);
  EXPECT_TRUE(pdf.starts_with("%PDF-"));
  EXPECT_CONTAINS(pdf, "+DejaVuSans");         // the font embedded: real, selectable text
  EXPECT_CONTAINS(pdf, "/MediaBox [ 0 0 240 150 ]");  // 320x200 px at 96 px to the inch, in points
}

TEST(Figure, RemembersTheBoxOfEveryText) {
  Figure f(400, 300);
  const double w = Figure::text_width("loss (nats)", 15);
  EXPECT_GT(w, 60);
  EXPECT_LT(w, 110);
  const TextBox left = f.text(20, 50, "loss (nats)", 15);
  EXPECT_DOUBLE_EQ(left.x0, 20);
  EXPECT_DOUBLE_EQ(left.x1, 20 + w);
  EXPECT_NEAR(left.y0, 50 - Figure::ascent(15), 1e-9);
  EXPECT_NEAR(left.y1, 50 + Figure::descent(15), 1e-9);
  const TextBox right = f.text(380, 100, "loss (nats)", 15, Anchor::right);
  EXPECT_DOUBLE_EQ(right.x1, 380);
  // Turned upwards about (30, 200), centred there: it spans the width vertically.
  const TextBox up = f.text(30, 200, "loss (nats)", 15, Anchor::centre, kInk, false, TextDirection::up);
  EXPECT_NEAR(up.y0, 200 - w / 2, 1e-9);
  EXPECT_NEAR(up.y1, 200 + w / 2, 1e-9);
  EXPECT_NEAR(up.x0, 30 - Figure::ascent(15), 1e-9);
  ASSERT_EQ(f.texts().size(), 3u);
  EXPECT_EQ(f.texts()[2].text, "loss (nats)");
  // The drawn glyphs lie inside the remembered box.
  const Decoded png = decode_png(f.render(ImageFormat::png));
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x)
      if (png.at(x, y) != kWhite) {
        bool inside = false;
        for (const TextBox& b : f.texts()) inside = inside || (x + 1 >= b.x0 && x <= b.x1 && y + 1 >= b.y0 && y <= b.y1);
        ASSERT_TRUE(inside) << "ink at (" << x << ", " << y << ") outside every text box";
      }
}

TEST(Figure, WrapsWordsToAWidth) {
  const std::vector<std::string> lines =
      Figure::wrap("softmax with bias: angle between feature and class weight", 16, 200);
  ASSERT_GE(lines.size(), 2u);
  std::string joined;
  for (const std::string& l : lines) {
    EXPECT_LE(Figure::text_width(l, 16), 200) << l;
    joined += (joined.empty() ? "" : " ") + l;
  }
  EXPECT_EQ(joined, "softmax with bias: angle between feature and class weight");
  EXPECT_EQ(Figure::wrap("", 16, 100), std::vector<std::string>{""});
  EXPECT_EQ(Figure::wrap("unbreakable_long_word", 16, 10), std::vector<std::string>{"unbreakable_long_word"});
}

TEST(Figure, RefusesWhatCannotBeDrawnNamingTheValue) {
  EXPECT_CONTAINS(error_of([] { Figure(0, 10); }), "size 0x10 is outside 1..16384");
  EXPECT_CONTAINS(error_of([] { Figure(10, 1e6); }), "outside 1..16384");
  Figure f(100, 100);
  EXPECT_CONTAINS(error_of([&] { f.line(0, 0, NAN, 1, kBlack); }), "non-finite argument nan");
  EXPECT_CONTAINS(error_of([&] { f.disc(INFINITY, 0, 1, kBlack); }), "Figure::disc: non-finite argument inf");
  EXPECT_CONTAINS(error_of([&] { f.text(0, 20, "tiny", 9); }), "size 9 of \"tiny\" is below the minimum 14");
  EXPECT_CONTAINS(error_of([&] { f.image({}, 2, 2, 0, 0, 10, 10, false); }), "0 pixels for 2x2");
  EXPECT_CONTAINS(error_of([] { class_colour(10); }), "class 10 is outside the palette [0, 10)");
  EXPECT_CONTAINS(error_of([] { parse_image_format("jpeg"); }), "unknown image format \"jpeg\"; choose svg, png or pdf");
  EXPECT_EQ(parse_image_format("pdf"), ImageFormat::pdf);
  EXPECT_EQ(mix(kBlack, kWhite, 0.5), (Rgb{128, 128, 128}));
}

TEST(Figure, ImagesAndRasterLayersLandWhereTheyAreAsked) {
  Figure f(200, 100);
  // Two pixels, red and clear, stretched over [0, 100) x [0, 100).
  f.image({{255, 0, 0, 255}, {0, 0, 0, 0}}, 2, 1, 0, 0, 100, 100, false);
  Figure layer = f.raster_layer(100, 0, 100, 100);
  layer.disc(150, 50, 20, class_colour(2));
  f.paint_layer(layer);
  const Decoded png = decode_png(f.render(ImageFormat::png));
  EXPECT_EQ(png.at(25, 50), (Rgb{255, 0, 0}));
  EXPECT_EQ(png.at(75, 50), kWhite);
  EXPECT_EQ(png.at(150, 50), class_colour(2));  // the disc, in the figure's own coordinates
  EXPECT_EQ(png.at(110, 10), kWhite);
  // In SVG the layer is one embedded image, not one element per point.
  EXPECT_CONTAINS(f.render(ImageFormat::svg), "data:image/png;base64,");
  EXPECT_CONTAINS(error_of([&] { layer.render(ImageFormat::png); }), "a raster layer is painted into a figure");
}

TEST(Figure, SaveWritesEachFormatAtomicallyAndNamesThePathOnFailure) {
  TempDir dir;
  const Figure f = sample_figure();
  EXPECT_EQ(save_figure(f, dir.path().string(), "sample"), (std::vector<std::string>{"sample.svg", "sample.png", "sample.pdf"}));
  for (const char* name : {"sample.svg", "sample.png", "sample.pdf"}) EXPECT_TRUE(fs::exists(dir / name)) << name;
  EXPECT_EQ(read_file(dir / "sample.png"), f.render(ImageFormat::png));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 3);  // no temporary file
  EXPECT_EQ(save_figure(f, dir.path().string(), "only", {ImageFormat::pdf}), std::vector<std::string>{"only.pdf"});

  // An existing file survives a failed write untouched, and the error names it.
  std::ofstream(dir / "keep.png") << "old";
  ASSERT_EQ(::chmod(dir.path().c_str(), 0500), 0);
  const std::string error = error_of([&] { write_file_atomic(dir / "keep.png", "new"); });
  ::chmod(dir.path().c_str(), 0700);
  if (::geteuid() != 0) {  // root writes anyway
    EXPECT_CONTAINS(error, (dir / "keep.png") + ": ");
    EXPECT_EQ(read_file(dir / "keep.png"), "old");
  }
  EXPECT_CONTAINS(error_of([&] { write_file_atomic(dir / "no/such/folder.png", "x"); }), "no/such/folder.png");
}

}  // namespace
