#include "zoograd/layers/module.h"

#include <map>
#include <stdexcept>

#include "zoograd/core/autograd.h"

namespace zg {

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  if (t.is_leaf() && !t.requires_grad()) t.requires_grad_();
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  buffers_.emplace_back(name, t);
  return t;
}

void Module::collect(const std::string& prefix, bool params, bool buffers, NamedTensors& out) const {
  if (params)
    for (const auto& [name, t] : params_) out.emplace_back(prefix + name, t);
  if (buffers)
    for (const auto& [name, t] : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

void Module::to(DType dtype) {
  if (!is_floating(dtype)) throw std::invalid_argument("Module::to: expected float32 or float64");
  for (auto& [name, t] : state_dict()) {
    if (!is_floating(t.dtype()) || t.dtype() == dtype) continue;
    Tensor converted = t.detach().to(dtype);
    t.impl().storage = converted.impl().storage;  // every handle of t sees the new values
    t.impl().dtype = dtype;
    t.set_grad(Tensor());
  }
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  NamedTensors b = named_buffers();
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

void Module::load_state_dict(const NamedTensors& state) {
  std::map<std::string, Tensor> given(state.begin(), state.end());
  NamedTensors own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, bool> known;
  for (auto& [name, t] : own) {
    known[name] = true;
    auto it = given.find(name);
    if (it == given.end()) missing.push_back("\"" + name + "\"");
    else if (it->second.shape() != t.shape() || it->second.dtype() != t.dtype())
      mismatched.push_back("size mismatch for " + name + ": copying a param with shape " +
                           to_string(it->second.shape()) + " (" + dtype_name(it->second.dtype()) +
                           ") from checkpoint, the shape in current model is " + to_string(t.shape()) + " (" +
                           dtype_name(t.dtype()) + ")");
  }
  for (auto& [name, t] : given)
    if (!known.count(name)) unexpected.push_back("\"" + name + "\"");
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string msg = "Error(s) in loading state_dict:";
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    if (!missing.empty()) msg += "\n\tMissing key(s) in state_dict: " + join(missing) + ".";
    if (!unexpected.empty()) msg += "\n\tUnexpected key(s) in state_dict: " + join(unexpected) + ".";
    for (const auto& m : mismatched) msg += "\n\t" + m + ".";
    throw std::invalid_argument(msg);
  }
  for (auto& [name, t] : own) t.copy_(given[name]);
}

}  // namespace zg
