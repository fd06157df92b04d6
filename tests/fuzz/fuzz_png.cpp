// One image of an image folder: the PNG checks and stb_image's decoder, to grey and to RGB as
// load_image_folder may ask for either.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "zoograd/datasets/image_folder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (int channels : {1, 3}) {
    try {
      zg::decode_png(bytes, "a/x.png", channels);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
