#pragma once
// In-memory labelled data sets. Images stay uint8 (N, C, H, W); points stay float (N, D).
// Batches are converted (and images normalized) only when they are made.
#include <cstdint>
#include <iterator>
#include <memory>
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

struct DataLoaderOptions {
  std::int64_t batch_size = 1;
  bool shuffle = false;    // a new order each epoch, drawn from the loader's generator
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  Normalize normalize = {};  // of images; its dtype is the batches' x dtype
};

// Iterates over a data set in batches, as a range: for (const Batch& b : loader) is one epoch.
// Each epoch (each begin(), or epoch_indices()) draws a new order from the generator when
// shuffling, so a saved generator state reproduces the epoch. The data set must outlive the loader.
//   DataLoader loader(data.train, {.batch_size = 64, .shuffle = true}, gen);
class DataLoader {
 public:
  using Epoch = std::vector<std::vector<std::int64_t>>;  // the sample indices of each batch, in order

  DataLoader(const Dataset& data, const DataLoaderOptions& options, Generator& gen = default_generator());
  DataLoader(Dataset&&, const DataLoaderOptions&, Generator& = default_generator()) = delete;  // would dangle

  std::int64_t num_batches() const;
  // The batches of one epoch in order: draws the permutation now (when shuffling).
  Epoch epoch_indices();
  Batch batch(std::span<const std::int64_t> indices) const { return make_batch(*data_, indices, options_.normalize); }

  // An input iterator over one epoch's batches, each made when dereferenced.
  class Iterator {
   public:
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    Batch operator*() const { return loader_->batch((*epoch_)[next_]); }
    Iterator& operator++() {
      ++next_;
      return *this;
    }
    void operator++(int) { ++next_; }
    bool operator==(std::default_sentinel_t) const { return next_ == epoch_->size(); }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, Epoch epoch)
        : loader_(loader), epoch_(std::make_shared<const Epoch>(std::move(epoch))) {}
    const DataLoader* loader_;
    std::shared_ptr<const Epoch> epoch_;  // shared: iterators are copyable, the epoch is not copied
    std::size_t next_ = 0;
  };
  Iterator begin() { return Iterator(this, epoch_indices()); }
  std::default_sentinel_t end() const { return {}; }

 private:
  const Dataset* data_;
  DataLoaderOptions options_;
  Generator* gen_;
};

}  // namespace zg
