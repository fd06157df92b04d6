#pragma once
// Tensor: a cheap handle to a contiguous, row-major block of float32, float64 or int64 values.
// Copying a Tensor aliases it; reshape shares storage; every other op returns new storage.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "zoograd/core/dtype.h"
#include "zoograd/core/shape.h"

namespace zg {

class Generator;
struct Node;

// Bytes of tensor storage currently alive and the peak since start (or since reset_peak_memory()).
struct MemoryStats {
  std::int64_t current_bytes = 0;
  std::int64_t peak_bytes = 0;
};
MemoryStats memory_stats();
void reset_peak_memory();

struct Storage {
  explicit Storage(std::size_t nbytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  std::size_t nbytes = 0;
};

class Tensor;

// retain_graph keeps the graph for another backward; create_graph makes the gradients
// differentiable themselves (second derivatives) and implies retain_graph.
struct BackwardOptions { bool retain_graph = false, create_graph = false; };
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;  // a state_dict

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  DType dtype = DType::Float32;
  bool requires_grad = false;              // set on leaves by the user; implied by grad_fn otherwise
  std::shared_ptr<TensorImpl> grad;        // accumulated gradient of a leaf
  std::shared_ptr<Node> grad_fn;           // the op that produced this tensor, if recorded
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  std::int64_t dim() const { return static_cast<std::int64_t>(impl().shape.size()); }
  std::int64_t size(std::int64_t d) const;  // negative d counts from the end
  std::int64_t numel() const { return zg::numel(impl().shape); }
  DType dtype() const { return impl().dtype; }

  template <class T> T* data() const;      // checks that T matches dtype()
  double item() const;                     // the single value of a one-element tensor
  std::vector<double> to_vector() const;   // all values, row-major, as double

  // Autograd.
  bool requires_grad() const { return impl().requires_grad || impl().grad_fn != nullptr; }
  Tensor& requires_grad_(bool on = true);  // leaves of floating dtype only
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) const { impl().grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  // Accumulates d(this)/d(leaf) · grad into every leaf's grad(). grad may be omitted for a
  // one-element tensor. Frees the graph unless options.retain_graph.
  void backward(const Tensor& grad = Tensor(), const BackwardOptions& options = {}) const;

  Tensor detach() const;          // same storage, no history
  Tensor to(DType dtype) const;   // differentiable; returns *this when dtype already matches
  Tensor clone() const;           // new storage, differentiable
  // Overwrites this tensor's values with src's (same shape; dtype converted), outside autograd:
  // for optimizer steps, running statistics and loading weights.
  void copy_(const Tensor& src) const;

  std::string str() const;        // PyTorch-style printout
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Factories. Shapes are given as {d0, d1, ...}; a scalar has shape {}.
Tensor empty(const Shape& shape, DType dtype = DType::Float32);  // uninitialized
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor scalar(double value, DType dtype = DType::Float32);
Tensor arange(double start, double end, double step = 1.0, DType dtype = DType::Float32);
Tensor arange(std::int64_t n, DType dtype = DType::Float32);
// Values converted to dtype; shape defaults to 1-D. Throws when the count does not match the shape.
Tensor tensor(const std::vector<double>& values, const Shape& shape = {}, DType dtype = DType::Float32);
Tensor tensor(const std::vector<double>& values, DType dtype);
template <class T> Tensor from_data(std::span<const T> values, const Shape& shape);
// Random factories draw from gen (the default generator unless given).
Tensor rand(const Shape& shape, DType dtype = DType::Float32);   // uniform [0, 1)
Tensor rand(const Shape& shape, DType dtype, Generator& gen);
Tensor randn(const Shape& shape, DType dtype = DType::Float32);  // standard normal
Tensor randn(const Shape& shape, DType dtype, Generator& gen);
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen);  // int64 in [low, high)

template <class T>
T* Tensor::data() const {
  if (dtype_of<T>() != dtype())
    throw std::invalid_argument(std::string("data<") + dtype_name(dtype_of<T>()) + ">() called on a " +
                                dtype_name(dtype()) + " tensor");
  return static_cast<T*>(impl().storage->data);
}

}  // namespace zg
