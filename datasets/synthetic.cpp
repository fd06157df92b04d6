#include "zoograd/datasets/synthetic.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace zg {

namespace {
Dataset points(const char* name, std::int64_t n_per_class, std::int64_t classes) {
  if (n_per_class < 1 || classes < 2)
    throw std::invalid_argument(std::string(name) + ": need at least 1 point per class and 2 classes, got " +
                                std::to_string(n_per_class) + " and " + std::to_string(classes));
  Dataset d;
  d.name = name;
  d.sample_shape = {2};
  d.num_classes = classes;
  for (std::int64_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
  d.features.reserve(static_cast<std::size_t>(2 * n_per_class * classes));
  d.labels.reserve(static_cast<std::size_t>(n_per_class * classes));
  return d;
}

void add(Dataset& d, double x, double y, std::int64_t label) {
  d.features.push_back(static_cast<float>(x));
  d.features.push_back(static_cast<float>(y));
  d.labels.push_back(label);
}
}  // namespace

Dataset make_spirals(std::int64_t n_per_class, std::int64_t classes, double noise, Generator& gen) {
  Dataset d = points("spirals", n_per_class, classes);
  for (std::int64_t c = 0; c < classes; ++c)
    for (std::int64_t i = 0; i < n_per_class; ++i) {
      double r = static_cast<double>(i + 1) / static_cast<double>(n_per_class);
      double angle = 2.0 * std::numbers::pi * (static_cast<double>(c) / static_cast<double>(classes) + 0.75 * r) +
                     noise * gen.normal();
      add(d, r * std::cos(angle), r * std::sin(angle), c);
    }
  return d;
}

Dataset make_moons(std::int64_t n_per_class, double noise, Generator& gen) {
  Dataset d = points("moons", n_per_class, 2);
  for (std::int64_t c = 0; c < 2; ++c)
    for (std::int64_t i = 0; i < n_per_class; ++i) {
      double t = std::numbers::pi * static_cast<double>(i) / static_cast<double>(std::max<std::int64_t>(n_per_class - 1, 1));
      double x = c == 0 ? std::cos(t) : 1.0 - std::cos(t);
      double y = c == 0 ? std::sin(t) : 0.5 - std::sin(t);
      add(d, x + noise * gen.normal(), y + noise * gen.normal(), c);
    }
  return d;
}

Dataset make_blobs(std::int64_t n_per_class, std::int64_t classes, double spread, Generator& gen) {
  Dataset d = points("blobs", n_per_class, classes);
  for (std::int64_t c = 0; c < classes; ++c) {
    double angle = 2.0 * std::numbers::pi * static_cast<double>(c) / static_cast<double>(classes);
    for (std::int64_t i = 0; i < n_per_class; ++i)
      add(d, 3.0 * std::cos(angle) + spread * gen.normal(), 3.0 * std::sin(angle) + spread * gen.normal(), c);
  }
  return d;
}

}  // namespace zg
