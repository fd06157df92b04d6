#pragma once
// Checkpoints: RUN/checkpoint-<epoch, 6 digits>.safetensors, each holding the model ("model." +
// state_dict names), the optimizer's momentum buffers ("optimizer." + names), and in the metadata
// the generator state, epoch, step, metrics so far, the config and the run's id, under the file's crc32.
// Every epoch gets a name of its own, written atomically, so a crash at any point leaves the
// previous checkpoint complete and never a partial file under a final name. The two newest are
// kept: if the newest is damaged, resuming falls back to the one before.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoograd/core/generator.h"
#include "zoograd/layers/module.h"
#include "zoograd/optim/sgd.h"

namespace zg {

struct TrainingState {
  std::int64_t epoch = 0;  // completed epochs
  std::int64_t step = 0;   // optimizer steps taken
  nlohmann::json metrics = nlohmann::json::array();
  std::string run_id;      // the run folder's (run_folder.h); "" in checkpoints of an older zoograd
};

// One checkpoint file read and validated in full, not yet applied to a model.
struct Checkpoint {
  std::string path;
  NamedTensors model, optimizer;  // without their "model." / "optimizer." prefixes
  Generator::State generator{};
  TrainingState state;
  nlohmann::json config;
};

// Writes dir/checkpoint-<state.epoch>.safetensors, then removes all but the two newest
// checkpoints and the temporary files of saves that crashed. Returns the path written.
std::string save_checkpoint(const std::string& dir, const Module& model, const SGD& optimizer, const Generator& gen,
                            const TrainingState& state, const nlohmann::json& config);

// The checkpoint files in dir, newest (highest epoch) first; temporary files are not listed.
std::vector<std::string> list_checkpoints(const std::string& dir);

// Throws naming the path and the problem: damaged (crc32), truncated, or a field missing.
Checkpoint read_checkpoint(const std::string& path);

// The newest checkpoint in dir that reads. Each newer one that does not is logged as a warning
// with its reason; throws naming every file tried and why when none reads.
Checkpoint read_latest_checkpoint(const std::string& dir);

// Restores model, optimizer and generator in place and returns epoch, step and metrics.
TrainingState restore_checkpoint(const Checkpoint& checkpoint, Module& model, SGD& optimizer, Generator& gen);

}  // namespace zg
