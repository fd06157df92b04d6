// The loss explorer's WebAssembly module: zoograd's own core/ and losses/, behind one C function
// that takes a JSON request and returns a JSON answer, so the page computes every number it draws
// with the same code as `zoograd loss eval` and `zoograd loss plot`.
//
//   {"op": "catalog"}  every loss with its parameters, inputs, reductions and sample inputs (seed 0)
//   {"op": "eval", "name", "set": {key: value}, "reduction", "inputs"}  exactly `zoograd loss eval`'s
//       answer (float64)
//   {"op": "sweep", ... as eval, "input", "index", "values": [...]}  the loss and its gradient with
//       respect to element `index` of `input` (flat, row-major) as that element takes each value
//       (null where the loss refuses the value, with the first reason as "domain")
//   {"op": "target_logits", "settings", "theta": [...]}  per angular loss, its name, class-1 boundary
//       formula, target logit per unit scale at each θ (radians) and the class-1 boundary θ2(θ1)
//   {"op": "focal", "gamma", "p_t": [...]}   {"op": "regression", "settings", "errors": [...]}
//   {"op": "normface", "classes", "s": [...]}
// A bad request answers {"error": "..."} with the library's message.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "zoograd/core/generator.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/train/loss/loss_curves.h"
#include "zoograd/train/loss/loss_tool.h"

namespace {

using nlohmann::json;
using namespace zg;

// A tensor as nested arrays of its values.
json nested(const std::vector<double>& values, const Shape& shape, std::size_t dim, std::size_t& at) {
  if (dim == shape.size()) return values[at++];
  json a = json::array();
  for (std::int64_t i = 0; i < shape[dim]; ++i) a.push_back(nested(values, shape, dim + 1, at));
  return a;
}

json catalog() {
  json losses = json::array();
  for (const LossSpec& s : loss_catalog()) {
    json params = json::array(), inputs = json::array(), reductions = json::array(), samples = json::object();
    for (const LossParam& p : s.params) params.push_back({{"name", p.name}, {"default", p.default_value}, {"help", p.help}});
    Generator gen(0);
    const std::vector<Tensor> sample = s.sample(DType::Float64, gen);
    for (std::size_t i = 0; i < s.inputs.size(); ++i) {
      const LossInput& in = s.inputs[i];
      inputs.push_back({{"name", in.name}, {"shape", in.shape}, {"int64", in.dtype == DType::Int64},
                        {"differentiable", in.differentiable}, {"optional", in.optional}});
      if (i >= sample.size()) continue;  // an optional input the sample leaves out
      std::size_t at = 0;
      samples[in.name] = nested(sample[i].to_vector(), sample[i].shape(), 0, at);
    }
    for (Reduction r : s.reductions) reductions.push_back(reduction_name(r));
    losses.push_back({{"name", s.name}, {"family", s.family}, {"formula", s.formula}, {"params", params},
                      {"inputs", inputs}, {"reductions", reductions}, {"sample", samples}});
  }
  return {{"losses", losses}};
}

LossEvalRequest eval_request(const json& q) {
  LossEvalRequest r;
  r.name = q.at("name").get<std::string>();
  if (q.contains("set"))
    for (const auto& [key, value] : q.at("set").items()) {
      std::ostringstream text;
      text.precision(17);
      text << key << "=" << value.get<double>();
      r.set.push_back(text.str());
    }
  r.reduction = q.value("reduction", std::string("mean"));
  r.dtype = "float64";
  return r;
}

std::string eval_text(const LossEvalRequest& r, const json& inputs) {
  std::istringstream in(json{{"inputs", inputs}}.dump());
  return loss_eval(r, in);
}

json sweep(const json& q) {
  const LossEvalRequest r = eval_request(q);
  const std::string input = q.at("input").get<std::string>();
  const auto index = q.at("index").get<std::size_t>();
  json inputs = q.at("inputs"), loss = json::array(), grad = json::array();
  std::string refused;
  json& target = inputs.at(input);
  for (const json& v : q.at("values")) {
    // Set the element `index` of the nested array in row-major order.
    std::size_t seen = 0;
    auto set = [&](auto&& self, json& node) -> bool {
      if (!node.is_array()) {
        if (seen++ == index) return node = v, true;
        return false;
      }
      for (json& child : node)
        if (self(self, child)) return true;
      return false;
    };
    if (!set(set, target)) throw std::invalid_argument("input \"" + input + "\" has no element " + std::to_string(index));
    // A value outside the loss's domain (a probability above 1, ...) breaks the curve there.
    json out;
    try {
      out = json::parse(eval_text(r, inputs));
    } catch (const std::invalid_argument& e) {
      if (refused.empty()) refused = e.what();
      loss.push_back(nullptr), grad.push_back(nullptr);
      continue;
    }
    if (!out.at("loss").is_number()) throw std::invalid_argument("sweep needs a reduced loss: choose mean or sum");
    loss.push_back(out.at("loss"));
    json g = out.at("grad").at(input);
    seen = 0;
    std::function<const json*(const json&)> find = [&](const json& node) -> const json* {
      if (!node.is_array()) return seen++ == index ? &node : nullptr;
      for (const json& child : node)
        if (const json* hit = find(child)) return hit;
      return nullptr;
    };
    grad.push_back(*find(g));
  }
  if (!refused.empty() && std::all_of(loss.begin(), loss.end(), [](const json& v) { return v.is_null(); }))
    throw std::invalid_argument(refused);
  json out = {{"loss", loss}, {"grad", grad}};
  if (!refused.empty()) out["domain"] = refused;
  return out;
}

AngularSettings angular(const json& s) {
  AngularSettings a;
  a.sphereface_m = s.value("sphereface_m", a.sphereface_m);
  a.sphereface_lambda = s.value("sphereface_lambda", a.sphereface_lambda);
  a.cosface_m = s.value("cosface_m", a.cosface_m);
  a.arcface_m = s.value("arcface_m", a.arcface_m);
  a.m1 = s.value("m1", a.m1), a.m2 = s.value("m2", a.m2), a.m3 = s.value("m3", a.m3);
  return a;
}

// NaN is not JSON: points where a curve is undefined are null.
json numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? json(x) : json(nullptr));
  return a;
}

