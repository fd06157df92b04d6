#pragma once
// The generic check of a layer, the one zoograd's layer table runs on every layer: its gradient
// with respect to its input and to each of its parameters, gradchecked in float64. Part of
// zoograd::testing, for an extender's own tests: EXPECT_TRUE(check_layer(make, {5, 4}).ok).
#include <functional>
#include <memory>

#include "zoograd/core/gradcheck.h"
#include "zoograd/layers/module.h"

namespace zg {

struct LayerCheckOptions {
  bool training = true;                           // train() or eval() mode during the check
  std::function<void()> before_forward = [] {};   // e.g. reseeding a Dropout's generator
  std::uint64_t seed = 11;                        // of the layer's construction and of the input
};

// Builds the layer with make (from a generator seeded with options.seed), converts it to float64
// and gradchecks forward(x) with respect to x (randn of input_shape, kept 0.05 away from 0, where
// ReLU-like kinks and max-pool ties sit) and to every parameter.
GradcheckResult check_layer(const std::function<std::shared_ptr<Module>(Generator&)>& make, const Shape& input_shape,
                            const LayerCheckOptions& options = {});

}  // namespace zg
