#pragma once
// Renders HTML files in headless Chromium, for the tests that check that a report displays.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zg_tests {

// The path of `chromium` or `chromium-browser` on PATH, if either is there.
std::optional<std::string> find_chromium();

struct PageRender {
  std::string dom;                // the document after its load event, serialized
  std::vector<std::uint8_t> rgb;  // the screenshot, row-major RGB, 3 bytes per pixel
  int width, height;
};

// Opens html_path (a file; its images load from disk) in a fresh headless Chromium profile that
// cannot reach the network, in a window of width x height. With a script, a copy of the page
// beside it (so its relative links still work) runs that script too, last, as a user's actions
// would (moving a slider, pressing a button). Throws std::runtime_error with the command and
// Chromium's output when Chromium fails or takes over a minute.
PageRender render_page(const std::string& html_path, int width = 1280, int height = 2400,
                       const std::string& script = "");

// The value of an attribute of the element with the given id in a DOM dump (the document's
// entities &quot; &amp; &lt; &gt; decoded); throws std::runtime_error when either is missing.
std::string attribute_of(const std::string& dom, const std::string& id, const std::string& attribute);
// The text inside the element with the given id, entities decoded.
std::string text_of(const std::string& dom, const std::string& id);

// Whether fewer than 0.5% of the pixels differ from the most common colour.
bool looks_blank(const PageRender& page);

}  // namespace zg_tests
