#include "zoograd/datasets/dataset.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace zg {

namespace {
void check_index(const Dataset& d, std::int64_t i) {
  if (i < 0 || i >= d.size())
    throw std::out_of_range(d.name + ": sample index " + std::to_string(i) + " is out of range [0, " +
                            std::to_string(d.size()) + ")");
}
}  // namespace

Dataset Dataset::subset(std::span<const std::int64_t> indices) const {
  Dataset s;
  s.name = name;
  s.sample_shape = sample_shape;
  s.num_classes = num_classes;
  s.class_names = class_names;
  const auto per = static_cast<std::size_t>(sample_numel());
  for (std::int64_t i : indices) {
    check_index(*this, i);
    auto at = static_cast<std::size_t>(i);
    if (!pixels.empty()) s.pixels.insert(s.pixels.end(), pixels.begin() + at * per, pixels.begin() + (at + 1) * per);
    if (!features.empty())
      s.features.insert(s.features.end(), features.begin() + at * per, features.begin() + (at + 1) * per);
    s.labels.push_back(labels[at]);
  }
  return s;
}

Normalize pixel_stats(const Dataset& d) {
  if (d.pixels.empty()) return {};
  double sum = 0, sq = 0;
  for (std::uint8_t p : d.pixels) {
    double v = p / 255.0;
    sum += v;
    sq += v * v;
  }
  double n = static_cast<double>(d.pixels.size());
  double mean = sum / n;
  double var = std::max(sq / n - mean * mean, 0.0);
  return {mean, std::sqrt(var) > 0 ? std::sqrt(var) : 1.0};
}

Batch make_batch(const Dataset& d, std::span<const std::int64_t> indices, const Normalize& norm) {
  auto b = static_cast<std::int64_t>(indices.size());
  Shape shape{b};
  shape.insert(shape.end(), d.sample_shape.begin(), d.sample_shape.end());
  Tensor x = empty(shape, norm.dtype);
  Tensor y = empty({b}, DType::Int64);
  auto* py = y.data<std::int64_t>();
  const auto per = static_cast<std::size_t>(d.sample_numel());
  dispatch_float(norm.dtype, "make_batch", [&]<class T>() {
    T* px = x.data<T>();
    // (p/255 - mean)/std as one multiply-add per pixel, in T
    const auto scale = static_cast<T>(1.0 / (255.0 * norm.std));
    const auto shift = static_cast<T>(-norm.mean / norm.std);
    for (std::size_t k = 0; k < indices.size(); ++k) {
      check_index(d, indices[k]);
      auto at = static_cast<std::size_t>(indices[k]);
      T* dst = px + k * per;
      if (!d.pixels.empty()) {
        const std::uint8_t* src = d.pixels.data() + at * per;
        for (std::size_t j = 0; j < per; ++j) dst[j] = static_cast<T>(src[j]) * scale + shift;
      } else {
        std::copy_n(d.features.data() + at * per, per, dst);
      }
      py[k] = d.labels[at];
    }
  });
  return {x, y};
}

DataLoader::DataLoader(const Dataset& data, const DataLoaderOptions& options, Generator& gen)
    : data_(&data), options_(options), gen_(&gen) {
  if (options.batch_size < 1)
    throw std::invalid_argument("DataLoader: batch_size must be positive, got " + std::to_string(options.batch_size));
}

std::int64_t DataLoader::num_batches() const {
  const std::int64_t n = data_->size(), size = options_.batch_size;
  return options_.drop_last ? n / size : (n + size - 1) / size;
}

DataLoader::Epoch DataLoader::epoch_indices() {
  std::vector<std::int64_t> order(static_cast<std::size_t>(data_->size()));
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) gen_->shuffle(order);
  Epoch batches;
  for (std::int64_t b = 0; b < num_batches(); ++b) {
    auto begin = order.begin() + b * options_.batch_size;
    auto end = order.begin() + std::min<std::int64_t>((b + 1) * options_.batch_size, data_->size());
    batches.emplace_back(begin, end);
  }
  return batches;
}

}  // namespace zg
