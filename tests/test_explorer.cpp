// zoograd loss explore: one self-contained page with zoograd's core/ and losses/ compiled to
// WebAssembly inside, which works from file:// in headless Chromium and draws what
// `zoograd loss eval` computes.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>

#include "zoograd/tests/browser.h"
#include "zoograd/tests/test_util.h"
#include "zoograd/train/loss/explorer.h"
#include "zoograd/train/loss/loss_curves.h"
#include "zoograd/train/loss/loss_tool.h"

namespace {

namespace fs = std::filesystem;
using namespace zg;
using zg_tests::read_file;
using nlohmann::json;
using zg_tests::TempDir;

constexpr const char* kNoChromium = "chromium is not installed; scripts/setup installs it (apt-get install chromium)";
constexpr const char* kNoModule =
    "this build has no WebAssembly module: emscripten is missing (scripts/setup installs it: apt-get install emscripten)";


// The page with the script run after the explorer has started. The module starts asynchronously,
// and headless Chromium's virtual-time budget can run out before it does when the machine is
// loaded (CI: once in about five suites, a DOM without data-ready), so a render that did not start
// is tried again, up to three times; a page that never starts still fails.
constexpr const char* kStarted = "data-ready=\"yes\"";  // the explorer's mark that every section has drawn

zg_tests::PageRender render_started(const std::string& page, const std::string& script) {
  zg_tests::PageRender r = zg_tests::render_page(page, 1280, 4200, script);
  for (int attempt = 1; attempt < 3 && r.dom.find(kStarted) == std::string::npos; ++attempt)
    r = zg_tests::render_page(page, 1280, 4200, script);
  return r;
}

std::vector<double> numbers(const std::string& text) {
  std::vector<double> v;
  for (const json& x : json::parse(text)) v.push_back(x.is_null() ? NAN : x.get<double>());
  return v;
}

TEST(Explorer, WritesOneSelfContainedPage) {
  if (!has_explorer_module()) GTEST_SKIP() << kNoModule;
  TempDir dir;
  const std::string path = write_loss_explorer(dir / "nested/explorer");
  EXPECT_EQ(path, dir / "nested/explorer/index.html");
  const std::string page = read_file(path);
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
  EXPECT_CONTAINS(page, "createZoograd");
  EXPECT_CONTAINS(page, "data:application/octet-stream;base64,");  // the module inside the page (SINGLE_FILE)
  EXPECT_EQ(page.find("<script src"), std::string::npos);            // nothing to fetch: works from file://
  EXPECT_EQ(page.find("/*MODULE_JS*/"), std::string::npos);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "nested/explorer"), fs::directory_iterator()), 1);
}

TEST(Explorer, EverySectionDrawsAndABadValueShowsTheLibrarysMessage) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  if (!has_explorer_module()) GTEST_SKIP() << kNoModule;
  TempDir dir;
  const std::string page = write_loss_explorer(dir.path().string());
  const zg_tests::PageRender r = render_started(page, R"(
    window.zgReady.then(() => {
      const c = document.getElementById("normface-classes");
      c.value = 1;
      c.dispatchEvent(new Event("input"));
    });)");
  ASSERT_NE(r.dom.find(kStarted), std::string::npos) << "the explorer did not start in three renders";
  EXPECT_CONTAINS(r.dom, "data-overflow=\"none\"");
  EXPECT_FALSE(zg_tests::looks_blank(r));
  for (const char* chart : {"chart-target", "chart-theta", "chart-cos", "chart-focal", "chart-regression",
                            "chart-regression-grad", "chart-catalog-loss", "chart-catalog-grad"})
    EXPECT_CONTAINS(r.dom, std::string("id=\"") + chart + "--") << chart;  // a drawn curve
  EXPECT_EQ(zg_tests::text_of(r.dom, "normface-error"), "NormFace's bound needs 2 to 100000 classes, got 1");
  EXPECT_CONTAINS(zg_tests::text_of(r.dom, "status"), "Ready: zoograd's");
}

