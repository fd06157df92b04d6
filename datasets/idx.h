#pragma once
// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed (detected by the content,
// not the file name). Validation happens before any large allocation: magic, element type
// (unsigned byte), rank, dimensions against limits (each at least 1), then the exact payload size;
// gzip streams must end cleanly (CRC and length checked) with no trailing bytes. Errors name the
// file and the field.
#include <cstdint>
#include <string>
#include <vector>

#include "zoograd/datasets/dataset.h"

namespace zg {

struct IdxLimits {
  std::int64_t max_items = 10'000'000;
  std::int64_t max_side = 4096;           // rows and columns
  std::int64_t max_bytes = 1LL << 31;     // of the decoded payload
};

struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads an IDX file of unsigned bytes whose magic must be expected_magic (2051 images, 2049 labels).
IdxArray read_idx(const std::string& path, std::uint32_t expected_magic, const IdxLimits& limits = {});

// An image file and its label file; labels must be < num_classes and the counts must match. Both
// headers are checked before either payload is read.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, const std::string& name,
                 std::int64_t num_classes = 10, const IdxLimits& limits = {});

}  // namespace zg
