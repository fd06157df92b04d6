#pragma once
// The loop of sum, amax and amin (values only; core/reduce.cpp records the ops).
#include <cstdint>

#include "zoograd/core/ops.h"

namespace zg::kernel {

enum class Reduce { Sum, Max, Min };

// out (x's shape with dims kept at size 1, out_numel elements) = the reduction of x over dims
// (sorted, unique, in range), in one pass over x. Sums accumulate in double; an extreme keeps a NaN.
template <class T>
void reduce(const T* x, T* out, const Shape& shape, const Dims& dims, std::int64_t out_numel, Reduce kind);

}  // namespace zg::kernel
