#pragma once
// Checkpoints: one safetensors file holding the model ("model." + state_dict names), the
// optimizer's momentum buffers ("optimizer." + names), and in the metadata the generator state,
// epoch, step, metrics so far and the config. Written atomically, so a crash never leaves a
// partial file under the final name.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/generator.h"
#include "layers/module.h"
#include "optim/sgd.h"

namespace zg {

struct TrainingState {
  std::int64_t epoch = 0;  // completed epochs
  std::int64_t step = 0;   // optimizer steps taken
  nlohmann::json metrics = nlohmann::json::array();
};

void save_checkpoint(const std::string& path, const Module& model, const SGD& optimizer, const Generator& gen,
                     const TrainingState& state, const nlohmann::json& config);

// Restores model, optimizer and generator in place and returns epoch, step and metrics.
TrainingState load_checkpoint(const std::string& path, Module& model, SGD& optimizer, Generator& gen);

// The config a checkpoint was written with.
nlohmann::json checkpoint_config(const std::string& path);

}  // namespace zg
