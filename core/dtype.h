#pragma once
// Element types. Every floating-point op supports Float32 (the default) and Float64;
// Int64 carries class labels and indices.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace zg {

enum class DType { Float32, Float64, Int64 };

inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}

inline std::size_t dtype_size(DType d) { return d == DType::Float32 ? 4 : 8; }
inline bool is_floating(DType d) { return d != DType::Int64; }

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::Int64; }

// Calls f.template operator()<T>() with T the C++ type of a floating-point dtype.
template <class F>
decltype(auto) dispatch_float(DType d, const char* op, F&& f) {
  switch (d) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    case DType::Int64: break;
  }
  throw std::invalid_argument(std::string(op) +
                              ": expected a float32 or float64 tensor, got int64; convert it with to(DType::Float32)");
}

// As dispatch_float, but Int64 is allowed too (shape ops, copies, comparisons of labels).
template <class F>
decltype(auto) dispatch_all(DType d, F&& f) {
  switch (d) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    case DType::Int64: return f.template operator()<std::int64_t>();
  }
  return f.template operator()<float>();
}

}  // namespace zg
