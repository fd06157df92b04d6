#pragma once
// safetensors files: an 8-byte little-endian header length, a JSON header mapping each name to
// {"dtype", "shape", "data_offsets"} (plus an optional "__metadata__" map of strings), then the
// raw little-endian data. Names follow PyTorch's state_dict ("0.weight", "classifier.bias").
// zoograd adds __metadata__.crc32: 8 lowercase hex digits of the CRC-32 of the whole file (length
// prefix, header, data) computed with those 8 digits read as "00000000". It is plain string
// metadata, so other readers take the file as it is.
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "zoograd/core/tensor.h"

namespace zg {

using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  NamedTensors tensors;  // in file order
  Metadata metadata;     // without the crc32, which belongs to the file, not to the caller
  bool checksummed = false;  // the file carried a crc32 and matched it
};

// Writes with write_file_atomic. "crc32" is a reserved metadata key.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});

// Writes bytes to path atomically and durably: a temporary file beside it (".NAME.tmp.XXXXXX"),
// fsync, rename over path, fsync of the folder. On any failure it removes the temporary file and
// throws std::runtime_error naming path and the OS's reason ("No space left on device"); a file
// already at path is then untouched. Every file zoograd writes goes through it.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads and validates strictly before allocating: the crc32 when the metadata has one (files of
// other tools have none), header length within the file and at most 100 MB, a JSON object, known
// dtypes (F32, F64, I64), non-negative shapes, no duplicate names, data_offsets matching each
// shape and tiling the data exactly (no holes, no overlaps, no trailing bytes). Throws naming the
// path and the field.
SafetensorsFile load_safetensors(const std::string& path);

// The same validation over bytes in memory (what load_safetensors reads); `name` labels errors.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name);

// Test seam: write_file_atomic and save_safetensors call the hook, when set, before each step that
// touches the disk ("create", then "write prefix", "write header" (safetensors only), "write data"
// per chunk of at most 64 KiB, "fsync", "close", "rename", "fsync folder"), so a test can kill the
// process at any of them. Not thread-safe; pass {} to remove it.
void set_save_fault_hook(std::function<void(std::string_view step)> hook);

}  // namespace zg
