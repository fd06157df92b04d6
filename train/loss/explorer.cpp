#include "zoograd/train/loss/explorer.h"

#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "zoograd/train/plot/html.h"
#include "zoograd/train/plot/report.h"

namespace zg {

// train/explorer/embed.cmake writes these into the build.
extern const std::string_view kExplorerPage, kExplorerChart, kExplorerScript, kExplorerModule;

namespace {

// An inline script ends at the first "</script": the JavaScript must not contain one.
std::string inline_script(std::string_view js) {
  std::string s(js);
  for (std::size_t at = s.find("</script"); at != std::string::npos; at = s.find("</script", at)) s.replace(at, 2, "<\\/");
  return s;
}

void fill(std::string& page, const std::string& marker, const std::string& text) {
  const std::size_t at = page.find(marker);
  if (at == std::string::npos) throw std::logic_error("the explorer's page lacks " + marker);
  page.replace(at, marker.size(), text);
}

}  // namespace

bool has_explorer_module() { return !kExplorerModule.empty(); }

std::string write_loss_explorer(const std::string& dir) {
  if (!has_explorer_module())
    throw std::runtime_error(
        "this zoograd was built without emscripten, so the explorer's WebAssembly module is missing: install it "
        "(scripts/setup, or apt-get install emscripten) and rebuild");
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error(dir + ": cannot create the folder: " + error.message());
  std::string page(kExplorerPage);
  fill(page, "/*CHART_JS*/", inline_script(kExplorerChart));
  fill(page, "/*MODULE_JS*/", inline_script(kExplorerModule));
  fill(page, "/*EXPLORER_JS*/", inline_script(kExplorerScript));
  fill(page, "/*PAGE_CHECK*/", page_check_script());
  const std::string path = (fs::path(dir) / "index.html").string();
  write_file(path, page);
  return path;
}

}  // namespace zg
