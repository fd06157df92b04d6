#pragma once
// `zoograd loss list` and `zoograd loss eval`: the loss catalog for teaching and checking numbers.
#include <iosfwd>
#include <string>
#include <vector>

#include "losses/catalog.h"

namespace zg {

// A table of every loss (family, inputs, parameters with defaults), or the same as JSON.
std::string loss_list(bool json);

// "key=value" settings (--set) as loss parameters; throws naming a malformed one.
LossParams parse_loss_settings(const std::vector<std::string>& settings);

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
// asked. Bad JSON, shapes or parameters throw std::invalid_argument with one clear line.
std::string loss_eval(const LossEvalRequest& request, std::istream& json_in);

}  // namespace zg
