#pragma once
// `zoograd loss list` and `zoograd loss eval`: the loss catalog for teaching and checking numbers.
#include <iosfwd>
#include <string>
#include <vector>

#include "losses/catalog.h"

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

// Reads {"inputs": {"<input name>": nested array, ...}} and returns
// {"loss": number or nested array, "grad": {"<input>": nested array}} (gradients of the summed
// loss), plus "hessian_diag" (of the summed loss, per element of each differentiable input) when
// asked, for inputs of at most 4096 elements. JSON has no infinities or NaN: a non-finite result
// is printed as the string "inf", "-inf" or "nan". Bad JSON, shapes, numbers (a fractional or
// huge class index, a float beyond the dtype's range) or parameters throw std::invalid_argument
// with one clear line.
std::string loss_eval(const LossEvalRequest& request, std::istream& json_in);

}  // namespace zg
