#pragma once
// Max-pooling with 2x2 windows, stride 2 and no padding (the common case), vectorized over the
// windows of a row pair. Values only; core/conv.cpp's max_pool2d takes it where it applies.
#include <cstdint>

namespace zg::kernel {

// For planes [p0, p1) of h×w images at x: out[plane, y, x'] = the largest of window (y, x')
// (oh = h/2, ow = w/2) and idx its flat position y'·w + x' in the plane (idx may be null). A later
// window element wins when larger, or NaN over a non-NaN; ties keep the first (row-major).
template <class T>
void max_pool_2x2(const T* x, std::int64_t h, std::int64_t w, std::int64_t p0, std::int64_t p1, T* out,
                  std::int64_t* idx);

}  // namespace zg::kernel
