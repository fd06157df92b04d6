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
  if (in.size() != required)
    problems.push_back("form: the sample gives " + std::to_string(in.size()) + " inputs for " +
                       std::to_string(required) + " required ones");
  for (std::size_t i = 0; i < in.size() && i < s.inputs.size(); ++i)
    if (is_floating(in[i].dtype()) != (s.inputs[i].dtype != DType::Int64))
      problems.push_back("form: sample input " + s.inputs[i].name + " is " + dtype_name(in[i].dtype()) +
                         ", not the dtype its row declares");
}

void check_gradients(const LossSpec& s, std::vector<std::string>& problems) {
  for (Reduction r : s.reductions) {
    const std::vector<Tensor> in = samples(s, 1);
    GradcheckResult g =
        gradcheck([&](const std::vector<Tensor>& x) { return s.call(x, s.gradcheck_params, r); }, in);
    if (!g.ok) problems.push_back(std::string("gradcheck under ") + reduction_name(r) + ": " + g.message);
  }
}

void check_reductions(const LossSpec& s, std::vector<std::string>& problems) {
  if (!supports(s, Reduction::None) || !supports(s, Reduction::Sum)) return;
  NoGradGuard no_grad;
  const std::vector<Tensor> in = samples(s, 2);
  const Tensor none = s.call(in, {}, Reduction::None);
  const double total = s.call(in, {}, Reduction::Sum).item();
  if (none.dim() < 1 || (in[0].dim() >= 1 && none.size(0) != in[0].size(0)))
    problems.push_back("none: shape " + to_string(none.shape()) + ", expected one value per sample (first dim " +
                       (in[0].dim() >= 1 ? std::to_string(in[0].size(0)) : std::string("of the input")) + ")");
  if (!near(sum(none).item(), total))
    problems.push_back("sum: " + number_text(total) + ", but the values of none add up to " +
                       number_text(sum(none).item()));
  if (supports(s, Reduction::Mean)) {
    const double mean = s.call(in, {}, Reduction::Mean).item(), count = static_cast<double>(none.numel());
    if (!near(mean * count, total))
      problems.push_back("mean: " + number_text(mean) + " times the " + number_text(count) +
                         " values of none is not sum " + number_text(total));
  }
  if (supports(s, Reduction::BatchMean)) {
    const double batchmean = s.call(in, {}, Reduction::BatchMean).item();
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
  run("parameters", check_unknown_parameter);
  for (std::string& p : check.problems) p = spec.name + ": " + p;
  return check;
}

}  // namespace zg
