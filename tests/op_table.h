#pragma once
// The op table swept by tests/test_op_table.cpp: every op of core that records a graph node, the
// ops that only appear in backward graphs (called directly), and the composite public functions,
// each with small sample inputs. Inputs are kept at least 0.05 away from kinks (relu/abs/clamp at
// 0 or at the bounds, max ties, acos near ±1, log/sqrt near 0, pow with a non-positive base) so
// that central differences are valid.
#include <functional>
#include <string>
#include <vector>

#include "zoograd/core/generator.h"
#include "zoograd/core/tensor.h"

namespace zg_tests {

struct OpCase {
  // "op/variant": op is the recorded op name (or the composite function's name).
  std::string name;
  // The inputs in the given floating dtype: inputs to differentiate have requires_grad set; index
  // tensors are int64; a few cases add constants of a fixed dtype (mixed-dtype promotion).
  std::function<std::vector<zg::Tensor>(zg::DType, zg::Generator&)> make;
  std::function<zg::Tensor(const std::vector<zg::Tensor>&)> call;
  // False when gradgradcheck legitimately cannot check this case; why_no_gradgrad says why.
  bool gradgrad = true;
  std::string why_no_gradgrad;
};

std::vector<OpCase> op_table();

// The case's inputs in dtype, drawn from a generator seeded by the case's name, so each case
// gets the same inputs whichever tests run.
std::vector<zg::Tensor> make_inputs(const OpCase& c, zg::DType dtype);

// The op part of a case name: "add/broadcast_row" -> "add".
std::string op_of(const OpCase& c);

}  // namespace zg_tests
