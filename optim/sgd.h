#pragma once
// Stochastic gradient descent with PyTorch's update rule, step for step:
//   g ← ∇p + weight_decay·p
//   b ← g on the first step, else momentum·b + (1 - dampening)·g      (when momentum ≠ 0)
//   g ← g + momentum·b if nesterov, else b
//   p ← p - lr·g
// Parameters come in groups, each with its own hyper-parameters (e.g. a margin head's weight).
#include <string>
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

struct ParamGroup {
  std::vector<Tensor> params;
  SGDOptions options;
};

class SGD {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options);
  explicit SGD(std::vector<ParamGroup> groups);

  void step();        // parameters without a gradient are skipped
  void zero_grad();   // drops every gradient (PyTorch's set_to_none)

  std::vector<ParamGroup>& param_groups() { return groups_; }
  // Momentum buffers named "<group>.<index>.momentum_buffer" (created lazily, so some may be missing).
  std::vector<std::pair<std::string, Tensor>> state_dict() const;
  void load_state_dict(const std::vector<std::pair<std::string, Tensor>>& state);

 private:
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<Tensor>> momentum_;  // [group][param], undefined until first used
};

}  // namespace zg