json answer(const json& q) {
  const std::string op = q.at("op").get<std::string>();
  if (op == "catalog") return catalog();
  if (op == "eval") return json::parse(eval_text(eval_request(q), q.at("inputs")));
  if (op == "sweep") return sweep(q);
  if (op == "target_logits") {
    const auto theta = q.at("theta").get<std::vector<double>>();
    json out = json::array();
    for (const AngularTargetLogit& loss : angular_target_logits(angular(q.value("settings", json::object()))))
      out.push_back({{"name", loss.name}, {"boundary", loss.boundary}, {"target_logit", numbers(target_logit_at(loss, theta))},
                     {"class1_boundary", numbers(class1_boundary(loss, theta))}});
    return {{"losses", out}};
  }
  if (op == "focal") return {{"loss", numbers(focal_loss_at(q.at("p_t").get<std::vector<double>>(), q.at("gamma").get<double>()))}};
  if (op == "regression") {
    const json s = q.value("settings", json::object());
    RegressionSettings r;
    r.delta = s.value("delta", r.delta), r.beta = s.value("beta", r.beta), r.tau = s.value("tau", r.tau);
    json out = json::array();
    for (const LossCurve& c : regression_curves(q.at("errors").get<std::vector<double>>(), r))
      out.push_back({{"label", c.label}, {"loss", numbers(c.loss)}, {"grad", numbers(c.grad)}});
    return {{"curves", out}};
  }
  if (op == "normface") {
    const auto classes = q.at("classes").get<std::int64_t>();
    const auto s = q.at("s").get<std::vector<double>>();
    std::vector<double> bound;
    for (double v : s) bound.push_back(normface_bound(classes, v));
    return {{"library", numbers(normface_simplex_loss(classes, s))}, {"closed_form", numbers(bound)}};
  }
  throw std::invalid_argument("unknown op \"" + op + "\"");
}

char* copy(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

}  // namespace

extern "C" {

// The answer to a JSON request, as a NUL-terminated string the caller frees with zg_free.
char* zg_explore(const char* request) {
  try {
    return copy(answer(json::parse(request)).dump());
  } catch (const std::exception& e) {
    return copy(json{{"error", e.what()}}.dump());
  }
}

void zg_free(char* p) { std::free(p); }

}  // extern "C"
