#pragma once
// Stride-1 convolution computed directly, without im2col: for the small channel counts of the
// atlas and LeNet networks, im2col's copies cost as much as the product, and OpenBLAS's GEMM is
// tuned for larger matrices than (8, 25)·(25, 784). Values only; core/conv.cpp wires them into
// the conv2d op, whose composed im2col + GEMM form stays the reference.
//
// Each image's input planes are zero-padded and flattened with row pitch PW = w + 2·pw, so that
// output position q = y·PW + x reads x_padded[q + ki·PW + kj] for tap (ki, kj): one contiguous
// vector load serves 16 neighbouring outputs (the PW - ow positions at each row's end are computed
// and dropped). Tiles of 8 output channels by up to 48 positions stay in registers over all input
// channels and taps. Where a layer has a vector's worth of channels, core/kernels/conv_lanes.h's
// kernels (channels along the lanes, no padding computed) take the forward and the input gradient.
#include <cstdint>

namespace zg::kernel {

// x (n, c, h, w) ⋆ weight (o, c, kh, kw), stride 1, zero padding (ph, pw).
struct DirectConv {
  std::int64_t n, c, h, w, o, kh, kw, ph, pw;
  std::int64_t oh() const { return h + 2 * ph - kh + 1; }
  std::int64_t ow() const { return w + 2 * pw - kw + 1; }
};

// Whether the direct kernels take this convolution: the input gradient is itself a convolution
// of gy with padding kh - 1 - ph, which must not be negative.
bool direct_conv_fits(const DirectConv& s);

// y (n, o, oh, ow) = weight ⋆ x + bias (bias may be null).
template <class T>
void direct_conv_forward(const DirectConv& s, const T* x, const T* weight, const T* bias, T* y);
// dx (n, c, h, w) = Σ_o weight[o] flipped ⋆ gy[o], the adjoint of the forward in x.
template <class T>
void direct_conv_input_grad(const DirectConv& s, const T* gy, const T* weight, T* dx);
// dweight (o, c, kh, kw) = Σ over images and positions of gy[o] · x[c] at the tap's offset. Each
// thread's images are summed apart and the parts added in order, so the result does not depend on
// which thread finishes first.
template <class T>
void direct_conv_weight_grad(const DirectConv& s, const T* x, const T* gy, T* dweight);

}  // namespace zg::kernel