TEST(Explorer, ASliderRedrawsTheCurvesWithLossEvalsNumbers) {
  if (!zg_tests::find_chromium()) GTEST_SKIP() << kNoChromium;
  if (!has_explorer_module()) GTEST_SKIP() << kNoModule;
  TempDir dir;
  const std::string page = write_loss_explorer(dir.path().string());
  const zg_tests::PageRender r = render_started(page, R"(
    window.zgReady.then(() => {
      const move = (id, value) => { const e = document.getElementById(id); e.value = value; e.dispatchEvent(new Event("input")); };
      const loss = document.getElementById("catalog-loss");
      loss.value = "cosface_loss";
      loss.dispatchEvent(new Event("change"));
      document.body.dataset.before = document.getElementById("chart-catalog-loss--loss").getAttribute("data-y");
      move("catalog-param-m", 0.3);
      move("angular-arcface_m", 0.3);
    });)");
  ASSERT_NE(r.dom.find(kStarted), std::string::npos) << "the explorer did not start in three renders";
  const std::vector<double> x = numbers(zg_tests::attribute_of(r.dom, "chart-catalog-loss--loss", "data-x"));
  const std::vector<double> loss = numbers(zg_tests::attribute_of(r.dom, "chart-catalog-loss--loss", "data-y"));
  const std::vector<double> grad = numbers(zg_tests::attribute_of(r.dom, "chart-catalog-grad--grad", "data-y"));
  ASSERT_EQ(x.size(), 201u);
  EXPECT_NE(zg_tests::attribute_of(r.dom, "explorer", "data-before"), zg_tests::attribute_of(r.dom, "chart-catalog-loss--loss", "data-y"));
  const json request = json::parse(zg_tests::text_of(r.dom, "catalog-request"));
  EXPECT_EQ(request.at("name"), "cosface_loss");
  EXPECT_EQ(request.at("set").at("m"), 0.3);
  // What `zoograd loss eval` computes for the same inputs with the element set to each x.
  LossEvalRequest eval{.name = "cosface_loss", .set = {}, .reduction = request.at("reduction"), .dtype = "float64"};
  for (const auto& [key, value] : request.at("set").items()) {
    char setting[64];
    std::snprintf(setting, sizeof setting, "%s=%.17g", key.c_str(), value.get<double>());
    eval.set.push_back(setting);
  }
  const std::string input = request.at("input");
  const auto index = request.at("index").get<std::size_t>();
  for (std::size_t i : {0u, 37u, 100u, 163u, 200u}) {
    json inputs = request.at("inputs");
    json& rows = inputs.at(input);
    const std::size_t columns = rows.at(0).size();
    rows.at(index / columns).at(index % columns) = x[i];
    std::istringstream in(json{{"inputs", inputs}}.dump());
    const json out = json::parse(loss_eval(eval, in));
    EXPECT_NEAR(loss[i], out.at("loss").get<double>(), 1e-6) << "at " << x[i];
    EXPECT_NEAR(grad[i], out.at("grad").at(input).at(index / columns).at(index % columns).get<double>(), 1e-6) << "at " << x[i];
  }
  // The target logits follow the moved ArcFace slider, as the library's transform gives them.
  const std::vector<double> degrees = numbers(zg_tests::attribute_of(r.dom, "chart-target--ArcFace-m-0-3", "data-x"));
  const std::vector<double> drawn = numbers(zg_tests::attribute_of(r.dom, "chart-target--ArcFace-m-0-3", "data-y"));
  std::vector<double> theta;
  for (double d : degrees) theta.push_back(d * std::numbers::pi / 180);
  const std::vector<double> expected = target_logit_at(angular_target_logits({.arcface_m = 0.3})[3], theta);
  ASSERT_EQ(drawn.size(), expected.size());
  for (std::size_t i = 0; i < drawn.size(); ++i) EXPECT_NEAR(drawn[i], expected[i], 1e-6) << degrees[i] << "°";
  EXPECT_CONTAINS(r.dom, "data-overflow=\"none\"");
}

TEST(Explorer, TheCommandWritesThePage) {
  TempDir dir;
  const zg_tests::CliRun r = zg_tests::run_cli("loss explore --out " + dir / "explorer");
  if (!has_explorer_module()) {
    EXPECT_EQ(r.code, 1);
    EXPECT_CONTAINS(r.out, "built without emscripten");
    GTEST_SKIP() << kNoModule;
  }
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_CONTAINS(r.out, "index.html");
  EXPECT_TRUE(fs::exists(dir.path() / "explorer" / "index.html"));
  EXPECT_EQ(zg_tests::run_cli("loss explore").code, 2);  // --out is required
}

}  // namespace
