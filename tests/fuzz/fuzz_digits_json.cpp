// One npm digit file's text through the streaming parser load_digits_json uses for each file.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "zoograd/datasets/digits_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> pixels;
  try {
    zg::parse_digits_json(std::string(reinterpret_cast<const char*>(data), size), "3.json", pixels);
  } catch (const std::exception&) {
  }
  return 0;
}
