#pragma once
// Pieces shared by the HTML pages (run report, margin atlas, loss pictures, loss explorer).
#include <string>
#include <vector>

#include "zoograd/train/plot/figure.h"

namespace zg {

// Escapes &, <, >, " for HTML text and attributes.
std::string xml_escape(const std::string& s);

// An inline <script> to place just before </body>: once the page has loaded (and again whenever
// the page says it redrew, with the event "zg-drawn") it sets on <body>
//   data-images="N of M loaded"   images that loaded, listing any that failed at the top of the page;
//   data-overflow="..."           the elements whose text is wider than their box ("none" if none);
//   data-smallest-image-scale="s" the smallest displayed/natural width ratio of the images,
// which the browser tests read.
std::string page_check_script();

// The style every page shares: a readable column, images at their own size up to the page width.
std::string page_style();

// "SVG · PDF" links to the other formats of a figure stem next to its PNG.
std::string format_links(const std::string& stem, const std::vector<ImageFormat>& formats);

}  // namespace zg
