// Tensor storage: 64-byte aligned blocks, the big ones recycled through a cache of mapped pages,
// and the live/peak byte counts behind memory_stats().
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include "zoograd/core/tensor.h"

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
// A request of 8 MiB or more may take a kept block up to four times its size (the smallest that
// fits), so that layers of different sizes share blocks: an inference batch of 1,000 through the
// atlas network otherwise needs about 90 MB of distinct blocks against its 67 MB budget, and
// unmapped and faulted 60 MB of them anew every batch (a third of its inference time). Smaller
// requests take their own size only (sharing them cost the CNN's process 1.5 MiB of peak).
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
      // The same size, or for a large request the smallest kept size that fits within four times it;
      // its newest block.
      const std::size_t largest = bytes >= kHugeMin ? 4 * bytes : bytes;
      for (auto it = by_size_.lower_bound(bytes); it != by_size_.end() && it->first <= largest; ++it) {
        if (it->second.empty()) continue;
        auto block = it->second.back();
        it->second.pop_back();
        void* p = block->data;
        cached_ -= block->bytes;
        if (block->bytes != bytes) {
          oversized_[p] = block->bytes;
          slack_ += block->bytes - bytes;
        }
        oldest_first_.erase(block);
        return p;
      }
      const auto live = static_cast<std::size_t>(std::max<std::int64_t>(g_current_bytes.load(), 0)) + slack_;
      const std::size_t budget = std::max(kMinBudget, static_cast<std::size_t>(g_peak_bytes.load()));
      if (live + cached_ + bytes > budget) release_oldest(live + cached_ + bytes - budget);
    }
    return bytes >= kHugeMin ? map_huge(bytes) : map(bytes);
  }

  // `bytes` is the size that was asked for; a block handed out larger goes back at its own size.
  void give(void* p, std::size_t bytes) {
    std::lock_guard lock(mutex_);
    if (auto it = oversized_.find(p); it != oversized_.end()) {
      slack_ -= it->second - bytes;
      bytes = it->second;
      oversized_.erase(it);
    }
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
  std::map<std::size_t, std::vector<std::list<Block>::iterator>> by_size_;  // newest last
  std::unordered_map<void*, std::size_t> oversized_;  // blocks handed out larger than asked: their size
  std::size_t cached_ = 0, slack_ = 0;                // slack_: those blocks' bytes beyond what was asked
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

}  // namespace zg
