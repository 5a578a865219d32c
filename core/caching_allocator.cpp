#include "core/caching_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <algorithm>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>

namespace halo {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
#else
constexpr bool kAddressSanitizer = false;
#endif

constexpr size_t kLargeBlock = size_t{1} << 20;
constexpr size_t kPage = 4096;

// n rounded up to a class at most 1/16 larger: 16 classes per power of two, page-aligned.
size_t size_class(size_t n) {
  size_t step = kPage;
  while (step * 16 < n) step *= 2;
  return (n + step - 1) / step * step;
}

class CachingAllocator final : public c10::Allocator {
 public:
  explicit CachingAllocator(c10::Allocator* small) : small_(small) {}

  c10::DataPtr allocate(size_t n) const override {
    if (n < kLargeBlock) return small_->allocate(n);
    void* block = take(n);
    return {block, block, &give_back, c10::Device(c10::DeviceType::CPU)};
  }

  CachingAllocatorStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void release() const {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!cached_.empty()) evict_oldest();
    stats_.peak_live_bytes = stats_.live_bytes;
  }

 private:
  struct Block {
    void* data;
    size_t size;
  };

  // A cached block of the request's class costs nothing; a new one costs a page fault and a
  // page clearing on first touch (2 MiB at a time: huge pages where the system allows them, 512
  // times fewer faults). Reuse is by class only: a block serving smaller requests would hold
  // pages no plain allocator would, and the peak would grow.
  void* take(size_t n) const {
    const size_t size = size_class(n);
    std::lock_guard<std::mutex> lock(mutex_);
    auto hit = cached_.end();
    for (auto it = cached_.begin(); it != cached_.end(); ++it) {
      if (it->size == size) hit = it;  // the most recently freed: its pages are likelier in cache
    }
    void* data = nullptr;
    if (hit != cached_.end()) {
      data = hit->data;
      cached_.erase(hit);
      stats_.cached_bytes -= size;
      ++stats_.hits;
    } else {
      ++stats_.misses;
      while (!cached_.empty() && held_bytes_ + stats_.cached_bytes + int64_t(size) > stats_.peak_live_bytes) {
        evict_oldest();
      }
      data = map(size);
    }
    live_.emplace(data, Live{size, n});
    held_bytes_ += size;
    stats_.live_bytes += n;
    stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
    return data;
  }

  void* map(size_t size) const {
    void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
      while (!cached_.empty()) evict_oldest();  // the cache may hold what this request needs
      data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (data == MAP_FAILED) throw std::bad_alloc();
    }
    madvise(data, size, MADV_HUGEPAGE);  // a hint: refused where huge pages are off
    return data;
  }

  static void give_back(void* data);

  void keep(void* data) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = live_.find(data);
    const Live block = it->second;
    live_.erase(it);
    held_bytes_ -= block.size;
    stats_.live_bytes -= block.requested;
    cached_.push_back({data, block.size});
    stats_.cached_bytes += block.size;
  }

  void evict_oldest() const {
    munmap(cached_.front().data, cached_.front().size);
    stats_.cached_bytes -= cached_.front().size;
    cached_.pop_front();
  }

  struct Live {
    size_t size;
    size_t requested;  // what a plain allocator would have touched
  };

  c10::Allocator* small_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, Live> live_;
  mutable std::list<Block> cached_;  // oldest first; tens of blocks, so a scan is cheap
  mutable int64_t held_bytes_ = 0;   // the sizes of the live blocks
  mutable CachingAllocatorStats stats_;
};

CachingAllocator* the_allocator = nullptr;

void CachingAllocator::give_back(void* data) { the_allocator->keep(data); }

}  // namespace

bool install_caching_allocator() {
  if (kAddressSanitizer) return false;  // it watches malloc, not these blocks: keep its reports
  static std::once_flag once;
  std::call_once(once, [] {
    // Never destroyed: tensors may be freed during static destruction.
    the_allocator = new CachingAllocator(c10::GetCPUAllocator());
    c10::SetCPUAllocator(the_allocator, /*priority=*/1);
  });
  return true;
}

CachingAllocatorStats caching_allocator_stats() {
  return the_allocator ? the_allocator->stats() : CachingAllocatorStats{};
}

void release_cached_blocks() {
  if (the_allocator) the_allocator->release();
}

}  // namespace halo
