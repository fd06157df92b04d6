#pragma once
// The generic checks of a loss's catalog row, the ones zoograd's catalog test runs on every row
// (PyTorch's OpInfo idea): a new row needs no test code of its own. Part of zoograd::testing, for
// an extender's tests: EXPECT_TRUE(check_loss(my_spec).ok()) << check_loss(my_spec).text().
#include <string>
#include <vector>

#include "zoograd/losses/catalog.h"

namespace zg {

struct LossCheck {
  std::vector<std::string> problems;  // each names the check, the reduction and the values
  bool ok() const { return problems.empty(); }
  std::string text() const;           // the problems, one a line
};

// On the row's sample inputs in float64, at the parameters' defaults:
//   - the row is well formed (name, formula, reductions; optional inputs last; samples match the
//     required inputs and their dtypes);
//   - gradcheck with respect to every differentiable input, under every reduction it supports, at
//     gradcheck_params and at each of gradcheck_variants, on two draws of the sample;
//   - `none` gives one value per sample (first dim the first input's), the other reductions a
//     scalar, and sum = Σ none;
//   - mean = sum / (number of values of `none`), and batchmean = sum / N where supported;
//   - the loss and its gradients stay finite with the floating inputs scaled by 1e-3 and by 30;
//   - float32 gives float32 values within 1e-5 of float64's on the same input values (relative,
//     or absolute below 1), and gradients within 1e-5 of their largest element (or of 1);
//   - an unknown parameter is refused with a message naming it.
LossCheck check_loss(const LossSpec& spec);

}  // namespace zg
