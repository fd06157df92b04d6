#include "zoograd/layers/sequential.h"

#include <stdexcept>

namespace zg {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> layers) {
  for (const auto& l : layers) push_back(l);
}

void Sequential::push_back(std::shared_ptr<Module> layer) {
  if (!layer) throw std::invalid_argument("Sequential: layer " + std::to_string(layers_.size()) + " is null");
  layers_.push_back(register_module(std::to_string(layers_.size()), std::move(layer)));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& l : layers_) h = l->forward(h);
  return h;
}

}  // namespace zg
