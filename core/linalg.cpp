// Matrix products through OpenBLAS. Transposes stay inside the GEMM flags.
#include <stdexcept>

#include "zoograd/core/kernels/loops.h"
#include "zoograd/core/ops.h"

namespace zg {

namespace {

std::string describe(const Tensor& t, bool transposed) {
  return to_string(t.shape()) + (transposed ? "ᵀ" : "");
}

// C = op(A)·op(B) for each batch; rank 2 (mm) or rank 3 (bmm).
Tensor product(const char* op, const Tensor& a, const Tensor& b, bool ta, bool tb, std::int64_t rank) {
  if (a.dim() != rank || b.dim() != rank)
    throw std::invalid_argument(std::string(op) + ": expected two " + std::to_string(rank) + "-D tensors, got " +
                                to_string(a.shape()) + " and " + to_string(b.shape()));
  std::int64_t batch = rank == 3 ? a.shape()[0] : 1;
  if (rank == 3 && b.shape()[0] != batch)
    throw std::invalid_argument(std::string(op) + ": batch sizes differ: " + to_string(a.shape()) + " and " +
                                to_string(b.shape()));
  std::int64_t ar = a.shape()[rank - 2], ac = a.shape()[rank - 1], br = b.shape()[rank - 2], bc = b.shape()[rank - 1];
  std::int64_t m = ta ? ac : ar, k = ta ? ar : ac, k2 = tb ? bc : br, n = tb ? br : bc;
  if (k != k2)
    throw std::invalid_argument(std::string(op) + ": cannot multiply " + describe(a, ta) + " by " + describe(b, tb) +
                                ": inner dimensions " + std::to_string(k) + " and " + std::to_string(k2) + " differ");
  Shape s = rank == 3 ? Shape{batch, m, n} : Shape{m, n};
  // GEMM with beta = 0 overwrites every output element; only an empty inner dimension needs zeros.
  Tensor out = k > 0 ? empty(s, a.dtype()) : zeros(s, a.dtype());
  if (k > 0 && m > 0 && n > 0)
    dispatch_float(a.dtype(), op, [&]<class T>() {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* pc = out.data<T>();
      for (std::int64_t i = 0; i < batch; ++i)
        kernel::gemm(ta, tb, m, n, k, pa + i * ar * ac, ac, pb + i * br * bc, bc, T(0), pc + i * m * n, n);
    });
  return out;
}

// Gradients of C = op(A)·op(B):
//   A:  dA = g·op(B)ᵀ            Aᵀ: dA = op(B)·gᵀ
//   B:  dB = op(A)ᵀ·g            Bᵀ: dB = gᵀ·op(A)
Grads product_backward(const Node& n, const Tensor& g, bool ta, bool tb,
                       Tensor (*f)(const Tensor&, const Tensor&, const MmOptions&)) {
  const Tensor &a = n.in(0), &b = n.in(1);
  Tensor ga, gb;
  if (n.needs_grad(0)) ga = ta ? f(b, g, {.transpose_a = tb, .transpose_b = true}) : f(g, b, {.transpose_b = !tb});
  if (n.needs_grad(1)) gb = tb ? f(g, a, {.transpose_a = true, .transpose_b = ta}) : f(a, g, {.transpose_a = !ta});
  return {ga, gb};
}

}  // namespace

// C = op(A)·op(B)   A:(M,K) B:(K,N) -> (M,N), op = identity or transpose per flag
Tensor mm(const Tensor& a, const Tensor& b, const MmOptions& options) {
  if (a.dtype() != b.dtype()) return mm(a.to(DType::Float64), b.to(DType::Float64), options);
  const bool ta = options.transpose_a, tb = options.transpose_b;
  return record("mm", product("mm", a, b, ta, tb, 2), {a, b},
                [ta, tb](const Node& n, const Tensor& g) { return product_backward(n, g, ta, tb, &mm); });
}

// C_i = op(A_i)·op(B_i)   A:(B,M,K) B:(B,K,N) -> (B,M,N)
Tensor bmm(const Tensor& a, const Tensor& b, const MmOptions& options) {
  if (a.dtype() != b.dtype()) return bmm(a.to(DType::Float64), b.to(DType::Float64), options);
  const bool ta = options.transpose_a, tb = options.transpose_b;
  return record("bmm", product("bmm", a, b, ta, tb, 3), {a, b},
                [ta, tb](const Node& n, const Tensor& g) { return product_backward(n, g, ta, tb, &bmm); });
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() == 2 && b.dim() == 2) return mm(a, b);
  if (a.dim() == 3 && b.dim() == 3) return bmm(a, b);
  if (a.dim() == 3 && b.dim() == 2) {
    Tensor flat = mm(reshape(a, {-1, a.size(2)}), b);
    return reshape(flat, {a.size(0), a.size(1), b.size(1)});
  }
  throw std::invalid_argument("matmul: supports 2-D·2-D, 3-D·3-D and 3-D·2-D, got " + to_string(a.shape()) + " and " +
                              to_string(b.shape()));
}

// y = x·Wᵀ + b   x:(N,in) W:(out,in) b:(out) -> (N,out)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (x.dim() < 1 || weight.dim() != 2 || x.size(-1) != weight.size(1))
    throw std::invalid_argument("linear: input of shape " + to_string(x.shape()) + " does not match weight of shape " +
                                to_string(weight.shape()) + " (expected input (..., " +
                                std::to_string(weight.dim() == 2 ? weight.size(1) : -1) + "))");
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  Tensor y = mm(reshape(x, {-1, x.size(-1)}), weight, {.transpose_b = true});
  if (bias.defined()) y = y + bias;
  return x.dim() == 2 ? y : reshape(y, out_shape);
}

}  // namespace zg
