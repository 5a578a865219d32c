#include "core/caching_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <algorithm>
#include <map>
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

  // Scopes open and close under the lock, so a block freed as the last one closes is unmapped.
  void open_scope() const {
    std::lock_guard<std::mutex> lock(mutex_);
    ++scopes_;
  }
  void close_scope() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--scopes_ == 0) release_locked();
  }

  void release() const {
    std::lock_guard<std::mutex> lock(mutex_);
    release_locked();
  }

 private:
  using Range = std::map<char*, size_t>::iterator;

  // Cached memory costs nothing; a new mapping costs a page fault and a page clearing on first
  // touch (2 MiB at a time: huge pages where the system allows them, 512 times fewer faults). So
  // a request is cut from the smallest free range that holds it; only when none does is memory
  // mapped, after returning free ranges (the smallest first: fragments serve least) while the
  // memory held would exceed the most that was ever live at once.
  void* take(size_t n) const {
    const size_t size = (n + kPage - 1) / kPage * kPage;
    std::lock_guard<std::mutex> lock(mutex_);
    Range fit = free_.end();
    for (Range r = free_.begin(); r != free_.end(); ++r) {
      if (r->second >= size && (fit == free_.end() || r->second < fit->second)) fit = r;
    }
    char* data = nullptr;
    if (fit != free_.end()) {
      data = fit->first;
      if (fit->second > size) free_.emplace(data + size, fit->second - size);
      free_.erase(fit);
      stats_.cached_bytes -= size;
      ++stats_.hits;
    } else {
      ++stats_.misses;
      while (!free_.empty() && held_bytes_ + stats_.cached_bytes + int64_t(size) > stats_.peak_live_bytes) {
        evict(smallest());
      }
      data = map(size);
    }
    live_.emplace(data, Live{size, n});
    held_bytes_ += size;
    stats_.live_bytes += n;
    stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
    return data;
  }

  char* map(size_t size) const {
    void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
      evict_all();  // the cache may hold what this request needs
      data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (data == MAP_FAILED) throw std::bad_alloc();
    }
    madvise(data, size, MADV_HUGEPAGE);  // a hint: refused where huge pages are off
    return static_cast<char*>(data);
  }

  void release_locked() const {
    evict_all();
    stats_.peak_live_bytes = stats_.live_bytes;
  }

  static void give_back(void* data);

  // The range returns to the free ranges, merged with free neighbours (of the same mapping or of
  // one next to it: munmap takes any range of pages).
  void keep(void* data) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = live_.find(data);
    const Live block = it->second;
    live_.erase(it);
    held_bytes_ -= block.size;
    stats_.live_bytes -= block.requested;
    if (scopes_ == 0) {  // no owner left to reuse it: a tensor that outlived its Trainer
      munmap(data, block.size);
      return;
    }
    stats_.cached_bytes += block.size;
    char* start = static_cast<char*>(data);
    size_t size = block.size;
    Range next = free_.lower_bound(start);
    if (next != free_.end() && next->first == start + size) {
      size += next->second;
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      const Range previous = std::prev(next);
      if (previous->first + previous->second == start) {
        previous->second += size;
        return;
      }
    }
    free_.emplace_hint(next, start, size);
  }

  Range smallest() const {
    return std::min_element(free_.begin(), free_.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  }

  void evict_all() const {
    while (!free_.empty()) evict(free_.begin());
  }

  void evict(Range r) const {
    munmap(r->first, r->second);
    stats_.cached_bytes -= r->second;
    free_.erase(r);
  }

  struct Live {
    size_t size;       // whole pages
    size_t requested;  // what a plain allocator would have touched
  };

  c10::Allocator* small_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<void*, Live> live_;
  mutable std::map<char*, size_t> free_;  // start -> bytes; tens of ranges, so a scan is cheap
  mutable int64_t held_bytes_ = 0;        // the sizes of the live blocks
  mutable int scopes_ = 0;                // open CachingAllocatorScopes: memory is kept only while one is
  mutable CachingAllocatorStats stats_;
};

CachingAllocator* the_allocator = nullptr;

void CachingAllocator::give_back(void* data) { the_allocator->keep(data); }

}  // namespace

CachingAllocatorScope::CachingAllocatorScope() {
  if (install_caching_allocator()) the_allocator->open_scope();
}

CachingAllocatorScope::~CachingAllocatorScope() {
  if (the_allocator) the_allocator->close_scope();
}

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
