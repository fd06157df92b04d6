// Elementwise ops: arithmetic with broadcasting, functions, activations, where and comparisons.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "zoograd/core/kernels/loops.h"
#include "zoograd/core/kernels/channel.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

// Brings a and b to one dtype: float32 with float64 gives float64 (differentiably); an int64
// operand takes the other's floating dtype.
std::pair<Tensor, Tensor> promote(const Tensor& a, const Tensor& b) {
  if (a.dtype() == b.dtype()) return {a, b};
  DType common = a.dtype() == DType::Int64 ? b.dtype()
                 : b.dtype() == DType::Int64 ? a.dtype()
                                             : DType::Float64;
  return {a.to(common), b.to(common)};
}

// out = f(a, b) over the broadcast shape, in a's (floating) dtype.
template <class F>
Tensor zip(const Tensor& a, const Tensor& b, const char* op, F f) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor out = empty(shape, a.dtype());
  dispatch_float(a.dtype(), op, [&]<class T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    kernel::broadcast_loop(a.shape(), b.shape(), shape,
                           [&](std::int64_t i, std::int64_t ia, std::int64_t ib) { po[i] = f(pa[ia], pb[ib]); });
  });
  return out;
}

template <class F>
Tensor map(const Tensor& x, const char* op, F f) {
  return dispatch_float(x.dtype(), op, [&]<class T>() { return kernel::map<T>(x, f); });
}

// The gradient g of a broadcast op's output, reduced to input i's shape (undefined when not needed).
Tensor grad_for(const Node& n, std::size_t i, const Tensor& g) {
  return n.needs_grad(i) ? sum_to(g, n.in(i).shape()) : Tensor();
}

Tensor like(double v, const Tensor& t) { return scalar(v, t.dtype()); }

}  // namespace

// ---- arithmetic ----

// y = a + b   dy/da = 1, dy/db = 1
Tensor add(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(a0, b0);
  return record("add", zip(a, b, "add", [](auto x, auto y) { return x + y; }), {a, b},
                [](const Node& n, const Tensor& g) { return Grads{grad_for(n, 0, g), grad_for(n, 1, g)}; });
}

// y = a - b   dy/da = 1, dy/db = -1
Tensor sub(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(a0, b0);
  return record("sub", zip(a, b, "sub", [](auto x, auto y) { return x - y; }), {a, b},
                [](const Node& n, const Tensor& g) {
                  return Grads{grad_for(n, 0, g), n.needs_grad(1) ? grad_for(n, 1, neg(g)) : Tensor()};
                });
}

// y = a · b   dy/da = b, dy/db = a
Tensor mul(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(a0, b0);
  return record("mul", zip(a, b, "mul", [](auto x, auto y) { return x * y; }), {a, b},
                [](const Node& n, const Tensor& g) {
                  return Grads{n.needs_grad(0) ? grad_for(n, 0, g * n.in(1)) : Tensor(),
                               n.needs_grad(1) ? grad_for(n, 1, g * n.in(0)) : Tensor()};
                });
}

// y = a / b   dy/da = 1/b, dy/db = -a/b² = -y/b
Tensor div(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(a0, b0);
  return record("div", zip(a, b, "div", [](auto x, auto y) { return x / y; }), {a, b},
                [](const Node& n, const Tensor& g) {
                  return Grads{n.needs_grad(0) ? grad_for(n, 0, g / n.in(1)) : Tensor(),
                               n.needs_grad(1) ? grad_for(n, 1, -g * n.out() / n.in(1)) : Tensor()};
                });
}

// y = a^b   dy/da = b·a^(b-1), dy/db = y·log a (taken as 0 where a = 0)
Tensor pow(const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(a0, b0);
  return record("pow", zip(a, b, "pow", [](auto x, auto y) { return std::pow(x, y); }), {a, b},
                [](const Node& n, const Tensor& g) {
                  const Tensor &x = n.in(0), &e = n.in(1);
                  Tensor ga, gb;
                  if (n.needs_grad(0)) ga = grad_for(n, 0, g * e * pow(x, e - 1.0));
                  if (n.needs_grad(1)) {
                    Tensor safe_x = where(eq(x, 0.0), like(1.0, x), x);
                    gb = grad_for(n, 1, g * n.out() * log(safe_x));
                  }
                  return Grads{ga, gb};
                });
}

