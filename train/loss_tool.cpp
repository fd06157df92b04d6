#include "train/loss_tool.h"

#include <algorithm>
#include <optional>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/ops.h"
#include "losses/catalog.h"
#include "train/loss_hessian_check.h"

namespace zg {

namespace {

using nlohmann::json;

std::string input_text(const LossInput& in) {
  std::string text = in.name + " " + in.shape + (in.dtype == DType::Int64 && !in.or_probabilities ? " int64" : "");
  return in.optional ? "optional " + text : text;
}

// A nested JSON array as a tensor: the shape from the nesting, every row the same length.
Tensor from_json(const json& j, DType dtype, const std::string& name) {
  Shape shape;
  for (const json* level = &j; level->is_array(); level = &(*level)[0]) {
    shape.push_back(static_cast<std::int64_t>(level->size()));
    if (level->empty()) break;
  }
  std::vector<double> values;
  std::function<void(const json&, std::size_t)> walk = [&](const json& v, std::size_t depth) {
    if (depth == shape.size()) {
      if (!v.is_number()) throw std::invalid_argument("input \"" + name + "\": expected a number, got " + v.dump());
      values.push_back(v.get<double>());
      return;
    }
    if (!v.is_array() || static_cast<std::int64_t>(v.size()) != shape[depth])
      throw std::invalid_argument("input \"" + name + "\": ragged nested array (expected shape " + to_string(shape) + ")");
    for (const json& x : v) walk(x, depth + 1);
  };
  walk(j, 0);
  return reshape(tensor(values, Shape{static_cast<std::int64_t>(values.size())}, dtype), shape);
}

json to_json(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  if (t.dim() == 0) return v[0];
  std::function<json(std::size_t, std::size_t&)> build = [&](std::size_t depth, std::size_t& at) -> json {
    json arr = json::array();
    for (std::int64_t i = 0; i < t.shape()[depth]; ++i)
      arr.push_back(depth + 1 == t.shape().size() ? json(v[at++]) : build(depth + 1, at));
    return arr;
  };
  std::size_t at = 0;
  return build(0, at);
}


std::string classifier_text(const std::optional<ClassifierUse>& use) {
  if (!use) return "";
  static const char* const scores[] = {"logits", "log_softmax", "sigmoid", "linear head", "cosine head"};
  static const char* const labels[] = {"class index", "one-hot", "±1 one-vs-rest"};
  return std::string(scores[static_cast<int>(use->scores)]) + ", " + labels[static_cast<int>(use->labels)];
}

// A Markdown table cell: '|' would end the cell.
std::string cell(const std::string& s) {
  std::string r;
  for (char c : s) r += c == '|' ? std::string("\\|") : std::string(1, c);
  return r;
}

}  // namespace

std::string loss_list(ListFormat format) {
  json all = json::array();
  std::ostringstream text;
  std::string table =
      "| loss | family | formula | parameters (defaults) | `zoograd train --loss` feeds it |\n|---|---|---|---|---|\n";
  for (const LossSpec& s : loss_catalog()) {
    json inputs = json::array(), params = json::array(), reductions = json::array();
    std::string in_text, param_text;
    for (const LossInput& in : s.inputs) {
      inputs.push_back({{"name", in.name}, {"shape", in.shape}, {"dtype", in.dtype == DType::Int64 ? "int64" : "float"},
                        {"differentiable", in.differentiable}, {"optional", in.optional},
                        {"or_probabilities", in.or_probabilities}});
      in_text += (in_text.empty() ? "" : "; ") + input_text(in);
    }
    for (const LossParam& p : s.params) {
      params.push_back({{"name", p.name}, {"default", p.default_value}, {"help", p.help}});
      std::ostringstream d;
      d << p.name << "=" << p.default_value;
      param_text += (param_text.empty() ? "" : ", ") + d.str();
    }
    for (Reduction r : s.reductions) reductions.push_back(reduction_name(r));
    std::string use = classifier_text(s.classifier);
    all.push_back({{"name", s.name}, {"family", s.family}, {"formula", s.formula}, {"inputs", inputs},
                   {"params", params}, {"reductions", reductions}, {"classifier", use.empty() ? json() : json(use)}});
    text << s.name << "  [" << s.family << "]\n    " << s.formula << "\n    inputs: " << in_text
         << "\n    params: " << (param_text.empty() ? "-" : param_text) << "\n";
    if (!use.empty()) text << "    trains a classifier: " << use << "\n";
    table += "| `" + s.name + "` | " + s.family + " | `" + cell(s.formula) + "` | " + (param_text.empty() ? "-" : param_text) +
             " | " + (use.empty() ? "-" : use) + " |\n";
  }
  if (format == ListFormat::Json) return all.dump(2) + "\n";
  return format == ListFormat::Markdown ? table : text.str();
}

LossParams parse_loss_settings(const std::vector<std::string>& settings) {
  LossParams params;
  for (const std::string& kv : settings) {
    auto eq_at = kv.find('=');
    if (eq_at == std::string::npos || eq_at == 0) throw std::invalid_argument("--set " + kv + ": expected key=value");
    try {
      std::size_t used = 0;
      params[kv.substr(0, eq_at)] = std::stod(kv.substr(eq_at + 1), &used);
      if (used != kv.size() - eq_at - 1) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      throw std::invalid_argument("--set " + kv + ": the value is not a number");
    }
  }
  return params;
}

std::vector<Tensor> read_loss_inputs(const LossSpec& spec, std::istream& json_in, DType dtype) {
  json doc;
  try {
    doc = json::parse(json_in);
  } catch (const json::exception& e) {
    throw std::invalid_argument(std::string("stdin is not valid JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("inputs") || !doc["inputs"].is_object())
    throw std::invalid_argument("stdin must be {\"inputs\": {\"<input name>\": <nested array>, ...}}");
  std::vector<Tensor> inputs;
  for (const LossInput& in : spec.inputs) {
    if (!doc["inputs"].contains(in.name)) {
      if (in.optional) {
        inputs.emplace_back();  // left out: the call sees an undefined tensor
        continue;
      }
      throw std::invalid_argument(spec.name + " needs input \"" + in.name + "\" (" + in.shape + ")");
    }
    const json& value = doc["inputs"][in.name];
    DType as = in.dtype == DType::Int64 ? DType::Int64 : dtype;
    // Class probabilities instead of indices: a nested array of the first input's shape (PyTorch's rule).
    if (in.or_probabilities && !inputs.empty() && from_json(value, dtype, in.name).shape() == inputs[0].shape())
      as = dtype;
    Tensor t = from_json(value, as, in.name);
    if (in.differentiable) t.requires_grad_();
    inputs.push_back(t);
  }
  for (auto it = doc["inputs"].begin(); it != doc["inputs"].end(); ++it) {
    bool known = false;
    for (const LossInput& in : spec.inputs) known = known || in.name == it.key();
    if (!known) throw std::invalid_argument(spec.name + " has no input \"" + it.key() + "\"");
  }
  return inputs;
}

std::string loss_eval(const LossEvalRequest& request, std::istream& json_in) {
  const LossSpec& spec = find_loss(request.name);
  LossParams params = parse_loss_settings(request.set);
  for (const auto& [key, value] : params) param(spec, {}, key);  // throws for a parameter the loss does not have
  Reduction reduction = parse_reduction(request.reduction);
  if (std::find(spec.reductions.begin(), spec.reductions.end(), reduction) == spec.reductions.end())
    throw std::invalid_argument(spec.name + " does not support reduction " + request.reduction);
  if (request.dtype != "float32" && request.dtype != "float64")
    throw std::invalid_argument("--dtype must be float32 or float64, got " + request.dtype);
  DType dtype = request.dtype == "float32" ? DType::Float32 : DType::Float64;

  std::vector<Tensor> inputs = read_loss_inputs(spec, json_in, dtype);
  Tensor loss = spec.call(inputs, params, reduction);
  json out = {{"loss", to_json(loss)}, {"grad", json::object()}};
  std::vector<Tensor> wrt;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (spec.inputs[i].differentiable && inputs[i].defined()) {
      wrt.push_back(inputs[i]);
      names.push_back(spec.inputs[i].name);
    }
  if (!wrt.empty()) {
    Tensor total = sum(loss);
    std::vector<Tensor> grads = grad({total}, wrt, {}, true, request.hessian_diag);
    for (std::size_t k = 0; k < wrt.size(); ++k) out["grad"][names[k]] = to_json(grads[k]);
    if (request.hessian_diag) {
      out["hessian_diag"] = json::object();
      std::optional<ClosedFormHessian> closed = closed_form_hessian_diag(spec, inputs, params, reduction);
      for (std::size_t k = 0; k < wrt.size(); ++k) {
        Tensor flat = reshape(grads[k], {-1});
        std::vector<double> diag;
        for (std::int64_t e = 0; e < flat.numel(); ++e) {
          Tensor second = grad({slice(flat, 0, e, e + 1)}, {wrt[k]}, {}, true)[0];
          diag.push_back(reshape(second, {-1}).to_vector()[static_cast<std::size_t>(e)]);
        }
        Tensor h = reshape(tensor(diag, Shape{static_cast<std::int64_t>(diag.size())}, DType::Float64), wrt[k].shape());
        // Where losses/hessians.h has the closed form, print it, and how far double backward is from it.
        if (closed && spec.inputs[closed->input].name == names[k]) {
          Tensor formula = closed->diag.to(DType::Float64);
          out["hessian_check"][names[k]] = {{"closed_form", closed->source},
                                            {"max_abs_difference_from_autograd", max(abs(formula - h)).item()}};
          h = formula;
        }
        out["hessian_diag"][names[k]] = to_json(h);
      }
    }
  }
  return out.dump() + "\n";
}

}  // namespace zg
