#include "zoograd/train/loss/loss_tool.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "zoograd/core/ops.h"
#include "zoograd/losses/catalog.h"
#include "zoograd/train/run/values.h"
#include "zoograd/train/loss/loss_hessian_check.h"

namespace zg {

namespace {

using nlohmann::json;

constexpr std::int64_t kMaxHessianElements = 4096;

std::string input_text(const LossInput& in) {
  std::string text = in.name + " " + in.shape + (in.dtype == DType::Int64 && !in.or_probabilities ? " int64" : "");
  return in.optional ? "optional " + text : text;
}

// A nested JSON array as a tensor: the shape from the nesting, every row the same length, every
// number through the door: a class index whole, a float finite in the dtype's range.
Tensor from_json(const json& j, DType dtype, const std::string& name) {
  Shape shape;
  for (const json* level = &j; level->is_array(); level = &(*level)[0]) {
    shape.push_back(static_cast<std::int64_t>(level->size()));
    if (level->empty()) break;
  }
  const double most = dtype == DType::Float32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  const ValueRange range = dtype == DType::Int64 ? ValueRange::index() : ValueRange::real(-most, most);
  const std::string what = "input " + json(name).dump() + " (" + dtype_name(dtype) + ")";
  std::vector<double> values;
  std::function<void(const json&, std::size_t, const std::string&)> walk = [&](const json& v, std::size_t depth,
                                                                              const std::string& at) {
    if (depth == shape.size()) {
      values.push_back(number_in(what + at, v.dump(), range));
      return;
    }
    if (!v.is_array() || static_cast<std::int64_t>(v.size()) != shape[depth])
      throw UsageError("input \"" + name + "\": ragged nested array (expected shape " + to_string(shape) + ")");
    for (std::size_t i = 0; i < v.size(); ++i) walk(v[i], depth + 1, at + "[" + std::to_string(i) + "]");
  };
  walk(j, 0, "");
  return reshape(tensor(values, Shape{static_cast<std::int64_t>(values.size())}, dtype), shape);
}

// A number of the output; JSON has no infinities or NaN, so those are the strings "inf", "-inf", "nan".
json number_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json to_json(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  if (t.dim() == 0) return number_json(v[0]);
  std::function<json(std::size_t, std::size_t&)> build = [&](std::size_t depth, std::size_t& at) -> json {
    json arr = json::array();
    for (std::int64_t i = 0; i < t.shape()[depth]; ++i)
      arr.push_back(depth + 1 == t.shape().size() ? number_json(v[at++]) : build(depth + 1, at));
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
      params.push_back({{"name", p.name}, {"default", p.default_value}, {"accepts", p.range.text()}, {"help", p.help}});
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
  LossParams params = loss_settings("--set", request.set);
  try {
    with_defaults(spec.name, spec.params, params);  // an unknown name or a value out of its range
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--set: ") + e.what());
  }
  Reduction reduction = parse_reduction(request.reduction);
  if (std::find(spec.reductions.begin(), spec.reductions.end(), reduction) == spec.reductions.end())
    throw std::invalid_argument(spec.name + " does not support reduction " + request.reduction);
  if (request.dtype != "float32" && request.dtype != "float64")
    throw std::invalid_argument("--dtype must be float32 or float64, got " + request.dtype);
  DType dtype = request.dtype == "float32" ? DType::Float32 : DType::Float64;

  std::vector<Tensor> inputs = read_loss_inputs(spec, json_in, dtype);
  // The Hessian diagonal takes one backward pass per element: the loop's length is checked here.
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (request.hessian_diag && spec.inputs[i].differentiable && inputs[i].defined() &&
        inputs[i].numel() > kMaxHessianElements)
      throw UsageError("--hessian-diag: input \"" + spec.inputs[i].name + "\" has " +
                       std::to_string(inputs[i].numel()) + " elements; the diagonal takes a backward pass for each, so at most " +
                       std::to_string(kMaxHessianElements));
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
    std::vector<Tensor> grads = grad({total}, wrt, {}, {.retain_graph = true, .create_graph = request.hessian_diag});
    for (std::size_t k = 0; k < wrt.size(); ++k) out["grad"][names[k]] = to_json(grads[k]);
    if (request.hessian_diag) {
      out["hessian_diag"] = json::object();
      std::optional<ClosedFormHessian> closed = closed_form_hessian_diag(spec, inputs, params, reduction);
      for (std::size_t k = 0; k < wrt.size(); ++k) {
        Tensor flat = reshape(grads[k], {-1});
        std::vector<double> diag;
        for (std::int64_t e = 0; e < flat.numel(); ++e) {
          Tensor second = grad({slice(flat, 0, e, e + 1)}, {wrt[k]}, {}, {.retain_graph = true})[0];
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
