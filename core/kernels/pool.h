#pragma once
// The pooling loops behind core/pool.cpp (values only): max-pooling with 2x2 windows, stride 2 and
// no padding (the common case), vectorized over the windows of a row pair; any other max-pool
// window; average pooling and its adjoint.
#include <cstdint>

#include "zoograd/core/kernels/geometry.h"

namespace zg::kernel {

// For planes [p0, p1) of h×w images at x: out[plane, y, x'] = the largest of window (y, x')
// (oh = h/2, ow = w/2) and idx its flat position y'·w + x' in the plane (idx may be null). A later
// window element wins when larger, or NaN over a non-NaN; ties keep the first (row-major).
template <class T>
void max_pool_2x2(const T* x, std::int64_t h, std::int64_t w, std::int64_t p0, std::int64_t p1, T* out,
                  std::int64_t* idx);

// idx[plane, y, x] = the flat (iy·w + ix) position of the maximum of window (y, x) of planes
// [plane0, plane1), out its value. idx_row_step is ow to keep every row's positions, 0 to reuse one
// row's worth per plane.
template <class T>
void pool_max(const Geometry g, const T* p, std::int64_t* idx0, std::int64_t idx_row_step, T* out,
              std::int64_t plane0, std::int64_t plane1);

// out = mean over each window (zero padding counted), or its adjoint when backward.
template <class T>
void avg_pool(const Geometry& g, const T* in, T* out, bool backward);

}  // namespace zg::kernel
