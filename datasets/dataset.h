#pragma once
// In-memory labelled data sets. Images stay uint8 (N, C, H, W); points stay float (N, D).
// Batches are converted (and images normalized) only when they are made.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/tensor.h"

namespace zg {

struct Dataset {
  std::string name;
  Shape sample_shape;                  // (C, H, W) for images, (D) for points
  std::vector<std::uint8_t> pixels;    // images: N·C·H·W bytes, row-major
  std::vector<float> features;         // points: N·D values (pixels is then empty)
  std::vector<std::int64_t> labels;    // N labels in [0, num_classes)
  std::int64_t num_classes = 0;
  std::vector<std::string> class_names;

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  bool is_image() const { return !pixels.empty() || (features.empty() && sample_shape.size() == 3); }
  std::int64_t sample_numel() const { return numel(sample_shape); }
  // The samples at indices, in that order (a split or a subset).
  Dataset subset(std::span<const std::int64_t> indices) const;
};

// Per-channel-agnostic normalization of images: x = (pixel/255 - mean) / std, computed and stored
// in dtype (float32 or float64), the dtype of the batches' x.
struct Normalize {
  double mean = 0.0;
  double std = 1.0;
  DType dtype = DType::Float32;
};
// The mean and standard deviation of pixel/255 over a whole image set (identity for points).
Normalize pixel_stats(const Dataset& d);

struct Batch {
  Tensor x;  // Normalize::dtype (float32 by default), (B, C, H, W) or (B, D)
  Tensor y;  // int64 (B)
};

// Builds the batch of the samples at indices (throws naming an index out of range).
Batch make_batch(const Dataset& d, std::span<const std::int64_t> indices, const Normalize& norm = {});

// Iterates over a data set in batches. Each pass (each begin()) draws a new order from the
// generator when shuffling, so a saved generator state reproduces the epoch.
class DataLoader {
 public:
  DataLoader(const Dataset& data, std::int64_t batch_size, bool shuffle, Generator& gen, Normalize norm = {},
             bool drop_last = false);

  std::int64_t num_batches() const;
  // The batches of one epoch in order: draws the permutation now (when shuffling).
  std::vector<std::vector<std::int64_t>> epoch_indices();
  Batch batch(std::span<const std::int64_t> indices) const { return make_batch(*data_, indices, norm_); }

 private:
  const Dataset* data_;
  std::int64_t batch_size_;
  bool shuffle_, drop_last_;
  Generator* gen_;
  Normalize norm_;
};

}  // namespace zg
