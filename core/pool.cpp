// Max and average pooling over (N, C, H, W) inputs: the ops and their adjoints; the loops are in
// core/kernels/pool.cpp.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "zoograd/core/autograd.h"
#include "zoograd/core/kernels/geometry.h"
#include "zoograd/core/kernels/parallel.h"
#include "zoograd/core/kernels/pool.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {
using kernel::Geometry;
using kernel::geometry;
constexpr std::int64_t kPlanesPerThread = 64;  // a part of the planes worth waking a thread for
}  // namespace

// y = max over each window (padding is -inf)   dx = max_pool2d_backward(g): g goes to each
// window's argmax. Values and positions come from one pass (a later gather cost 3% of a CNN epoch).
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride0, Size2 padding) {
  Size2 stride = stride0.value_or(kernel);
  Geometry g = geometry(x.shape(), kernel, stride, padding, "max_pool2d");
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw)
    throw std::invalid_argument("max_pool2d: padding " + std::to_string(g.ph) + "x" + std::to_string(g.pw) +
                                " should be at most half the kernel " + std::to_string(g.kh) + "x" + std::to_string(g.kw));
  // Without a graph, positions for one output row per plane (inference needs no backward).
  const bool graph = will_record({x});
  Tensor index = empty(graph ? Shape{g.n, g.c, g.oh * g.ow} : Shape{g.n * g.c, g.ow}, DType::Int64);
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  const bool two_by_two = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
  dispatch_float(x.dtype(), "max_pool2d", [&]<class T>() {
    parallel_for(g.n * g.c, kPlanesPerThread, [&](std::int64_t plane0, std::int64_t plane1) {
      if (two_by_two)
        kernel::max_pool_2x2(x.data<T>(), g.h, g.w, plane0, plane1, out.data<T>(),
                             graph ? index.data<std::int64_t>() : nullptr);
      else
        kernel::pool_max<T>(g, x.data<T>(), index.data<std::int64_t>(), graph ? g.ow : 0, out.data<T>(), plane0, plane1);
    });
  });
  Shape image = x.shape();
  return record("max_pool2d", out, {x}, [index, image](const Node&, const Tensor& gr) {
    return Grads{max_pool2d_backward(gr, index, image)};
  });
}

// dx[n, c, e] = Σ g[n, c, w] over the windows w whose maximum is at e
//   grad:(N,C,oh,ow) index:(N,C,oh·ow) positions in [0, H·W) -> input_shape (N,C,H,W)
// Linear in g; its adjoint gathers g at the same positions.
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& index, const Shape& input_shape) {
  if (input_shape.size() != 4 || grad.dim() != 4 || index.dtype() != DType::Int64 ||
      index.shape() != Shape{grad.size(0), grad.size(1), grad.size(2) * grad.size(3)} ||
      grad.size(0) != input_shape[0] || grad.size(1) != input_shape[1])
    throw std::invalid_argument("max_pool2d_backward: grad " + to_string(grad.shape()) + ", int64 index " +
                                to_string(index.shape()) + " and input " + to_string(input_shape) +
                                " do not match; expected grad (N, C, oh, ow), index (N, C, oh·ow), input (N, C, H, W)");
  const std::int64_t planes = input_shape[0] * input_shape[1], area = input_shape[2] * input_shape[3];
  const std::int64_t windows = index.size(2);
  Tensor out = empty(input_shape, grad.dtype());  // each plane zeroed just before its scatter, in cache
  dispatch_float(grad.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pg = grad.data<T>();
    const std::int64_t* pi = index.data<std::int64_t>();
    T* po = out.data<T>();
    parallel_for(planes, kPlanesPerThread, [&](std::int64_t plane0, std::int64_t plane1) {
      for (std::int64_t plane = plane0; plane < plane1; ++plane) {
        std::fill_n(po + plane * area, area, T(0));
        for (std::int64_t w = plane * windows; w < (plane + 1) * windows; ++w) {
          if (pi[w] < 0 || pi[w] >= area)
            throw std::invalid_argument("max_pool2d_backward: index " + std::to_string(pi[w]) + " is outside [0, " +
                                        std::to_string(area) + ") for input " + to_string(input_shape));
          po[plane * area + pi[w]] += pg[w];
        }
      }
    });
  });
  Shape grad_shape = grad.shape();
  return record("max_pool2d_backward", out, {grad}, [index, grad_shape, area](const Node&, const Tensor& gg) {
    Tensor flat = reshape(gg, {grad_shape[0], grad_shape[1], area});
    return Grads{reshape(gather(flat, 2, index), grad_shape)};
  });
}


// y = Σ window / (kh·kw)   dx = avg_pool2d_backward(g)
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride0, Size2 padding) {
  Size2 stride = stride0.value_or(kernel);
  Geometry g = geometry(x.shape(), kernel, stride, padding, "avg_pool2d");
  Tensor out = empty({g.n, g.c, g.oh, g.ow}, x.dtype());
  dispatch_float(x.dtype(), "avg_pool2d", [&]<class T>() { kernel::avg_pool<T>(g, x.data<T>(), out.data<T>(), false); });
  Shape image = x.shape();
  return record("avg_pool2d", out, {x}, [image, kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{avg_pool2d_backward(gr, image, kernel, stride, padding)};
  });
}

// dx[e] = Σ over windows w containing e of g[w] / (kh·kw)   (linear in g; its adjoint is avg_pool2d)
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Size2 kernel, Size2 stride, Size2 padding) {
  Geometry g = geometry(input_shape, kernel, stride, padding, "avg_pool2d_backward");
  Shape expect{g.n, g.c, g.oh, g.ow};
  if (grad.shape() != expect)
    throw std::invalid_argument("avg_pool2d_backward: expected grad of shape " + to_string(expect) + ", got " +
                                to_string(grad.shape()));
  Tensor out = zeros(input_shape, grad.dtype());
  dispatch_float(grad.dtype(), "avg_pool2d_backward",
                 [&]<class T>() { kernel::avg_pool<T>(g, grad.data<T>(), out.data<T>(), true); });
  return record("avg_pool2d_backward", out, {grad}, [kernel, stride, padding](const Node&, const Tensor& gr) {
    return Grads{avg_pool2d(gr, kernel, stride, padding)};
  });
}

}  // namespace zg
