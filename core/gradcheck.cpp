#include "zoograd/core/gradcheck.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "zoograd/core/generator.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

// Σ f(inputs) ⊙ v. Grad mode stays on: f may itself take gradients (gradgradcheck).
double project(const TensorFunction& f, const std::vector<Tensor>& inputs, const Tensor& v) {
  Tensor out = f(inputs);
  return sum(out.to(DType::Float64) * v).item();
}

std::string index_string(std::int64_t flat, const Shape& shape) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return to_string(idx);
}

}  // namespace

GradcheckResult gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  // The inputs themselves are perturbed (and restored), as PyTorch does, so f may also reach them
  // another way, e.g. as the parameters of a layer it calls.
  const std::vector<Tensor>& xs = inputs;
  std::vector<Tensor> diff;
  std::vector<std::size_t> diff_index;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.requires_grad()) continue;
    if (t.dtype() != DType::Float64 || !t.is_leaf())
      throw std::invalid_argument("gradcheck: input " + std::to_string(i) + " must be a float64 leaf, got a " +
                                  (t.is_leaf() ? "" : "non-leaf ") + dtype_name(t.dtype()) + " tensor");
    diff.push_back(t);
    diff_index.push_back(i);
  }
  GradcheckResult result;
  if (diff.empty()) return result;

  Tensor out = f(xs);
  Generator gen(opt.seed);
  Tensor v = randn(out.shape(), DType::Float64, gen);
  if (!out.requires_grad()) {
    result.ok = false;
    result.message = "gradcheck: the output does not depend on any input that requires grad";
    return result;
  }
  std::vector<Tensor> analytic = grad({out}, diff, {v.to(out.dtype())});

  double worst_excess = -INFINITY;
  for (std::size_t k = 0; k < diff.size(); ++k) {
    Tensor x = diff[k];
    auto* p = x.data<double>();
    const double* a = analytic[k].to(DType::Float64).data<double>();
    for (std::int64_t j = 0, end = x.numel(); j < end; ++j) {
      double orig = p[j];
      p[j] = orig + opt.eps;
      double plus = project(f, xs, v);
      p[j] = orig - opt.eps;
      double minus = project(f, xs, v);
      p[j] = orig;
      double numeric = (plus - minus) / (2 * opt.eps);
      double err = std::abs(a[j] - numeric);
      double tol = opt.atol + opt.rtol * std::abs(numeric);
      result.max_abs_error = std::max(result.max_abs_error, std::isnan(err) ? INFINITY : err);
      double excess = std::isnan(err) ? INFINITY : err - tol;
      if (excess > 0 && excess > worst_excess) {
        worst_excess = excess;
        std::ostringstream msg;
        msg.precision(10);
        msg << "gradcheck failed for input " << diff_index[k] << " (shape " << to_string(x.shape()) << ") at element "
            << index_string(j, x.shape()) << ": analytic " << a[j] << ", numeric " << numeric << ", |diff| " << err
            << " > tolerance " << tol;
        result.ok = false;
        result.message = msg.str();
      }
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  std::vector<std::size_t> diff_index;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) diff_index.push_back(i);
  Tensor probe;
  {
    NoGradGuard no_grad;
    probe = f(inputs);
  }
  Generator gen(opt.seed + 1);
  Tensor v = randn(probe.shape(), DType::Float64, gen).requires_grad_();

  // (inputs..., v) -> the flattened gradients of Σ f(inputs) ⊙ v, differentiable.
  TensorFunction first_derivative = [&](const std::vector<Tensor>& xs_and_v) {
    std::vector<Tensor> xs(xs_and_v.begin(), xs_and_v.end() - 1);
    std::vector<Tensor> wrt;
    for (std::size_t i : diff_index) wrt.push_back(xs[i]);
    Tensor out = f(xs);
    std::vector<Tensor> gs = grad({out}, wrt, {xs_and_v.back()}, {.retain_graph = true, .create_graph = true});
    std::vector<Tensor> flat;
    for (const Tensor& g : gs) flat.push_back(reshape(g, {-1}));
    return concat(flat);
  };
  std::vector<Tensor> args = inputs;
  args.push_back(v);
  return gradcheck(first_derivative, args, opt);
}

}  // namespace zg
