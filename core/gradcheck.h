#pragma once
// Numerical checks of analytical gradients, PyTorch's defaults: central differences with
// eps 1e-6 in float64, |analytic - numeric| <= atol + rtol·|numeric| for every element, against a
// random upstream gradient (so every output element's gradient is exercised).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  std::uint64_t seed = 0;  // of the random upstream gradient
};

struct GradcheckResult {
  bool ok = true;
  std::string message;     // names the worst element when !ok
  double max_abs_error = 0;
};

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

// Checks d f / d inputs for every input with requires_grad() (float64 leaves); others are passed
// through. The inputs are perturbed in place and restored, so f may reach them another way too
// (a layer's parameters).
GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

// Checks the second derivatives: gradcheck of (inputs, v) -> grad(f(inputs), inputs, v) built with
// create_graph, differentiated with respect to the inputs and v.
GradcheckResult gradgradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace zg
