#pragma once
// Seeded synthetic 2-D classification sets that need no files (features float, labels int64).
#include <cstdint>

#include "zoograd/core/generator.h"
#include "zoograd/datasets/dataset.h"

namespace zg {

// `classes` interleaved spiral arms of n_per_class points, radius 0..1, with Gaussian noise of
// std `noise` (radians) on the angle.
Dataset make_spirals(std::int64_t n_per_class, std::int64_t classes, double noise, Generator& gen);
// Two interleaving half circles (scikit-learn's make_moons), Gaussian noise of std `noise`.
Dataset make_moons(std::int64_t n_per_class, double noise, Generator& gen);
// `classes` isotropic Gaussian blobs of std `spread` around centres evenly spaced on a circle of radius 3.
Dataset make_blobs(std::int64_t n_per_class, std::int64_t classes, double spread, Generator& gen);

}  // namespace zg
