#pragma once
// Pieces shared by the HTML reports. Text is escaped with xml_escape from train/svg.h.
#include <string>

namespace zg {

// An inline <script> to place just before </body>: once the page has loaded it sets
// <body data-images="N of M loaded"> (which the browser test reads) and lists any image that
// failed to load at the top of the page, for a human reader.
std::string image_check_script();

}  // namespace zg
