#include "core/tensor.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <new>
#include <ostream>
#include <unordered_map>
#include <vector>

#include "core/autograd.h"
#include "core/generator.h"

namespace zg {

namespace {
std::atomic<std::int64_t> g_current_bytes{0};
std::atomic<std::int64_t> g_peak_bytes{0};
constexpr std::size_t kAlignment = 64;  // a cache line, and AVX-512 friendly
}  // namespace

MemoryStats memory_stats() { return {g_current_bytes.load(), g_peak_bytes.load()}; }
void reset_peak_memory() { g_peak_bytes.store(g_current_bytes.load()); }

namespace {
// Big blocks (64 KiB and up) come from mmap and are kept when freed, to be handed out again for the
// same rounded size. A training step allocates the same large buffers (im2col matrices,
// activations, their gradients) every time, and each fresh block costs a page fault per 4 KiB page:
// about 15% of a small CNN's epoch. Kept blocks must not add to the peak resident memory, though:
// when a miss would take live plus kept bytes above the budget (the peak of live tensor bytes so
// far, at least 64 MiB), the oldest kept blocks are unmapped first. A training step's blocks then
// stay (its working set is within the budget), and after a large inference batch the old sizes
// make room for the new ones instead of piling up (a CNN's process went from 304 to 136 MiB).
// Small blocks go to malloc, which recycles them itself.
// Sanitizer builds skip the cache, so that AddressSanitizer sees every block's bounds and lifetime.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCacheBlocks = false;
#else
constexpr bool kCacheBlocks = true;
#endif

class BlockCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{1} << 16;
  static constexpr std::size_t kPage = 4096;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;
  static constexpr std::size_t kHugeMin = std::size_t{8} << 20;  // rounding up wastes at most 1/4
  static constexpr std::size_t kMinBudget = std::size_t{64} << 20;

  void* take(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      auto it = by_size_.find(bytes);
      if (it != by_size_.end() && !it->second.empty()) {
        auto block = it->second.back();
        it->second.pop_back();
        void* p = block->data;
        cached_ -= bytes;
        oldest_first_.erase(block);
        return p;
      }
      const auto live = static_cast<std::size_t>(std::max<std::int64_t>(g_current_bytes.load(), 0));
      const std::size_t budget = std::max(kMinBudget, static_cast<std::size_t>(g_peak_bytes.load()));
      if (live + cached_ + bytes > budget) release_oldest(live + cached_ + bytes - budget);
    }
    return bytes >= kHugeMin ? map_huge(bytes) : map(bytes);
  }

  void give(void* p, std::size_t bytes) {
    std::lock_guard lock(mutex_);
    oldest_first_.push_back({p, bytes});
    by_size_[bytes].push_back(std::prev(oldest_first_.end()));
    cached_ += bytes;
  }

 private:
  struct Block {
    void* data;
    std::size_t bytes;
  };

  static void* map(std::size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }

  // A block of whole 2 MiB pages, 2 MiB-aligned, marked for transparent huge pages: a fresh
  // 25 MB activation (an inference batch of 1,000 images) then costs 13 page faults rather than
  // 6,400, which on this VM took a tenth of the atlas network's training time. `bytes` is a
  // multiple of 2 MiB (rounded_size does that from kHugeMin up).
  static void* map_huge(std::size_t bytes) {
    auto* p = static_cast<char*>(map(bytes + kHugePage));
    if (!p) return nullptr;
    const std::size_t head = (kHugePage - reinterpret_cast<std::uintptr_t>(p) % kHugePage) % kHugePage;
    if (head > 0) munmap(p, head);
    munmap(p + head + bytes, kHugePage - head);
    madvise(p + head, bytes, MADV_HUGEPAGE);
    return p + head;
  }

  // Unmaps the longest-kept blocks until at least `bytes` are gone (or none are left).
  void release_oldest(std::size_t bytes) {
    std::size_t freed = 0;
    while (freed < bytes && !oldest_first_.empty()) {
      Block b = oldest_first_.front();
      auto& same = by_size_[b.bytes];
      same.erase(std::find(same.begin(), same.end(), oldest_first_.begin()));
      oldest_first_.pop_front();
      munmap(b.data, b.bytes);
      cached_ -= b.bytes;
      freed += b.bytes;
    }
  }

  std::mutex mutex_;
  std::list<Block> oldest_first_;
  std::unordered_map<std::size_t, std::vector<std::list<Block>::iterator>> by_size_;  // newest last
  std::size_t cached_ = 0;
};

// Never destroyed: tensors with static storage duration may be freed after it would be.
BlockCache& block_cache() {
  static auto* cache = new BlockCache;
  return *cache;
}

bool cached_size(std::size_t rounded) { return kCacheBlocks && rounded >= BlockCache::kMinBytes; }

std::size_t rounded_size(std::size_t n) {
  std::size_t unit = n >= BlockCache::kHugeMin ? BlockCache::kHugePage
                     : n >= BlockCache::kMinBytes ? BlockCache::kPage
                                                  : kAlignment;
  return (std::max<std::size_t>(n, 1) + unit - 1) / unit * unit;
}
}  // namespace

