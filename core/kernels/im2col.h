#pragma once
// im2col's column matrix and its adjoint, values only (core/conv.cpp records the ops).
#include "zoograd/core/kernels/geometry.h"

namespace zg::kernel {

// cols (C·kh·kw, N·oh·ow) of the g.n images at p: im2col's values.
template <class T>
void fill_columns(const Geometry& g, const T* p, T* cols);

// Adds the columns at p into the g.n images at out: im2col's adjoint.
template <class T>
void add_columns(const Geometry& g, const T* p, T* out);

}  // namespace zg::kernel
