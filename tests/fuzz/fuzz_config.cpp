// A `zoograd train --config` file's text: JSON, then the settings and their validation.
#include <cstddef>
#include <cstdint>
#include <exception>

#include "zoograd/train/run/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    zg::TrainConfig::from_json(nlohmann::json::parse(data, data + size), "config.json");
  } catch (const std::exception&) {
  }
  return 0;
}
