#pragma once
// Module: the base of every layer. It owns named parameters, buffers (non-trainable state such as
// BatchNorm's running statistics) and child modules, and gives PyTorch's dotted names
// ("0.weight", "features.3.bias") to all of them.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "zoograd/core/tensor.h"

namespace zg {

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  std::vector<Tensor> parameters() const;
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }

  void train(bool on = true);  // also switches every child
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();            // drops every parameter's gradient (PyTorch's set_to_none)
  void to(DType dtype);        // converts every floating parameter and buffer in place

  // Parameters, then buffers, with dotted names.
  NamedTensors state_dict() const;
  // Copies values into the existing tensors. Strict: every key must match, with the same shape;
  // otherwise throws listing the missing keys, unexpected keys and size mismatches.
  void load_state_dict(const NamedTensors& state);

 protected:
  // Registers and returns t (a handle: the layer keeps its own copy of it).
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  void collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace zg
