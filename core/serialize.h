#pragma once
// safetensors files: an 8-byte little-endian header length, a JSON header mapping each name to
// {"dtype", "shape", "data_offsets"} (plus an optional "__metadata__" map of strings), then the
// raw little-endian data. Names follow PyTorch's state_dict ("0.weight", "classifier.bias").
#include <map>
#include <string>

#include "core/tensor.h"

namespace zg {

using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;  // in file order
  Metadata metadata;
};

// Writes atomically: a temporary file in the same folder, fsync, rename, fsync of the folder.
// Throws naming the path on any I/O error; an existing file at path is untouched on failure.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Reads and validates strictly before allocating: header length within the file and at most
// 100 MB, a JSON object, known dtypes (F32, F64, I64), non-negative shapes, no duplicate names,
// data_offsets matching each shape and tiling the data exactly (no holes, no overlaps, no
// trailing bytes). Throws naming the path and the field.
SafetensorsFile load_safetensors(const std::string& path);

// The same validation over bytes in memory (what load_safetensors reads); `name` labels errors.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name);

}  // namespace zg
