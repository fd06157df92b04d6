#pragma once
// The differentiable ops of zoograd. Floating-point ops accept float32 and float64; binary ops
// broadcast with NumPy rules and promote float32 with float64 to float64. Negative dimensions
// count from the end. Every op here is swept by the gradcheck table in tests/op_table.cpp.
#include <cstdint>
#include <optional>
#include <vector>

#include "zoograd/core/autograd.h"
#include "zoograd/core/generator.h"
#include "zoograd/core/tensor.h"

namespace zg {

using Dims = std::vector<std::int64_t>;

// ---- elementwise arithmetic (broadcasting) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, double exponent);
Tensor neg(const Tensor& x);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& x);

// ---- elementwise functions ----
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);     // gradient 0
Tensor erf(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor acos(const Tensor& x);     // gradient finite at ±1 (1 - x² clamped away from 0)
Tensor atan2(const Tensor& y, const Tensor& x);  // the angle of (x, y), broadcasting; gradient 0 at the origin
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max = std::nullopt);
Tensor relu(const Tensor& x);
Tensor& relu_(Tensor& x);  // in place; x must not require grad while grad mode is on
Tensor relu_backward(const Tensor& grad, const Tensor& x);  // grad where x > 0, else 0
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
// y = x for x > 0, weight·x otherwise; weight: one slope, shape (1), or one per channel of
// dimension 1, shape (C) (PyTorch's F.prelu).
Tensor prelu(const Tensor& x, const Tensor& weight);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);     // exact: x·Φ(x)
Tensor softplus(const Tensor& x, double beta = 1.0);  // log(1 + exp(beta·x)) / beta, overflow-free

// cond is a mask (nonzero = true) of any dtype; a and b broadcast with it.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons return a 0/1 mask, not differentiable, in the promoted floating dtype of the inputs
// (float32 for two int64 tensors; an int64 tensor against a double compares, and returns, in float64).
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
Tensor isfinite(const Tensor& x);

// ---- reductions ----
// keepdim: the reduced dims stay in the result with size 1 (PyTorch's keepdim=True).
struct ReduceOptions { bool keepdim = false; };
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const Dims& dims, const ReduceOptions& options = {});
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const Dims& dims, const ReduceOptions& options = {});
Tensor amax(const Tensor& x, const Dims& dims, const ReduceOptions& options = {});  // gradient shared among ties
Tensor amin(const Tensor& x, const Dims& dims, const ReduceOptions& options = {});
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, std::int64_t dim, const ReduceOptions& options = {});  // int64, first maximum
Tensor argmin(const Tensor& x, std::int64_t dim, const ReduceOptions& options = {});
// log Σ exp(x); a slice that is all -inf gives -inf and a zero gradient.
Tensor logsumexp(const Tensor& x, const Dims& dims, const ReduceOptions& options = {});
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

// ---- matrix products (OpenBLAS) ----
// transpose_a/_b multiply by the transpose without materializing it: mm(x, w, {.transpose_b = true}).
struct MmOptions { bool transpose_a = false, transpose_b = false; };
// mm: (M,K)·(K,N) -> (M,N).
Tensor mm(const Tensor& a, const Tensor& b, const MmOptions& options = {});
// bmm: (B,M,K)·(B,K,N) -> (B,M,N).
Tensor bmm(const Tensor& a, const Tensor& b, const MmOptions& options = {});
// matmul: 2-D·2-D, 3-D·3-D (batched), or 3-D·2-D (the 2-D operand shared over the batch).
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x·Wᵀ + b   x:(N,in) W:(out,in) b:(out) -> (N,out); b may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- shape ops ----
Tensor reshape(const Tensor& x, const Shape& shape);  // one -1 is inferred; shares storage
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor permute(const Tensor& x, const Dims& order);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor concat(const std::vector<Tensor>& xs, std::int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim = 0);
// x[start:end:step] along dim; start/end are clipped like Python slices.
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1);
// base with base[start:end:step] along dim replaced by src.
Tensor slice_scatter(const Tensor& base, const Tensor& src, std::int64_t dim, std::int64_t start,
                     std::int64_t end, std::int64_t step = 1);
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);  // index: int64 (K)
// base, with src's slices added at positions index along dim (the adjoint of index_select).
Tensor index_add(const Tensor& base, std::int64_t dim, const Tensor& index, const Tensor& src);
// out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim); index: int64, x's rank.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
// base, with src added at positions index along dim (the adjoint of gather).
Tensor scatter_add(const Tensor& base, std::int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& index, std::int64_t num_classes, DType dtype = DType::Float32);
Tensor broadcast_to(const Tensor& x, const Shape& shape);  // materializes
Tensor sum_to(const Tensor& x, const Shape& shape);         // undoes broadcast_to by summing
// x / max(‖x‖_p, eps) along dim.
Tensor normalize(const Tensor& x, double p = 2.0, std::int64_t dim = 1, double eps = 1e-12);

// ---- normalization ----
struct BatchNormOptions {
  bool training = false;  // batch statistics (and running averages updated) rather than the running ones
  double momentum = 0.1;
  double eps = 1e-5;
};
// y = (x - μ)/√(σ² + eps)·weight + bias per channel of dimension 1 of x (N, C, *), PyTorch's
// F.batch_norm. Training: μ, σ² are the batch's mean and biased variance over every dimension but
// 1, and running_mean/var (if defined) become (1 - momentum)·running + momentum·(μ, n/(n-1)·σ²)
// in place; evaluation: μ, σ² are running_mean, running_var. weight and bias may be undefined
// (1 and 0). Differentiable in x, weight and bias.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, const BatchNormOptions& options = {});

// ---- convolution and pooling, NCHW ----
struct Size2 {
  Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT: an int means the same for both sides
  Size2(std::int64_t h_, std::int64_t w_) : h(h_), w(w_) {}
  std::int64_t h, w;
};
// x:(N,C,H,W) -> (C·kh·kw, N·oh·ow): one column per output position of the whole batch.
Tensor im2col(const Tensor& x, Size2 kernel, Size2 stride = 1, Size2 padding = 0);
// The adjoint of im2col: sums columns back into an image of shape (N,C,H,W).
Tensor col2im(const Tensor& cols, const Shape& image_shape, Size2 kernel, Size2 stride = 1,
              Size2 padding = 0);
// y = W ⋆ x + b   x:(N,C,H,W) W:(O,C,kh,kw) b:(O) or undefined -> (N,O,oh,ow)
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              Size2 padding = 0);
// stride defaults to the kernel size; padding pads with -inf.
Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = 0);
// max_pool2d's backward: grad (N,C,oh,ow) added at the window maxima index (N,C,oh·ow) of an input
// of input_shape (positions are flat in H·W).
Tensor max_pool2d_backward(const Tensor& grad, const Tensor& index, const Shape& input_shape);
// Zero padding counted in the average (PyTorch's count_include_pad=True).
Tensor avg_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = 0);
// The adjoint of avg_pool2d: spreads grad over the windows of an input of shape input_shape.
Tensor avg_pool2d_backward(const Tensor& grad, const Shape& input_shape, Size2 kernel, Size2 stride,
                           Size2 padding);

}  // namespace zg
