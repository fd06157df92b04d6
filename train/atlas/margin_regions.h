#pragma once
// Where each class meets its margin: the region a margin loss's geometry figures shade. A feature
// direction meets class k's margin when k's target logit, through the loss's own transform
// (losses/angular.h), still beats every other class's plain logit, so the feature would be
// classified as k even with the margin applied.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"

namespace zg {

// For each direction (rows of `directions`, (M, dim)), the class meeting its margin, or -1. The
// head's weights are (C, dim) row-major; `params` are the loss's parameters in force (the
// annealed λ, the warmed-up margins). nullopt for a loss without a target-logit transform
// (softmax, modified softmax, NormFace), whose margin regions are its argmax regions.
std::optional<std::vector<std::int64_t>> margin_classes(const std::string& loss, const LossParams& params,
                                                         const std::vector<double>& weights, std::int64_t dim,
                                                         const std::vector<double>& directions);

}  // namespace zg
