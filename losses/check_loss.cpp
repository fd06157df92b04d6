#include "zoograd/losses/check_loss.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>

#include "zoograd/core/autograd.h"
#include "zoograd/core/gradcheck.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

bool supports(const LossSpec& s, Reduction r) {
  return std::find(s.reductions.begin(), s.reductions.end(), r) != s.reductions.end();
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

bool near(double a, double b) { return std::abs(a - b) <= 1e-9 * (1 + std::abs(b)); }

// Float32's rounding (6e-8) grown through a loss's few dozen operations. A value is held to it
// relative to itself or to 1, whichever is larger: a loss that is a difference of large terms
// (logsumexp(z) - z_y with logits s·cos θ up to 64) keeps float32's absolute accuracy only. A
// gradient element is held to it relative to the largest element of its gradient (or to 1): a
// small element is a sum of terms of the size of the large ones (ArcFace's s = 64, circle loss's
// γ = 256). Measured on the catalog's samples: at most 2.4e-6 and 6.3e-6 of those scales.
constexpr double kFloat32Tolerance = 1e-5;

// The row's float64 samples, differentiable inputs as leaves that require grad and scaled by
// scale (a bounded one only when scale < 1, which keeps it in its domain).
std::vector<Tensor> samples(const LossSpec& s, std::uint64_t seed, double scale = 1) {
  Generator gen(seed);
  std::vector<Tensor> in = s.sample(DType::Float64, gen);
  for (std::size_t i = 0; i < in.size() && i < s.inputs.size(); ++i) {
    if (!s.inputs[i].differentiable) continue;
    if (scale < 1 || !s.inputs[i].bounded) in[i] = in[i] * scale;
    in[i] = in[i].detach().requires_grad_();
  }
  return in;
}

void check_form(const LossSpec& s, std::vector<std::string>& problems) {
  if (s.name.empty() || s.formula.empty()) problems.push_back("form: the row needs its name and formula");
  if (s.reductions.empty()) problems.push_back("form: the row lists no reduction");
  std::size_t required = 0;
  for (std::size_t i = 0; i < s.inputs.size(); ++i)
    if (!s.inputs[i].optional) required = i + 1;
  Generator gen(1);
  const std::vector<Tensor> in = s.sample(DType::Float64, gen);
  for (std::size_t i = 0; i < s.inputs.size(); ++i) {
    if (s.inputs[i].optional && i < required)
      problems.push_back("form: optional input " + s.inputs[i].name + " comes before a required one; optional ones go last");
    if (s.inputs[i].or_probabilities && s.inputs[i].dtype != DType::Int64)
      problems.push_back("form: input " + s.inputs[i].name + " may hold probabilities instead of class indices, so it "
                         "is declared Int64");
  }
  if (in.size() != required)
    problems.push_back("form: the sample gives " + std::to_string(in.size()) + " inputs for " +
                       std::to_string(required) + " required ones");
  for (std::size_t i = 0; i < in.size() && i < s.inputs.size(); ++i)
    if (is_floating(in[i].dtype()) != (s.inputs[i].dtype != DType::Int64))
      problems.push_back("form: sample input " + s.inputs[i].name + " is " + dtype_name(in[i].dtype()) +
                         ", not the dtype its row declares");
}

// " at delta=0.1, p=2", or "" for the defaults.
std::string params_text(const LossParams& params) {
  std::string text;
  for (const auto& [name, value] : params) text += (text.empty() ? " at " : ", ") + name + "=" + number_text(value);
  return text;
}

// Under every reduction, at gradcheck_params and at each of gradcheck_variants over them, on two
// draws of the sample (generator seeds 1 and 2), so that a branch one draw misses the other may meet.
void check_gradients(const LossSpec& s, std::vector<std::string>& problems) {
  std::vector<LossParams> settings{s.gradcheck_params};
  for (const LossParams& variant : s.gradcheck_variants) {
    LossParams params = s.gradcheck_params;
    for (const auto& [name, value] : variant) params[name] = value;
    settings.push_back(params);
  }
  for (std::uint64_t seed : {1, 2})
    for (const LossParams& params : settings)
      for (Reduction r : s.reductions) {
        const std::vector<Tensor> in = samples(s, seed);
        GradcheckResult g = gradcheck([&](const std::vector<Tensor>& x) { return s.call(x, params, r); }, in);
        if (!g.ok)
          problems.push_back(std::string("gradcheck under ") + reduction_name(r) + params_text(params) + " (sample " +
                             std::to_string(seed) + "): " + g.message);
      }
}

void check_reductions(const LossSpec& s, std::vector<std::string>& problems) {
  if (!supports(s, Reduction::None) || !supports(s, Reduction::Sum)) return;
  NoGradGuard no_grad;
  const std::vector<Tensor> in = samples(s, 2);
  for (Reduction r : s.reductions)
    if (const Tensor v = s.call(in, {}, r); r != Reduction::None && v.dim() != 0)
      problems.push_back(std::string(reduction_name(r)) + ": shape " + to_string(v.shape()) + ", expected a scalar");
  const Tensor none = s.call(in, {}, Reduction::None);
  const double total = sum(s.call(in, {}, Reduction::Sum)).item();
  if (none.dim() < 1 || (in[0].dim() >= 1 && none.size(0) != in[0].size(0)))
    problems.push_back("none: shape " + to_string(none.shape()) + ", expected one value per sample (first dim " +
                       (in[0].dim() >= 1 ? std::to_string(in[0].size(0)) : std::string("of the input")) + ")");
  if (!near(sum(none).item(), total))
    problems.push_back("sum: " + number_text(total) + ", but the values of none add up to " +
                       number_text(sum(none).item()));
  if (supports(s, Reduction::Mean)) {
    const double mean = sum(s.call(in, {}, Reduction::Mean)).item(), count = static_cast<double>(none.numel());
    if (!near(mean * count, total))
      problems.push_back("mean: " + number_text(mean) + " times the " + number_text(count) +
                         " values of none is not sum " + number_text(total));
  }
  if (supports(s, Reduction::BatchMean)) {
    const double batchmean = sum(s.call(in, {}, Reduction::BatchMean)).item();
    if (!near(batchmean * static_cast<double>(in[0].size(0)), total))
      problems.push_back("batchmean: " + number_text(batchmean) + " is not sum / N");
  }
}

void check_extremes(const LossSpec& s, std::vector<std::string>& problems) {
  for (double scale : {1e-3, 30.0})
    for (Reduction r : s.reductions) {
      const std::vector<Tensor> in = samples(s, 3, scale);
      const Tensor loss = s.call(in, {}, r);
      std::string where = std::string("extremes: inputs scaled by ") + number_text(scale) + " under " + reduction_name(r);
      if (!all_finite(loss)) {
        problems.push_back(where + ": the loss is not finite");
        continue;
      }
      std::vector<Tensor> wrt;
      for (const Tensor& t : in)
        if (t.requires_grad()) wrt.push_back(t);
      const Tensor total = sum(loss);
      if (wrt.empty() || !total.requires_grad()) continue;
      for (const Tensor& g : grad({total}, wrt))
        if (g.defined() && !all_finite(g)) problems.push_back(where + ": a gradient is not finite");
    }
}

// Float32 against float64 on the same input values (the float64 samples rounded to float32), the
// loss and its gradients, under every reduction, to kFloat32Tolerance.
void check_float32(const LossSpec& s, std::vector<std::string>& problems) {
  auto differ = [](double a, double b, double scale) {
    return !(std::abs(a - b) <= kFloat32Tolerance * std::max({1.0, std::abs(b), scale}));
  };
  for (Reduction r : s.reductions) {
    std::vector<Tensor> single, twice, wrt32, wrt64;
    for (const Tensor& t : samples(s, 5)) {
      const bool floating = is_floating(t.dtype());
      single.push_back(floating ? t.detach().to(DType::Float32) : t);
      twice.push_back(floating ? single.back().to(DType::Float64) : t);
      if (!t.requires_grad()) continue;
      wrt32.push_back(single.back().requires_grad_());
      wrt64.push_back(twice.back().requires_grad_());
    }
    const Tensor l32 = s.call(single, {}, r), l64 = s.call(twice, {}, r);
    const std::string where = std::string("float32 under ") + reduction_name(r);
    if (l32.dtype() != DType::Float32) {
      problems.push_back(where + ": the loss of float32 inputs is " + dtype_name(l32.dtype()));
      continue;
    }
    const std::vector<double> a = l32.to_vector(), b = l64.to_vector();
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
      if (differ(a[i], b[i], 0)) {
        problems.push_back(where + ": value " + std::to_string(i) + " is " + number_text(a[i]) + ", float64 gives " +
                           number_text(b[i]));
        break;
      }
    if (wrt32.empty() || !l32.requires_grad()) continue;
    const std::vector<Tensor> g32 = grad({sum(l32)}, wrt32), g64 = grad({sum(l64)}, wrt64);
    for (std::size_t k = 0; k < g32.size(); ++k) {
      if (!g32[k].defined() || !g64[k].defined()) continue;
      const std::vector<double> ga = g32[k].to_vector(), gb = g64[k].to_vector();
      double largest = 0;
      for (double v : gb) largest = std::max(largest, std::abs(v));
      for (std::size_t i = 0; i < ga.size(); ++i)
        if (differ(ga[i], gb[i], largest)) {
          problems.push_back(where + ": gradient element " + std::to_string(i) + " of differentiable input " +
                             std::to_string(k) + " is " + number_text(ga[i]) + ", float64 gives " + number_text(gb[i]));
          break;
        }
    }
  }
}

void check_unknown_parameter(const LossSpec& s, std::vector<std::string>& problems) {
  const std::vector<Tensor> in = samples(s, 4);
  try {
    s.call(in, {{"no_such_parameter", 1.0}}, s.reductions.front());
    problems.push_back("parameters: an unknown parameter \"no_such_parameter\" was accepted");
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).find("no_such_parameter") == std::string::npos)
      problems.push_back(std::string("parameters: the refusal does not name the unknown parameter: ") + e.what());
  }
}

}  // namespace

std::string LossCheck::text() const {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

LossCheck check_loss(const LossSpec& row) {
  // The row as the catalog runs it (register_loss): every declared parameter through with_defaults.
  LossSpec spec = row;
  spec.call = [name = row.name, declared = row.params, call = row.call](const std::vector<Tensor>& in,
                                                                        const LossParams& given, Reduction r) {
    return call(in, with_defaults(name, declared, given), r);
  };
  LossCheck check;
  auto run = [&](const char* what, void (*step)(const LossSpec&, std::vector<std::string>&)) {
    try {
      step(spec, check.problems);
    } catch (const std::exception& e) {
      check.problems.push_back(std::string(what) + ": threw " + e.what());
    }
  };
  run("form", check_form);
  if (!check.ok()) return check;
  run("gradcheck", check_gradients);
  run("reductions", check_reductions);
  run("extremes", check_extremes);
  run("float32", check_float32);
  run("parameters", check_unknown_parameter);
  for (std::string& p : check.problems) p = spec.name + ": " + p;
  return check;
}

}  // namespace zg
