// Batch normalization as one op, PyTorch's F.batch_norm: one pass over x for the statistics and
// one to normalize, and two for the backward (composed of mean, sub, div, mul and add it took eight
// passes, each with an allocation: half of the atlas network's training step).
#include <cmath>
#include <stdexcept>
#include <vector>

#include "zoograd/core/kernels/channel.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

// x (N, C, *) as (N, C, S) for the channel kernels.
kernel::ChannelView channel_view(const Tensor& x) {
  const std::int64_t n = x.size(0), c = x.size(1);
  return {n, c, n * c == 0 ? 0 : x.numel() / (n * c)};
}

// The dims a channel's statistics run over (all but 1) and the shape (1, C, 1, ...) that
// broadcasts a per-channel value against x.
Dims statistic_dims(const Tensor& x) {
  Dims dims{0};
  for (std::int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  return dims;
}

Shape channel_shape(const Tensor& x) {
  Shape s(static_cast<std::size_t>(x.dim()), 1);
  s[1] = x.size(1);
  return s;
}

void check_channel_tensor(const Tensor& t, const char* name, std::int64_t c) {
  if (t.defined() && (t.shape() != Shape{c} || !is_floating(t.dtype())))
    throw std::invalid_argument(std::string("batch_norm: ") + name + " should be a floating tensor of shape [" +
                                std::to_string(c) + "] (one value per channel of the input), got " +
                                dtype_name(t.dtype()) + " " + to_string(t.shape()));
}

// The backward as differentiable tensor ops, for create_graph: with x̂ = (x - μ)·r and
// r = 1/√(σ² + eps),
//   dβ = Σ g   dγ = Σ g·x̂   dx = γ·r·(g - mean(g) - x̂·mean(g·x̂))   (training: μ, σ² depend on x)
//                           dx = γ·r·g                              (evaluation: μ, r constants)
Grads composed_backward(const Node& n, const Tensor& g, bool training, double eps, const Tensor& mean_c,
                        const Tensor& invstd_c) {
  const Tensor &x = n.in(0), &weight = n.in(1);
  const Dims dims = statistic_dims(x);
  const Shape cs = channel_shape(x);
  Tensor mu = mean_c, r = invstd_c;
  if (training) {
    mu = mean(x, dims, {.keepdim = true});
    Tensor centered = x - mu;
    r = 1.0 / sqrt(mean(centered * centered, dims, {.keepdim = true}) + eps);
  }
  Tensor xhat = (x - mu) * r, gamma = reshape(weight, cs);
  Tensor dx;
  if (n.needs_grad(0))
    dx = training ? gamma * r * (g - mean(g, dims, {.keepdim = true}) - xhat * mean(g * xhat, dims, {.keepdim = true})) : gamma * r * g;
  return {dx, n.needs_grad(1) ? sum(g * xhat, dims) : Tensor(), n.needs_grad(2) ? sum(g, dims) : Tensor()};
}

// A per-channel vector of doubles as a (C) tensor of dtype.
Tensor channel_tensor(const std::vector<double>& v, DType dtype) {
  return tensor(v, {static_cast<std::int64_t>(v.size())}, dtype);
}

}  // namespace