// y = x^p   dy/dx = p·x^(p-1) (0 for p = 0)
Tensor pow(const Tensor& x, double p) {
  return record("pow_scalar", map(x, "pow", [p](auto v) { return std::pow(v, static_cast<decltype(v)>(p)); }), {x},
                [p](const Node& n, const Tensor& g) {
                  if (p == 0) return Grads{zeros_like(g)};
                  return Grads{g * p * pow(n.in(0), p - 1.0)};
                });
}

// y = -x   dy/dx = -1
Tensor neg(const Tensor& x) {
  return record("neg", map(x, "neg", [](auto v) { return -v; }), {x},
                [](const Node&, const Tensor& g) { return Grads{neg(g)}; });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, like(b, a)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, like(b, a)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, like(b, a)); }
Tensor operator/(const Tensor& a, double b) { return div(a, like(b, a)); }
Tensor operator+(double a, const Tensor& b) { return add(like(a, b), b); }
Tensor operator-(double a, const Tensor& b) { return sub(like(a, b), b); }
Tensor operator*(double a, const Tensor& b) { return mul(like(a, b), b); }
Tensor operator/(double a, const Tensor& b) { return div(like(a, b), b); }
Tensor operator-(const Tensor& x) { return neg(x); }

// ---- functions ----

// y = e^x   dy/dx = y
Tensor exp(const Tensor& x) {
  return record("exp", map(x, "exp", [](auto v) { return std::exp(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{g * n.out()}; });
}

// y = ln x   dy/dx = 1/x
Tensor log(const Tensor& x) {
  return record("log", map(x, "log", [](auto v) { return std::log(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{g / n.in(0)}; });
}

// y = ln(1 + x)   dy/dx = 1/(1 + x)
Tensor log1p(const Tensor& x) {
  return record("log1p", map(x, "log1p", [](auto v) { return std::log1p(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{g / (n.in(0) + 1.0)}; });
}

// y = √x   dy/dx = 1/(2y)
Tensor sqrt(const Tensor& x) {
  return record("sqrt", map(x, "sqrt", [](auto v) { return std::sqrt(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{g / (2.0 * n.out())}; });
}

// y = |x|   dy/dx = sign(x)
Tensor abs(const Tensor& x) {
  return record("abs", map(x, "abs", [](auto v) { return std::abs(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{g * sign(n.in(0))}; });
}

// y = sign(x) ∈ {-1, 0, 1}   dy/dx = 0
Tensor sign(const Tensor& x) {
  return record("sign", map(x, "sign", [](auto v) { return static_cast<decltype(v)>((v > 0) - (v < 0)); }), {x},
                [](const Node&, const Tensor& g) { return Grads{zeros_like(g)}; });
}

// y = erf(x)   dy/dx = 2/√π · e^(-x²)
Tensor erf(const Tensor& x) {
  return record("erf", map(x, "erf", [](auto v) { return std::erf(v); }), {x},
                [](const Node& n, const Tensor& g) {
                  const Tensor& v = n.in(0);
                  return Grads{g * (2.0 / std::sqrt(std::numbers::pi)) * exp(-(v * v))};
                });
}

// y = sin x   dy/dx = cos x
Tensor sin(const Tensor& x) {
  return record("sin", map(x, "sin", [](auto v) { return std::sin(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{g * cos(n.in(0))}; });
}

// y = cos x   dy/dx = -sin x
Tensor cos(const Tensor& x) {
  return record("cos", map(x, "cos", [](auto v) { return std::cos(v); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{-g * sin(n.in(0))}; });
}

// y = arccos x   dy/dx = -1/√(1 - x²), with 1 - x² clamped at 1e-12 so the gradient stays
// finite at x = ±1 (where cos θ of two parallel vectors lands exactly).
Tensor acos(const Tensor& x) {
  return record("acos", map(x, "acos", [](auto v) { return std::acos(v); }), {x},
                [](const Node& n, const Tensor& g) {
                  const Tensor& v = n.in(0);
                  return Grads{-g / sqrt(clamp(1.0 - v * v, 1e-12))};
                });
}

// θ = atan2(y, x) ∈ [-π, π], the angle of the point (x, y)   dθ/dy = x/r², dθ/dx = -y/r², r² = x² + y²
// (0 at the origin, where atan2 itself is 0). With y = sin θ and x = cos θ it recovers θ to full
// relative precision near 0 and π, where acos(cos θ) loses half the digits and its gradient blows up.
Tensor atan2(const Tensor& y0, const Tensor& x0) {
  auto [y, x] = promote(y0, x0);
  return record("atan2", zip(y, x, "atan2", [](auto a, auto b) { return std::atan2(a, b); }), {y, x},
                [](const Node& n, const Tensor& g) {
                  const Tensor &a = n.in(0), &b = n.in(1);
                  Tensor r2 = a * a + b * b;
                  Tensor safe = where(eq(r2, 0.0), like(1.0, r2), r2);
                  return Grads{n.needs_grad(0) ? grad_for(n, 0, g * b / safe) : Tensor(),
                               n.needs_grad(1) ? grad_for(n, 1, -g * a / safe) : Tensor()};
                });
}

// y = min(max(x, lo), hi)   dy/dx = 1 inside [lo, hi], 0 outside
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  if (min && max && *min > *max)
    throw std::invalid_argument("clamp: min " + std::to_string(*min) + " is greater than max " + std::to_string(*max));
  double lo = min.value_or(-INFINITY), hi = max.value_or(INFINITY);
  return record("clamp", map(x, "clamp", [lo, hi](auto v) {
                  using T = decltype(v);
                  return v < static_cast<T>(lo) ? static_cast<T>(lo) : (v > static_cast<T>(hi) ? static_cast<T>(hi) : v);
                }), {x},
                [lo, hi](const Node& n, const Tensor& g) {
                  Tensor inside = map(n.in(0), "clamp", [lo, hi](auto v) {
                    return static_cast<decltype(v)>(v >= lo && v <= hi);
                  });
                  return Grads{g * inside};
                });
}

// y = max(x, 0)   dy/dx = [x > 0]
Tensor relu(const Tensor& x) {
  return record("relu", map(x, "relu", [](auto v) { return v > 0 ? v : decltype(v)(0); }), {x},
                [](const Node& n, const Tensor& g) { return Grads{relu_backward(g, n.in(0))}; });
}

// x = max(x, 0) in place, for tensors outside any graph (inference): no new block, half the traffic.
Tensor& relu_(Tensor& x) {
  if (will_record({x}))
    throw std::invalid_argument("relu_: x of shape " + to_string(x.shape()) +
                                " requires grad, and an in-place change would lose what its backward needs; use relu(x)");
  dispatch_float(x.dtype(), "relu_", [&]<class T>() { kernel::map_inplace<T>(x, [](T v) { return v > 0 ? v : T(0); }); });
  return x;
}

// dx = g·[x > 0]   g, x: same shape. One pass, where g * gt(x, 0) made a mask tensor and read it
// back (5% of a CNN epoch). Linear in g, so its own backward is relu_backward again; x only
// selects, and gets no gradient (the mask is flat almost everywhere).
Tensor relu_backward(const Tensor& grad, const Tensor& x) {
  if (grad.shape() != x.shape())
    throw std::invalid_argument("relu_backward: grad of shape " + to_string(grad.shape()) + " and input of shape " +
                                to_string(x.shape()) + " differ");
  Tensor selector = x.detach().to(grad.dtype());
  Tensor out;
  dispatch_float(grad.dtype(), "relu_backward", [&]<class T>() {  // g read either way: the select vectorizes
    out = kernel::zip_same<T>(grad, selector, [](T g, T s) { return s > 0 ? g : T(0); });
  });
  return record("relu_backward", out, {grad},
                [selector](const Node&, const Tensor& gg) { return Grads{relu_backward(gg, selector)}; });
}

// y = x for x > 0, slope·x otherwise   dy/dx = 1 or slope
Tensor leaky_relu(const Tensor& x, double slope) {
  return record("leaky_relu", map(x, "leaky_relu", [slope](auto v) {
                  return v > 0 ? v : static_cast<decltype(v)>(slope) * v;
                }), {x},
                [slope](const Node& n, const Tensor& g) {
                  return Grads{g * map(n.in(0), "leaky_relu", [slope](auto v) {
                                 return v > 0 ? decltype(v)(1) : static_cast<decltype(v)>(slope);
                               })};
                });
}

// y = x for x > 0, a·x otherwise, with a = weight: one slope (shape (1)) for every element, or one
// per channel of dimension 1 (shape (C))
//   dy/dx = 1 (x > 0) or a   dy/da = 0 (x > 0) or x, summed over what shares the slope
// One pass each way; under create_graph the backward is written with where, mul and sum.
Tensor prelu(const Tensor& x, const Tensor& weight0) {
  const bool shared = weight0.numel() == 1;
  if (weight0.dim() != 1 || !is_floating(weight0.dtype()) ||
      (!shared && (x.dim() < 2 || x.size(1) != weight0.numel())))
    throw std::invalid_argument("prelu: weight " + to_string(weight0.shape()) +
                                " should hold one slope (shape [1]) or one per channel of dimension 1 of the input " +
                                to_string(x.shape()));
  const Tensor weight = weight0.to(x.dtype());
  const std::int64_t c = shared ? 1 : x.size(1), n = shared || x.numel() == 0 ? 1 : x.size(0);
  const kernel::ChannelView v{n, c, x.numel() / std::max<std::int64_t>(n * c, 1)};
  Tensor out = empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "prelu", [&]<class T>() {
    kernel::prelu_forward(v, x.data<T>(), weight.data<T>(), shared, out.data<T>());
  });
  return record("prelu", out, {x, weight}, [v, shared](const Node& nd, const Tensor& g) {
    const Tensor &xs = nd.in(0), &a = nd.in(1);
    if (is_grad_enabled()) {
      Shape cs(static_cast<std::size_t>(xs.dim()), 1);
      if (!shared) cs[1] = a.numel();
      const Tensor negative = le(xs, 0.0);
      Tensor dx = nd.needs_grad(0) ? where(negative, g * reshape(a, shared ? Shape{} : cs), g) : Tensor();
      Tensor da = nd.needs_grad(1) ? reshape(sum_to(negative * g * xs, shared ? Shape{} : cs), a.shape()) : Tensor();
      return Grads{dx, da};
    }
    Grads grads(2);
    std::vector<double> da(static_cast<std::size_t>(v.c));
    dispatch_float(xs.dtype(), "prelu backward", [&]<class T>() {
      if (nd.needs_grad(0)) grads[0] = empty(xs.shape(), xs.dtype());
      kernel::prelu_backward(v, g.data<T>(), xs.data<T>(), a.data<T>(), shared,
                             nd.needs_grad(0) ? grads[0].data<T>() : nullptr, nd.needs_grad(1) ? da.data() : nullptr);
    });
    if (nd.needs_grad(1)) grads[1] = tensor(da, a.shape(), a.dtype());
    return grads;
  });
}

// y = 1/(1 + e^-x), evaluated without overflow   dy/dx = y(1 - y)
Tensor sigmoid(const Tensor& x) {
  return record("sigmoid", map(x, "sigmoid", [](auto v) {
                  using T = decltype(v);
                  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
                  T e = std::exp(v);
                  return e / (T(1) + e);
                }), {x},
                [](const Node& n, const Tensor& g) {
                  Tensor y = n.out();
                  return Grads{g * y * (1.0 - y)};
                });
}

// y = tanh x   dy/dx = 1 - y²
Tensor tanh(const Tensor& x) {
  return record("tanh", map(x, "tanh", [](auto v) { return std::tanh(v); }), {x},
                [](const Node& n, const Tensor& g) {
                  Tensor y = n.out();
                  return Grads{g * (1.0 - y * y)};
                });
}

// y = x·Φ(x), Φ(x) = (1 + erf(x/√2))/2   dy/dx = Φ(x) + x·φ(x), φ(x) = e^(-x²/2)/√(2π)
Tensor gelu(const Tensor& x) {
  return record("gelu", map(x, "gelu", [](auto v) {
                  using T = decltype(v);
                  return v * T(0.5) * (T(1) + std::erf(v * static_cast<T>(std::numbers::sqrt2 / 2)));
                }), {x},
                [](const Node& n, const Tensor& g) {
                  const Tensor& v = n.in(0);
                  Tensor cdf = 0.5 * (1.0 + erf(v * (std::numbers::sqrt2 / 2)));
                  Tensor pdf = exp(-0.5 * v * v) * (1.0 / std::sqrt(2.0 * std::numbers::pi));
                  return Grads{g * (cdf + v * pdf)};
                });
}

// y = log(1 + e^(βx))/β = (max(βx, 0) + log1p(e^-|βx|))/β   dy/dx = sigmoid(βx)
Tensor softplus(const Tensor& x, double beta) {
  if (!(beta > 0)) throw std::invalid_argument("softplus: beta must be positive, got " + std::to_string(beta));
  return record("softplus", map(x, "softplus", [beta](auto v) {
                  using T = decltype(v);
                  T z = static_cast<T>(beta) * v;
                  return (std::max(z, T(0)) + std::log1p(std::exp(-std::abs(z)))) / static_cast<T>(beta);
                }), {x},
                [beta](const Node& n, const Tensor& g) { return Grads{g * sigmoid(n.in(0) * beta)}; });
}

// ---- selection and comparison ----

// y = cond ? a : b   dy/da = cond, dy/db = 1 - cond
Tensor where(const Tensor& cond, const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(a0, b0);
  Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), "where"), cond.shape(), "where");
  Tensor c = cond.dtype() == a.dtype() ? cond : cond.detach().to(a.dtype());
  // A one-element a or b (the zero in where's own backward) is read as a constant rather than
  // broadcast to a full tensor first.
  auto operand = [&](const Tensor& t) { return t.numel() == 1 ? t.detach() : broadcast_to(t.detach(), shape); };
  Tensor ca = broadcast_to(c.detach(), shape), aa = operand(a), bb = operand(b);
  Tensor out = empty(shape, a.dtype());
  dispatch_float(a.dtype(), "where", [&]<class T>() {
    const T *pc = ca.data<T>(), *pa = aa.data<T>(), *pb = bb.data<T>();
    T* po = out.data<T>();
    const std::int64_t n = out.numel();
    if (aa.numel() == 1 && bb.numel() == 1) kernel::select<true, true>(n, pc, pa, pb, po);
    else if (aa.numel() == 1) kernel::select<true, false>(n, pc, pa, pb, po);
    else if (bb.numel() == 1) kernel::select<false, true>(n, pc, pa, pb, po);
    else kernel::select<false, false>(n, pc, pa, pb, po);
  });
  Tensor mask = c.detach();
  return record("where", out, {a, b}, [mask](const Node& n, const Tensor& g) {
    Tensor zero = scalar(0.0, g.dtype());
    return Grads{n.needs_grad(0) ? grad_for(n, 0, where(mask, g, zero)) : Tensor(),
                 n.needs_grad(1) ? grad_for(n, 1, where(mask, zero, g)) : Tensor()};
  });
}

namespace {
template <class F>
Tensor compare(const Tensor& a0, const Tensor& b0, const char* op, F f) {
  auto [a, b] = promote(a0.detach(), b0.detach());
  if (a.dtype() == DType::Int64) {
    a = a.to(DType::Float64);
    b = b.to(DType::Float64);
    return zip(a, b, op, [f](auto x, auto y) { return static_cast<decltype(x)>(f(x, y)); }).to(DType::Float32);
  }
  return zip(a, b, op, [f](auto x, auto y) { return static_cast<decltype(x)>(f(x, y)); });
}
// A scalar operand for comparisons with a: a's floating dtype (float64 against int64).
Tensor scalar_for(double v, const Tensor& a) {
  return scalar(v, a.dtype() == DType::Int64 ? DType::Float64 : a.dtype());
}
}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, "eq", [](auto x, auto y) { return x == y; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(a, b, "ne", [](auto x, auto y) { return x != y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(a, b, "lt", [](auto x, auto y) { return x < y; }); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(a, b, "le", [](auto x, auto y) { return x <= y; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(a, b, "gt", [](auto x, auto y) { return x > y; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(a, b, "ge", [](auto x, auto y) { return x >= y; }); }
Tensor eq(const Tensor& a, double b) { return eq(a, scalar_for(b, a)); }
Tensor ne(const Tensor& a, double b) { return ne(a, scalar_for(b, a)); }
Tensor lt(const Tensor& a, double b) { return lt(a, scalar_for(b, a)); }
Tensor le(const Tensor& a, double b) { return le(a, scalar_for(b, a)); }
Tensor gt(const Tensor& a, double b) { return gt(a, scalar_for(b, a)); }
Tensor ge(const Tensor& a, double b) { return ge(a, scalar_for(b, a)); }

Tensor isfinite(const Tensor& x) {
  return map(x.detach(), "isfinite", [](auto v) { return static_cast<decltype(v)>(std::isfinite(v)); });
}

}  // namespace zg
