#pragma once
// The argument checks every loss file shares, so that the losses' messages read alike: numbers
// formatted one way, "<loss>: <what>" errors, reductions, floating tensors and class indices.
#include <cstdint>
#include <optional>
#include <string>

#include "zoograd/core/tensor.h"
#include "zoograd/losses/reduction.h"

namespace zg::checks {

// v as a person writes it, %g's six significant digits ("0.5", "1e-06", "inf"): the one form of a
// number in the losses' messages and the loss tool's labels. (number_text, losses/catalog.h, is
// the exact form a value must keep to be read back: configs, ranges.)
std::string num(double v);

// Throws std::invalid_argument "<loss>: <what>".
[[noreturn]] void fail(const std::string& loss, const std::string& what);

// Every reduction but batchmean (kl_div's alone): reduce() would otherwise divide by size(0) silently.
void check_reduction(Reduction r, const std::string& loss);

// t is defined and float32 or float64; name is the argument's name in the message.
void check_floating(const Tensor& t, const std::string& loss, const std::string& name);

// Scores with the classes moved to the last dim and everything else flattened into rows:
// (C) -> (1, C), (N, C) -> (N, C), (N, C, d1..dk) -> (N·d1⋯dk, C). `sample_shape` is the shape of
// one value per row, which `none` returns: (), (N) or (N, d1, ..., dk).
struct ClassRows {
  Tensor rows;
  Shape sample_shape;
};
ClassRows class_rows(const Tensor& x, const std::string& loss, const std::string& name);

// target is int64 with every entry in [0, classes), or equal to ignore_index when one is given.
void check_class_indices(const Tensor& target, std::int64_t classes, const std::string& loss,
                         std::optional<std::int64_t> ignore_index = std::nullopt);

// Class-index targets as rows: `index` (M) int64 with ignored entries replaced by class 0 (so that
// gather stays in range; they are masked out after), and `kept` (M), 1 or 0, in dtype. Throws
// unless target is int64 of sample_shape with every entry in [0, classes) or ignore_index.
struct ClassTargets {
  Tensor index;
  Tensor kept;
};
ClassTargets class_targets(const Tensor& target, const Shape& sample_shape, std::int64_t classes,
                           std::optional<std::int64_t> ignore_index, DType dtype, const std::string& loss);

}  // namespace zg::checks
