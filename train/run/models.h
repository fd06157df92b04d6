#pragma once
// The models `zoograd train` can build.
#include <memory>

#include "zoograd/core/generator.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/train/run/config.h"

namespace zg {

// mlp: Flatten, then Linear + ReLU per hidden width, then Linear to the classes.
// cnn (LeNet-style): conv 5x5 C→16, ReLU, max-pool 2, conv 5x5 16→32, ReLU, max-pool 2, Flatten,
// Linear to the classes (512 inputs for 28x28 images). Images only.
// For an angular loss the last Linear outputs config.embedding_dim features instead, followed by
// the loss's head (Objective::make_head), whose outputs are the class scores.
// Parameters and buffers are in config.dtype: drawn in float32 from gen, then converted, so that a
// float64 model starts from the float32 model's weights exactly.
std::shared_ptr<Sequential> build_model(const TrainConfig& config, const Shape& sample_shape, std::int64_t classes,
                                    Generator& gen);

// Whether the model build_model would make, trained on batches of `batch` samples, fits in this
// machine's memory: its parameters four times over (weights, gradients, momentum, a checkpoint's
// copy) and, roughly, a batch's activations and their gradients, at config.dtype's bytes a value.
// Checked before anything is allocated; throws UsageError naming the flags to lower and both sizes.
void check_model_fits(const TrainConfig& config, const Shape& sample_shape, std::int64_t classes, std::int64_t batch);

}  // namespace zg
