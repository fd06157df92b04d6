#pragma once
// `zoograd train` and `zoograd eval`.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "zoograd/datasets/dataset.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/optim/sgd.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/run/progress.h"
#include "zoograd/train/run/config.h"
#include "zoograd/train/run/distributed.h"
#include "zoograd/train/plot/report.h"

namespace zg {

struct Evaluation {
  double loss = 0, accuracy = 0;
  Confusion confusion;
};

// The objective's mean loss, accuracy and confusion matrix over a whole data set (eval mode, no
// graph); `step` is the training step reached (it sets an annealed λ).
Evaluation evaluate(Sequential& model, const Dataset& data, const Normalize& norm, const Objective& objective,
                    std::int64_t step, std::int64_t batch_size = 1000);

struct EpochTotals {
  double loss_sum = 0;  // Σ over batches of the batch's mean loss × its size
  std::int64_t correct = 0, seen = 0;
  double mean_loss() const { return loss_sum / static_cast<double>(std::max<std::int64_t>(seen, 1)); }
  double accuracy() const { return static_cast<double>(correct) / static_cast<double>(std::max<std::int64_t>(seen, 1)); }
};

// A non-finite training loss. Thrown before the step that would have applied it, so the weights
// are those of the last finite step; the command line exits with code 3.
struct DivergenceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct EpochOptions {
  // If given, sets every group's learning rate before each step (a schedule finer than the epoch).
  std::function<double(std::int64_t step)> lr_at_step = {};
  // If positive, the gradient's global norm is clipped to it before each step (optim/clip.h).
  double clip_grad_norm = 0;
  // Over an mpirun job (train/run/distributed.h) each rank takes its slice of every batch and the
  // step uses the gradient summed over all; with the default, this process trains alone.
  World ranks = {};
};

// One epoch of the loader's batches in train mode: the objective's loss, backward, an SGD step;
// `step` counts the steps taken. Throws DivergenceError on a non-finite loss.
EpochTotals train_epoch(Sequential& model, const Objective& objective, SGD& optimizer, DataLoader& loader,
                        std::int64_t& step, Progress& progress, const EpochOptions& options = {});

struct TrainResult {
  std::string run_dir;
  double test_accuracy = 0;
};

// Where a run starts.
struct RunStart {
  std::string resume;      // continue the run saved in this folder
  bool overwrite = false;  // a new run may replace a run folder (run_folder.h) at config.out
};

// Trains as configured, writing the run folder (run_folder.h) after every epoch. With
// start.resume, continues the run saved there from its newest checkpoint that loads: config must
// match the saved settings but for epochs (the new total), threads, quiet and detect_anomaly,
// which it changes, saying so; a contradiction throws UsageError listing each. SIGINT or SIGTERM
// (train/run/interrupt.h) stops it between two steps with Interrupted, saying how to resume. An empty
// train or test split is an error.
TrainResult run_train(const TrainConfig& config, const RunStart& start = {});

// The settings saved in the run folder dir (its newest checkpoint), with out = dir: what
// `zoograd train --resume dir` starts from before its flags apply.
TrainConfig resumed_config(const std::string& dir);

// Loads RUN_DIR's settings and model.safetensors and evaluates on the test split of data_spec
// (the run's own data set when empty).
Evaluation run_eval(const std::string& run_dir, const std::string& data_spec, std::vector<std::string>* class_names);

}  // namespace zg