Storage::Storage(std::size_t n) : nbytes(n) {
  std::size_t rounded = rounded_size(n);
  data = cached_size(rounded) ? block_cache().take(rounded) : std::aligned_alloc(kAlignment, rounded);
  if (!data) throw std::bad_alloc();
  std::int64_t now = g_current_bytes += static_cast<std::int64_t>(n);
  std::int64_t peak = g_peak_bytes.load();
  while (now > peak && !g_peak_bytes.compare_exchange_weak(peak, now)) {
  }
}

Storage::~Storage() {
  std::size_t rounded = rounded_size(nbytes);
  if (cached_size(rounded)) block_cache().give(data, rounded);
  else std::free(data);
  g_current_bytes -= static_cast<std::int64_t>(nbytes);
}

TensorImpl& Tensor::impl() const {
  if (!impl_) throw std::logic_error("operation on an undefined Tensor (default-constructed or an unset grad)");
  return *impl_;
}

std::int64_t Tensor::size(std::int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

double Tensor::item() const {
  if (numel() != 1)
    throw std::invalid_argument("item(): expected a tensor with one element, got shape " + to_string(shape()));
  return dispatch_all(dtype(), [&]<class T>() { return static_cast<double>(*data<T>()); });
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(numel());
  dispatch_all(dtype(), [&]<class T>() {
    const T* p = data<T>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

Tensor& Tensor::requires_grad_(bool on) {
  if (on && !is_floating(dtype()))
    throw std::invalid_argument(std::string("requires_grad_: only float32/float64 tensors can require gradients, got ") +
                                dtype_name(dtype()));
  if (!is_leaf())
    throw std::invalid_argument("requires_grad_: only leaf tensors can change requires_grad; use detach() first");
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::detach() const {
  auto d = std::make_shared<TensorImpl>();
  d->storage = impl().storage;
  d->shape = impl().shape;
  d->dtype = impl().dtype;
  return Tensor(std::move(d));
}

Tensor empty(const Shape& shape, DType dtype) {
  for (std::int64_t d : shape)
    if (d < 0) throw std::invalid_argument("empty: negative dimension in shape " + to_string(shape));
  // Checked before anything is allocated: a byte count that wrapped around would get a small buffer
  // that the caller then fills to the full shape.
  std::int64_t bytes = 0;
  if (__builtin_mul_overflow(numel(shape), static_cast<std::int64_t>(dtype_size(dtype)), &bytes))
    throw std::invalid_argument("empty: shape " + to_string(shape) + " of " + dtype_name(dtype) +
                                " needs more bytes than an int64 can count");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(bytes));
  impl->shape = shape;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  dispatch_all(dtype, [&]<class T>() { std::fill_n(t.data<T>(), t.numel(), static_cast<T>(value)); });
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.impl().storage->data, 0, t.impl().storage->nbytes);
  return t;
}
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw std::invalid_argument("arange: need finite start/end and a nonzero step, got start " + std::to_string(start) +
                                ", end " + std::to_string(end) + ", step " + std::to_string(step));
  auto n = static_cast<std::int64_t>(std::max(0.0, std::ceil((end - start) / step)));
  Tensor t = empty({n}, dtype);
  dispatch_all(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return t;
}
Tensor arange(std::int64_t n, DType dtype) { return arange(0.0, static_cast<double>(n), 1.0, dtype); }

Tensor tensor(const std::vector<double>& values, const Shape& shape, DType dtype) {
  Shape s = shape.empty() ? Shape{static_cast<std::int64_t>(values.size())} : shape;
  if (numel(s) != static_cast<std::int64_t>(values.size()))
    throw std::invalid_argument("tensor: " + std::to_string(values.size()) + " values do not fill shape " +
                                to_string(s) + " (" + std::to_string(numel(s)) + " elements)");
  Tensor t = empty(s, dtype);
  dispatch_all(dtype, [&]<class T>() { std::transform(values.begin(), values.end(), t.data<T>(),
                                                      [](double v) { return static_cast<T>(v); }); });
  return t;
}
Tensor tensor(const std::vector<double>& values, DType dtype) { return tensor(values, {}, dtype); }

template <class T>
Tensor from_data(std::span<const T> values, const Shape& shape) {
  if (numel(shape) != static_cast<std::int64_t>(values.size()))
    throw std::invalid_argument("from_data: " + std::to_string(values.size()) + " values do not fill shape " +
                                to_string(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
template Tensor from_data<float>(std::span<const float>, const Shape&);
template Tensor from_data<double>(std::span<const double>, const Shape&);
template Tensor from_data<std::int64_t>(std::span<const std::int64_t>, const Shape&);

Tensor rand(const Shape& shape, DType dtype) { return rand(shape, dtype, default_generator()); }
Tensor rand(const Shape& shape, DType dtype, Generator& gen) {
  Tensor t = empty(shape, dtype);
  dispatch_float(dtype, "rand", [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0, end = t.numel(); i < end; ++i)
      p[i] = std::is_same_v<T, float> ? static_cast<T>(gen.uniform_float()) : static_cast<T>(gen.uniform());
  });
  return t;
}

Tensor randn(const Shape& shape, DType dtype) { return randn(shape, dtype, default_generator()); }
Tensor randn(const Shape& shape, DType dtype, Generator& gen) {
  Tensor t = empty(shape, dtype);
  dispatch_float(dtype, "randn", [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0, end = t.numel(); i < end; ++i) p[i] = static_cast<T>(gen.normal());
  });
  return t;
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, Generator& gen) {
  if (high <= low)
    throw std::invalid_argument("randint: need low < high, got low " + std::to_string(low) + ", high " +
                                std::to_string(high));
  Tensor t = empty(shape, DType::Int64);
  auto* p = t.data<std::int64_t>();
  for (std::int64_t i = 0, end = t.numel(); i < end; ++i)
    p[i] = low + static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(high - low)));
  return t;
}

// ---- differentiable conversions ----

namespace {
Tensor convert(const Tensor& x, DType dtype) {
  Tensor out = empty(x.shape(), dtype);
  dispatch_all(x.dtype(), [&]<class S>() {
    dispatch_all(dtype, [&]<class D>() {
      const S* src = x.data<S>();
      D* dst = out.data<D>();
      for (std::int64_t i = 0, end = x.numel(); i < end; ++i) dst[i] = static_cast<D>(src[i]);
    });
  });
  return out;
}
}  // namespace

// y = x converted to dtype; dy/dx = 1 (the gradient goes back to x's dtype)
Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  if (dtype == DType::Int64 || this->dtype() == DType::Int64) return convert(*this, dtype);
  return record("to", convert(*this, dtype), {*this},
                [](const Node& n, const Tensor& g) { return Grads{g.to(n.in(0).dtype())}; });
}

void Tensor::copy_(const Tensor& src) const {
  if (src.shape() != shape())
    throw std::invalid_argument("copy_: source of shape " + to_string(src.shape()) + " does not match " +
                                to_string(shape()));
  Tensor converted = convert(src, dtype());
  std::memcpy(impl().storage->data, converted.impl().storage->data, static_cast<std::size_t>(numel()) * dtype_size(dtype()));
}

// y = x (new storage)
Tensor Tensor::clone() const {
  return record("clone", convert(*this, dtype()), {*this}, [](const Node&, const Tensor& g) { return Grads{g}; });
}

// ---- printing ----

namespace {
struct Printer {
  const std::vector<double>& v;
  const Shape& shape;
  bool integer;
  bool scientific = false;
  int width = 0;
  static constexpr std::int64_t kEdge = 3;  // shown at each end of a summarized dimension
  bool summarize = false;

  std::string fmt(double x) const {
    char buf[64];
    if (integer) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(x));
    else if (std::isnan(x)) std::snprintf(buf, sizeof buf, "nan");
    else if (std::isinf(x)) std::snprintf(buf, sizeof buf, x > 0 ? "inf" : "-inf");
    else std::snprintf(buf, sizeof buf, scientific ? "%.4e" : "%.4f", x);
    return buf;
  }
  std::string padded(double x) const {
    std::string s = fmt(x);
    return std::string(static_cast<std::size_t>(std::max<int>(0, width - static_cast<int>(s.size()))), ' ') + s;
  }
  void print(std::string& out, std::size_t d, std::int64_t offset, std::int64_t stride, int indent) const {
    std::int64_t n = shape[d];
    std::int64_t inner = stride / std::max<std::int64_t>(n, 1);
    out += '[';
    for (std::int64_t i = 0; i < n; ++i) {
      if (summarize && n > 2 * kEdge && i == kEdge) {
        out += d + 1 == shape.size() ? "..., " : "...,\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
        i = n - kEdge;
      }
      if (d + 1 == shape.size()) out += padded(v[static_cast<std::size_t>(offset + i)]);
      else print(out, d + 1, offset + i * inner, inner, indent + 1);
      if (i + 1 < n) out += d + 1 == shape.size() ? ", " : ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
    }
    out += ']';
  }
};
}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::vector<double> v = to_vector();
  Printer p{v, shape(), dtype() == DType::Int64};
  p.summarize = numel() > 1000;
  double max_abs = 0, min_abs = INFINITY;
  for (double x : v)
    if (std::isfinite(x)) {
      max_abs = std::max(max_abs, std::abs(x));
      if (x != 0) min_abs = std::min(min_abs, std::abs(x));
    }
  p.scientific = !p.integer && (max_abs >= 1e8 || (min_abs < 1e-4 && max_abs > 0));
  for (double x : v) p.width = std::max(p.width, static_cast<int>(p.fmt(x).size()));
  std::string body;
  if (shape().empty()) body = p.fmt(v[0]);
  else p.print(body, 0, 0, numel(), 7);
  std::string r = "tensor(" + body;
  if (dtype() != DType::Float32) r += std::string(", dtype=") + dtype_name(dtype());
  if (grad_fn()) r += std::string(", grad_fn=") + grad_fn()->name;
  else if (requires_grad()) r += ", requires_grad=true";
  return r + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace zg
