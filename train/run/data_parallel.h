#pragma once
// The training run's side of an mpirun job (train/distributed.h): rank 0 alone opens the run folder
// and tells the others its outcome, and evaluation splits the test set over the ranks.
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

#include "zoograd/datasets/dataset.h"
#include "zoograd/layers/sequential.h"
#include "zoograd/train/run/objective.h"
#include "zoograd/train/run/trainer.h"

namespace zg {

// Raised on the other ranks when work done by rank 0 alone failed there; rank 0 reports the error
// itself, the others end quietly with the same exit code.
struct RootFailed : std::runtime_error {
  RootFailed(int code, const std::string& what) : std::runtime_error(what), code(code) {}
  int code;
};

// Runs `work` on rank 0 only and hands its two strings to every rank. If it throws, rank 0 rethrows
// and the other ranks throw RootFailed (exit code 2 for a UsageError, else 1).
std::pair<std::string, std::string> on_root(const std::function<std::pair<std::string, std::string>()>& work);

// evaluate() of the whole of `data`, each rank taking its slice of the samples, after every rank
// took rank 0's BatchNorm statistics (as DistributedDataParallel broadcasts its buffers), so the
// model evaluated, and saved, is rank 0's. One process: evaluate() itself.
Evaluation evaluate_over_ranks(Sequential& model, const Dataset& data, const Normalize& norm,
                               const Objective& objective, std::int64_t step);

}  // namespace zg
