#pragma once
// A CPU allocator for LibTorch that keeps large freed blocks for reuse. Training allocates the
// same large tensors every epoch; glibc maps each afresh and unmaps it on free, so every epoch
// paid a page fault and a page clearing per 4 KiB of its working set (a sixth of a 4-rank epoch
// on reddit-sim:nodes=50000, in the kernel). Freed blocks of 1 MiB or more stay mapped as free
// ranges, merged with free neighbours; a request is cut from the smallest free range that holds
// it (so a sampled halo that varies by a few rows, or a gradient smaller than the activation
// freed before it, still reuses warm pages). New memory is mapped with huge pages where the
// system allows, and the memory held never exceeds the most a plain allocator would have held
// at once: the peak stays what it was. Smaller requests go to LibTorch's own allocator.
#include <cstdint>

namespace halo {

struct CachingAllocatorStats {
  int64_t live_bytes = 0;       // requested by the tensors of the large blocks in use
  int64_t cached_bytes = 0;     // freed and kept mapped
  int64_t peak_live_bytes = 0;  // since installation or the last release: the cache's bound
  int64_t hits = 0;             // requests served from free ranges
  int64_t misses = 0;           // requests that mapped new memory
};

// Makes it LibTorch's CPU allocator; once per process, later calls do nothing. Tensors allocated
// before keep their own deleter, so it may be installed at any time. False, and nothing done,
// under AddressSanitizer (which watches malloc, not these blocks).
bool install_caching_allocator();
CachingAllocatorStats caching_allocator_stats();
// Returns every cached block to the system and bounds the cache afresh by what is live from now
// on: a phase that needed more memory than the next leaves nothing behind.
void release_cached_blocks();

// Freed memory is kept only while a scope is open: a member declared first (destroyed last)
// gives a class the cache for its lifetime, and when the last scope closes, what was kept goes
// back to the system, as does anything freed later (tensors that outlived their owner).
class CachingAllocatorScope {
 public:
  CachingAllocatorScope();
  ~CachingAllocatorScope();
  CachingAllocatorScope(const CachingAllocatorScope&) = delete;
  CachingAllocatorScope& operator=(const CachingAllocatorScope&) = delete;
};

}  // namespace halo
