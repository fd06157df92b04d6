#pragma once
// Stride-1 convolutions with channels along the vector lanes, for layers with a vector's worth of
// channels or more (LeNet's conv2, 16 → 32). direct_conv.cpp's kernels lay positions along the
// lanes over a zero-padded grid, which for small planes computes mostly padding: the input gradient
// of an 8x8 output over its 16-wide grid did three times the useful work. Here each output is a
// vector of channels; rows out of range are skipped by the loop bounds and a row's taps by the
// choice of columns, so that every multiply-add is one of the convolution's own. The output is
// written back to NCHW as it is made.
#include "zoograd/core/kernels/direct_conv.h"

namespace zg::kernel {

// Whether forward_by_lanes takes s: a vector of output channels or more and a kernel 3 or 5 wide.
template <class T>
bool forward_by_lanes_fits(const DirectConv& s);
// y (n, o, oh, ow) = weight ⋆ x + bias (bias may be null), as direct_conv_forward.
template <class T>
void forward_by_lanes(const DirectConv& s, const T* x, const T* weight, const T* bias, T* y);

// Whether input_grad_by_lanes takes s: a vector of input channels or more, a kernel 3 or 5 wide.
template <class T>
bool input_grad_by_lanes_fits(const DirectConv& s);
// dx (n, c, h, w) = the adjoint of the forward in x, as direct_conv_input_grad.
template <class T>
void input_grad_by_lanes(const DirectConv& s, const T* gy, const T* weight, T* dx);

}  // namespace zg::kernel
