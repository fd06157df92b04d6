#pragma once
// `zoograd loss list` and `zoograd loss eval`: the loss catalog for teaching and checking numbers.
#include <iosfwd>
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"

namespace zg {

// Every loss with its family, formula, inputs, parameters (with defaults) and how a classifier
// feeds it: as text, as JSON, or as the Markdown table of the README.
enum class ListFormat { Text, Json, Markdown };
std::string loss_list(ListFormat format);

struct LossEvalRequest {
  std::string name;
  std::vector<std::string> set;  // "key=value"
  std::string reduction = "mean";
  std::string dtype = "float64";
  bool hessian_diag = false;
};

// The inputs of {"inputs": {"<input name>": nested array, ...}} for the loss, in the order of its
// inputs: floating ones in dtype, class indices int64 (an `or_probabilities` target of the first
// input's shape as probabilities in dtype), optional ones left out as undefined tensors; the
// differentiable ones require grad. Bad JSON, a missing or unknown input throw std::invalid_argument.
std::vector<Tensor> read_loss_inputs(const LossSpec& spec, std::istream& json_in, DType dtype);

// Reads {"inputs": {"<input name>": nested array, ...}} and returns
// {"loss": number or nested array, "grad": {"<input>": nested array}} (gradients of the summed
// loss), plus "hessian_diag" (of the summed loss, per element of each differentiable input) when
// asked, for inputs of at most 4096 elements. JSON has no infinities or NaN: a non-finite result
// is printed as the string "inf", "-inf" or "nan". Bad JSON, shapes, numbers (a fractional or
// huge class index, a float beyond the dtype's range) or parameters throw std::invalid_argument
// with one clear line.
std::string loss_eval(const LossEvalRequest& request, std::istream& json_in);

}  // namespace zg
