#pragma once
// Shapes and the NumPy broadcasting rule.
#include <cstdint>
#include <string>
#include <vector>

namespace zg {

using Shape = std::vector<std::int64_t>;

std::int64_t numel(const Shape& s);  // throws when the product overflows int64
std::string to_string(const Shape& s);  // "[2, 3]"

// The broadcast shape of a and b (NumPy rules); throws naming op, both shapes and the clashing dimension.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Wraps a possibly negative dimension into [0, rank); throws naming op when out of range.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank, const char* op);

// Row-major strides of a contiguous tensor of shape s.
std::vector<std::int64_t> contiguous_strides(const Shape& s);

}  // namespace zg
