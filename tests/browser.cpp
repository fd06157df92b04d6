#include "zoograd/tests/browser.h"

#include <stb/stb_image.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "zoograd/tests/test_util.h"

namespace zg_tests {

namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// Percent-encodes all but unreserved characters and '/', so that any path makes a valid URL.
std::string file_url(const fs::path& p) {
  std::string url = "file://";
  for (unsigned char c : p.string()) {
    if (std::isalnum(c) || std::string_view("/-._~").find(static_cast<char>(c)) != std::string_view::npos) {
      url += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      url += hex;
    }
  }
  return url;
}

}  // namespace

std::optional<std::string> find_chromium() {
  const char* path = std::getenv("PATH");
  for (const char* name : {"chromium", "chromium-browser"}) {
    std::istringstream dirs(path ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');) {
      fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate.string();
    }
  }
  return std::nullopt;
}

PageRender render_page(const std::string& html_path, int width, int height, const std::string& script) {
  std::optional<std::string> chromium = find_chromium();
  if (!chromium) throw std::runtime_error("render_page: chromium is not on PATH");
  fs::path page = fs::absolute(html_path);
  if (!fs::is_regular_file(page)) throw std::runtime_error("render_page: no file " + page.string());
  struct RemoveCopy {
    fs::path path;
    ~RemoveCopy() {
      std::error_code ec;
      if (!path.empty()) fs::remove(path, ec);
    }
  } copy;
  if (!script.empty()) {
    std::string html = read_file(page);
    const std::size_t end = html.rfind("</body>");
    if (end == std::string::npos) throw std::runtime_error("render_page: " + page.string() + " has no </body>");
    html.insert(end, "<script>\n" + script + "\n</script>\n");
    copy.path = page.parent_path() / (page.stem().string() + ".scripted.html");
    std::ofstream(copy.path, std::ios::binary) << html;
    page = copy.path;
  }

  // Everything Chromium writes (profile, crash-reporter and dconf files under HOME and XDG) stays
  // in tmp, so runs share no state. The proxy on the discard port and the resolver that resolves
  // nothing keep it off the network. `timeout` kills its whole process group, so a hung browser
  // fails the test without leaving processes behind; the virtual time budget lets the load event
  // fire (and the image check run) before the DOM is dumped and the screenshot taken.
  TempDir tmp;
  std::string home = shell_quote(tmp.path().string());
  std::string cmd = "env HOME=" + home + " XDG_CONFIG_HOME=" + home + " XDG_CACHE_HOME=" + home +
                    " timeout -k 5 60 " + shell_quote(*chromium) +
                    " --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions"
                    " --disable-background-networking --disable-sync --no-default-browser-check"
                    " --proxy-server=127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND'"
                    " --user-data-dir=" + shell_quote(tmp / "profile") + " --virtual-time-budget=10000" +
                    " --window-size=" + std::to_string(width) + "," + std::to_string(height) +
                    " --dump-dom --screenshot=" + shell_quote(tmp / "shot.png") + " " + shell_quote(file_url(page));
  PageRender r{"", {}, 0, 0};
  FILE* p = ::popen((cmd + " 2>" + shell_quote(tmp / "stderr.txt")).c_str(), "r");
  if (!p) throw std::runtime_error("render_page: cannot run " + cmd);
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) r.dom.append(buf.data(), n);
  int status = ::pclose(p);
  std::string png = read_file(tmp / "shot.png");
  auto fail = [&](const std::string& why) {
    return std::runtime_error("render_page: " + why + "\ncommand: " + cmd + "\nstdout:\n" + r.dom +
                              "\nstderr:\n" + read_file(tmp / "stderr.txt"));
  };
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 124) throw fail("chromium took over 60 s");
  if (code != 0) throw fail("chromium failed with exit status " + std::to_string(code));
  if (r.dom.empty() || png.empty()) throw fail("chromium wrote no DOM or no screenshot");

  int channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> rgb(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()), static_cast<int>(png.size()), &r.width,
                            &r.height, &channels, 3),
      stbi_image_free);
  if (!rgb) throw fail(std::string("cannot decode the screenshot: ") + stbi_failure_reason());
  r.rgb.assign(rgb.get(), rgb.get() + std::size_t(r.width) * r.height * 3);
  return r;
}

namespace {

std::string decode_entities(std::string s) {
  const std::pair<const char*, const char*> entities[] = {{"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#39;", "'"},
                                                          {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) s.replace(at, std::strlen(from), to);
  return s;
}

// Where the start tag of the element with that id begins and ends.
std::pair<std::size_t, std::size_t> start_tag(const std::string& dom, const std::string& id) {
  const std::size_t at = dom.find("id=\"" + id + "\"");
  if (at == std::string::npos) throw std::runtime_error("no element with id \"" + id + "\" in the page");
  return {dom.rfind('<', at), dom.find('>', at)};
}

}  // namespace

std::string attribute_of(const std::string& dom, const std::string& id, const std::string& attribute) {
  const auto [begin, end] = start_tag(dom, id);
  const std::string tag = dom.substr(begin, end - begin);
  const std::size_t at = tag.find(" " + attribute + "=\"");
  if (at == std::string::npos) throw std::runtime_error("element \"" + id + "\" has no attribute " + attribute);
  const std::size_t from = at + attribute.size() + 3;
  return decode_entities(tag.substr(from, tag.find('"', from) - from));
}

std::string text_of(const std::string& dom, const std::string& id) {
  const auto [begin, end] = start_tag(dom, id);
  return decode_entities(dom.substr(end + 1, dom.find('<', end) - end - 1));
}

bool looks_blank(const PageRender& page) {
  std::unordered_map<std::uint32_t, std::size_t> counts;
  std::size_t most = 0;
  for (std::size_t i = 0; i + 2 < page.rgb.size(); i += 3) {
    std::uint32_t c = std::uint32_t(page.rgb[i]) << 16 | std::uint32_t(page.rgb[i + 1]) << 8 | page.rgb[i + 2];
    most = std::max(most, ++counts[c]);
  }
  std::size_t pixels = page.rgb.size() / 3;
  return pixels - most < pixels / 200;  // under 0.5%
}

}  // namespace zg_tests
