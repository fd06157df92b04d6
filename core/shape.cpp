#include "zoograd/core/shape.h"

#include <algorithm>
#include <stdexcept>

namespace zg {

std::int64_t numel(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n))  // a wrapped count would size a buffer far too small
      throw std::invalid_argument("shape " + to_string(s) + " has more elements than an int64 can count");
  return n;
}

std::string to_string(const Shape& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    std::int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    std::int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument(std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) +
                                  " cannot be broadcast (dimension " + std::to_string(i) + ": " +
                                  std::to_string(da) + " vs " + std::to_string(db) + ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// A scalar (rank 0) has no dimension to name: every caller indexes the shape with the result.
std::int64_t wrap_dim(std::int64_t dim, std::int64_t rank, const char* op) {
  if (rank == 0)
    throw std::invalid_argument(std::string(op) + ": dimension " + std::to_string(dim) +
                                " is out of range for a tensor of rank 0 (a scalar has no dimensions)");
  if (dim < -rank || dim >= rank)
    throw std::invalid_argument(std::string(op) + ": dimension " + std::to_string(dim) +
                                " is out of range for a tensor of rank " + std::to_string(rank) +
                                " (expected " + std::to_string(-rank) + ".." + std::to_string(rank - 1) + ")");
  return dim < 0 ? dim + rank : dim;
}

std::vector<std::int64_t> contiguous_strides(const Shape& s) {
  std::vector<std::int64_t> st(s.size());
  std::int64_t acc = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

}  // namespace zg
