// The HTML reports in a real browser: headless Chromium loads a page's PNG images from disk, the
// shared image-check script reports in the DOM how many loaded and names the missing ones, and
// the screenshot shows the page (while an empty page's screenshot counts as blank).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "zoograd/tests/browser.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/core/io/serialize.h"
#include "zoograd/train/plot/figure.h"
#include "zoograd/train/plot/html.h"

namespace {

using namespace zg;
using zg_tests::looks_blank;
using zg_tests::PageRender;
using zg_tests::render_page;
using zg_tests::TempDir;
namespace fs = std::filesystem;

constexpr const char* kNoChromium = "chromium is not installed; scripts/setup installs it (apt-get install chromium)";

// Writes dir/index.html with body and the image-check script, as the reports do.
std::string write_page(const TempDir& dir, const std::string& body) {
  std::ofstream(dir / "index.html") << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>test</title>"
                                    << "</head><body>\n" << body << page_check_script() << "</body></html>\n";
  return dir / "index.html";
}

void save_picture(const std::string& path, Rgb colour) {
  Figure f(240, 160);
  f.fill_rect(20, 20, 200, 120, colour);
  f.line(20, 140, 220, 20, kBlack, 4);
  write_file_atomic(path, f.render(ImageFormat::png));
}

TEST(Browser, RendersAPageWhoseImagesAllLoad) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  TempDir dir;
  save_picture(dir / "a.png", class_colour(0));
  save_picture(dir / "b.png", class_colour(1));
  PageRender r = render_page(write_page(dir, "<h1>Two pictures</h1><img src=\"a.png\"><img src=\"b.png\">\n"));
  EXPECT_CONTAINS(r.dom, "data-images=\"2 of 2 loaded\"");
  EXPECT_EQ(r.width, 1280);
  EXPECT_EQ(r.height, 2400);
  EXPECT_FALSE(looks_blank(r));
}

TEST(Browser, NamesAMissingImage) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  TempDir dir;
  save_picture(dir / "a.png", class_colour(0));
  PageRender r = render_page(write_page(dir, "<img src=\"a.png\"><img src=\"nope.png\">\n"));
  EXPECT_CONTAINS(r.dom, "data-images=\"1 of 2 loaded\"");
  EXPECT_CONTAINS(r.dom, "missing: nope.png");
}

TEST(Browser, ReportsTextWiderThanItsBoxAndImagesShownSmallerThanTheirSize) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  TempDir dir;
  save_picture(dir / "a.png", class_colour(0));
  PageRender fits = render_page(write_page(dir, "<p>short</p><img src=\"a.png\">"));
  EXPECT_CONTAINS(fits.dom, "data-overflow=\"none\"");
  EXPECT_CONTAINS(fits.dom, "data-smallest-image-scale=\"1.000\"");
  PageRender over = render_page(write_page(dir, "<p id=\"narrow\" style=\"width:40px;white-space:nowrap\">"
                                                "a paragraph far wider than forty pixels</p><img src=\"a.png\" width=\"120\">"
                                                "<svg width=\"100\" height=\"40\"><text x=\"60\" y=\"20\">clipped</text></svg>"));
  EXPECT_CONTAINS(over.dom, "p#narrow: a paragraph far wider");
  EXPECT_CONTAINS(over.dom, "text: clipped");
  EXPECT_CONTAINS(over.dom, "data-smallest-image-scale=\"0.500\"");
}

TEST(Browser, RunsAScriptOnACopyOfThePage) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  TempDir dir;
  const std::string page = write_page(dir, "<p id=\"out\" data-value=\"before\">before</p>");
  PageRender r = render_page(page, 800, 600, "const p = document.getElementById('out'); p.dataset.value = 'a \"quoted\" & <b>'; p.textContent = 'after';");
  EXPECT_EQ(zg_tests::attribute_of(r.dom, "out", "data-value"), "a \"quoted\" & <b>");
  EXPECT_EQ(zg_tests::text_of(r.dom, "out"), "after");
  EXPECT_FALSE(fs::exists(dir / "index.scripted.html"));  // the copy is gone
  EXPECT_CONTAINS(zg_tests::error_of([&] { zg_tests::attribute_of(r.dom, "nope", "x"); }), "no element with id \"nope\"");
}

TEST(Browser, AnEmptyPageLooksBlank) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  TempDir dir;
  PageRender r = render_page(write_page(dir, ""));
  EXPECT_CONTAINS(r.dom, "data-images=\"0 of 0 loaded\"");
  EXPECT_TRUE(looks_blank(r));
}

}  // namespace
