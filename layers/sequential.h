#pragma once
#include <initializer_list>
#include <memory>

#include "zoograd/layers/module.h"

namespace zg {

// Runs its children in order; they are named "0", "1", ... as in PyTorch.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);
  void push_back(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;

  std::size_t size() const { return layers_.size(); }
  Module& operator[](std::size_t i) const { return *layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> layers_;
};

}  // namespace zg