// y = (x - μ)/√(σ² + eps)·γ + β per channel   x:(N, C, *) γ, β, running stats:(C) -> (N, C, *)
// Backward with x̂ = (x - μ)·r, r = 1/√(σ² + eps), n values per channel:
//   dβ = Σ g   dγ = Σ g·x̂   dx = γ·r·(g - dβ/n - x̂·dγ/n) (training), γ·r·g (evaluation)
// computed as dx = g·a + (x - μ)·b + k with per-channel a, b, k after one pass for Σ g and
// Σ g·(x - μ).
Tensor batch_norm(const Tensor& x0, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight0,
                  const Tensor& bias0, const BatchNormOptions& o) {
  if (x0.dim() < 2 || !is_floating(x0.dtype()))
    throw std::invalid_argument("batch_norm: expected a floating input (N, C, ...) with channels in dimension 1, got " +
                                std::string(dtype_name(x0.dtype())) + " " + to_string(x0.shape()));
  const std::int64_t c = x0.size(1);
  for (auto [t, name] : {std::pair{&running_mean, "running_mean"}, {&running_var, "running_var"},
                         {&weight0, "weight"}, {&bias0, "bias"}})
    check_channel_tensor(*t, name, c);
  if (!(o.eps > 0) || !std::isfinite(o.eps))
    throw std::invalid_argument("batch_norm: eps must be positive and finite, got " + std::to_string(o.eps));
  const DType dtype = weight0.defined() && weight0.dtype() == DType::Float64 ? DType::Float64 : x0.dtype();
  const Tensor x = x0.to(dtype);
  const Tensor weight = weight0.defined() ? weight0.to(dtype) : ones({c}, dtype);
  const Tensor bias = bias0.defined() ? bias0.to(dtype) : zeros({c}, dtype);
  const kernel::ChannelView v = channel_view(x);
  const std::int64_t count = v.n * v.s;
  // Each channel's values are taken relative to an anchor of the input's dtype: its first value in
  // training, the running mean in evaluation. x - anchor is exact for values near it, and μ - anchor
  // (offset) is kept in double, so a channel far from zero relative to its spread keeps its digits.
  std::vector<double> mu(static_cast<std::size_t>(c)), var(mu.size()), anchor(mu.size()), offset(mu.size());
  if (o.training) {
    if (count < 2)
      throw std::invalid_argument("batch_norm: training needs more than one value per channel, got input " +
                                  to_string(x.shape()));
    std::vector<double> sum(mu.size()), sum_sq(mu.size());
    dispatch_float(dtype, "batch_norm", [&]<class T>() {
      std::vector<T> first(mu.size());
      for (std::int64_t ch = 0; ch < c; ++ch) first[static_cast<std::size_t>(ch)] = x.data<T>()[ch * v.s];
      kernel::channel_moments(v, x.data<T>(), first.data(), sum.data(), sum_sq.data());
      for (std::size_t ch = 0; ch < mu.size(); ++ch) {
        anchor[ch] = first[ch];
        offset[ch] = sum[ch] / static_cast<double>(count);
        mu[ch] = anchor[ch] + offset[ch];
        var[ch] = std::max(0.0, sum_sq[ch] / static_cast<double>(count) - offset[ch] * offset[ch]);
      }
    });
    if (running_mean.defined() && running_var.defined()) {
      NoGradGuard no_grad;
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      std::vector<double> new_mean = running_mean.to_vector(), new_var = running_var.to_vector();
      for (std::size_t ch = 0; ch < mu.size(); ++ch) {
        new_mean[ch] = (1 - o.momentum) * new_mean[ch] + o.momentum * mu[ch];
        new_var[ch] = (1 - o.momentum) * new_var[ch] + o.momentum * unbias * var[ch];
      }
      running_mean.copy_(channel_tensor(new_mean, running_mean.dtype()));
      running_var.copy_(channel_tensor(new_var, running_var.dtype()));
    }
  } else {
    if (!running_mean.defined() || !running_var.defined())
      throw std::invalid_argument("batch_norm: evaluation (training = false) needs running_mean and running_var");
    mu = running_mean.to(dtype).to_vector();
    anchor = mu;
    var = running_var.to_vector();
  }
  std::vector<double> invstd(mu.size()), scale(mu.size()), shift(mu.size());
  const std::vector<double> gamma = weight.to_vector(), beta = bias.to_vector();
  for (std::size_t ch = 0; ch < mu.size(); ++ch) {
    invstd[ch] = 1 / std::sqrt(var[ch] + o.eps);
    scale[ch] = gamma[ch] * invstd[ch];
    shift[ch] = beta[ch] - offset[ch] * scale[ch];
  }
  Tensor out = empty(x.shape(), dtype);
  const Tensor anchor_t = channel_tensor(anchor, dtype);
  const Tensor scale_t = channel_tensor(scale, dtype), shift_t = channel_tensor(shift, dtype);
  dispatch_float(dtype, "batch_norm", [&]<class T>() {
    kernel::channel_affine(v, x.data<T>(), anchor_t.data<T>(), scale_t.data<T>(), shift_t.data<T>(), out.data<T>());
  });
  const Tensor mean_c = reshape(channel_tensor(mu, dtype), channel_shape(x));
  const Tensor invstd_c = reshape(channel_tensor(invstd, dtype), channel_shape(x));
  const bool training = o.training;
  const double eps = o.eps;
  return record("batch_norm", out, {x, weight, bias}, [=](const Node& n, const Tensor& g) {
    if (is_grad_enabled()) return composed_backward(n, g, training, eps, mean_c, invstd_c);
    const Tensor& xs = n.in(0);
    std::vector<double> sum_g(mu.size()), sum_gx(mu.size()), ga(mu.size()), gb(mu.size()), gk(mu.size());
    Grads grads(3);
    dispatch_float(xs.dtype(), "batch_norm backward", [&]<class T>() {
      kernel::channel_dot(v, g.data<T>(), xs.data<T>(), anchor_t.data<T>(), sum_g.data(), sum_gx.data());
      for (std::size_t ch = 0; ch < mu.size(); ++ch) sum_gx[ch] -= offset[ch] * sum_g[ch];  // Σ g·(x - μ)
      if (!n.needs_grad(0)) return;
      const std::vector<double> gamma_now = n.in(1).to_vector();
      const auto nc = static_cast<double>(count);
      for (std::size_t ch = 0; ch < mu.size(); ++ch) {
        const double r = invstd[ch], gr = gamma_now[ch] * r;
        // γ·r·(g - Σg/n - x̂·r·Σg(x - μ)/n) with x̂ = (x - μ)·r, as g·a + (x - anchor)·b + k.
        ga[ch] = gr;
        gb[ch] = training ? -gr * r * r * sum_gx[ch] / nc : 0.0;
        gk[ch] = (training ? -gr * sum_g[ch] / nc : 0.0) - offset[ch] * gb[ch];
      }
      const Tensor ta = channel_tensor(ga, xs.dtype()), tb = channel_tensor(gb, xs.dtype()),
                   tk = channel_tensor(gk, xs.dtype());
      grads[0] = empty(xs.shape(), xs.dtype());
      kernel::channel_combine(v, g.data<T>(), xs.data<T>(), anchor_t.data<T>(), ta.data<T>(), tb.data<T>(),
                              tk.data<T>(), grads[0].data<T>());
    });
    if (n.needs_grad(1)) {
      std::vector<double> dgamma(mu.size());
      for (std::size_t ch = 0; ch < mu.size(); ++ch) dgamma[ch] = sum_gx[ch] * invstd[ch];
      grads[1] = channel_tensor(dgamma, n.in(1).dtype());
    }
    if (n.needs_grad(2)) grads[2] = channel_tensor(sum_g, n.in(2).dtype());
    return grads;
  });
}

}  // namespace zg
