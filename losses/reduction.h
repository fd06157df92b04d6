#pragma once
#include <stdexcept>
#include <string>

#include "zoograd/core/ops.h"

namespace zg {

// How a loss turns its per-element values into the returned tensor (PyTorch's `reduction`).
enum class Reduction { None, Mean, Sum, BatchMean };

inline Reduction parse_reduction(const std::string& s) {
  if (s == "none") return Reduction::None;
  if (s == "mean") return Reduction::Mean;
  if (s == "sum") return Reduction::Sum;
  if (s == "batchmean") return Reduction::BatchMean;
  throw std::invalid_argument("unknown reduction \"" + s + "\"; expected none, mean, sum or batchmean");
}

inline const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
    case Reduction::BatchMean: return "batchmean";
  }
  return "?";
}

// none: as is; sum: Σ; mean: Σ / numel; batchmean: Σ / size(0).
inline Tensor reduce(const Tensor& values, Reduction r) {
  switch (r) {
    case Reduction::None: return values;
    case Reduction::Sum: return sum(values);
    case Reduction::Mean: return mean(values);
    case Reduction::BatchMean: return sum(values) / static_cast<double>(values.dim() ? values.size(0) : 1);
  }
  return values;
}

}  // namespace zg
