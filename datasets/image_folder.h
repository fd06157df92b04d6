#pragma once
// An image folder: one sub-folder per class (sorted names become classes 0, 1, ...), PNG files
// inside (sorted); anything else in the folder, and a class folder without images, is an error.
// All images must share one size and are stored as grayscale (1 channel) or RGB (3 channels: any
// PNG with colour, a palette included, makes the set RGB; alpha is dropped); 16-bit PNGs and
// images over the size limit are rejected before decoding. stb_image is compiled for PNG only.
#include <cstdint>
#include <string>
#include <vector>

#include "zoograd/datasets/dataset.h"

namespace zg {

struct ImageFolderLimits {
  std::int64_t max_side = 1024;
  std::int64_t max_images = 1'000'000;
  std::int64_t max_file_bytes = 64LL << 20;  // of one PNG file
  std::int64_t max_bytes = 1LL << 31;        // of all decoded pixels
};

Dataset load_image_folder(const std::string& root, const ImageFolderLimits& limits = {});

struct PngImage {
  int width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;  // planar (C, H, W)
};

// One PNG in memory (what load_image_folder reads from each file; `name` labels errors), checked
// the same way before decoding, converted to `channels` 1 (grey) or 3 (RGB).
PngImage decode_png(const std::string& bytes, const std::string& name, int channels, const ImageFolderLimits& limits = {});

}  // namespace zg
