// The safetensors parser over arbitrary bytes: a malformed file must throw, never crash.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "zoograd/core/io/serialize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    zg::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
  } catch (const std::exception&) {
  }
  return 0;
}
