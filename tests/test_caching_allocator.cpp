// The CPU allocator that keeps large freed blocks (core/caching_allocator): reuse of free ranges
// cut and merged, the bound by the most ever live, small requests passed through, memory kept
// only while a scope is open.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <optional>

#include "core/caching_allocator.h"

namespace halo {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

at::Tensor floats(int64_t bytes) { return at::empty({bytes / 4}, at::kFloat); }

class CachingAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!install_caching_allocator()) GTEST_SKIP() << "not installed under AddressSanitizer";
    release_cached_blocks();  // the peak of earlier tests
    scope_.emplace();
  }
  std::optional<CachingAllocatorScope> scope_;  // a Trainer's, in training
};

TEST_F(CachingAllocatorTest, FreedMemoryServesTheNextRequestsThatFit) {
  at::Tensor a = floats(8 * kMiB);
  a.fill_(1.5f);
  char* const block = static_cast<char*>(a.data_ptr());
  const CachingAllocatorStats before = caching_allocator_stats();
  a.reset();
  EXPECT_EQ(caching_allocator_stats().cached_bytes, before.cached_bytes + 8 * kMiB);
  // A few rows fewer (a sampled halo) reuses the block; the rest stays free.
  at::Tensor b = floats(6 * kMiB);
  EXPECT_EQ(b.data_ptr(), block);
  at::Tensor c = floats(2 * kMiB);
  EXPECT_EQ(c.data_ptr(), block + 6 * kMiB);
  EXPECT_EQ(caching_allocator_stats().hits, before.hits + 2);
  EXPECT_EQ(caching_allocator_stats().misses, before.misses);
  // Freed neighbours merge: the whole block serves a whole-size request again.
  c.reset();
  b.reset();
  at::Tensor d = floats(8 * kMiB);
  EXPECT_EQ(d.data_ptr(), block);
  EXPECT_EQ(caching_allocator_stats().misses, before.misses);
  // Zeroing still zeroes reused memory.
  d.reset();
  EXPECT_EQ(at::zeros({8 * kMiB / 4}).abs().sum().item<float>(), 0.0f);
}

TEST_F(CachingAllocatorTest, TheCacheNeverHoldsMoreThanWasLiveAtOnce) {
  const int64_t elsewhere = caching_allocator_stats().live_bytes;  // other tests' tensors, if any
  at::Tensor a = floats(8 * kMiB);
  a.reset();  // the peak so far: 8 MiB, now cached
  ASSERT_EQ(caching_allocator_stats().cached_bytes, 8 * kMiB);
  // No free range holds 16 MiB: keeping the 8 MiB one would hold 24 MiB where 16 were needed.
  at::Tensor b = floats(16 * kMiB);
  EXPECT_EQ(caching_allocator_stats().cached_bytes, 0);
  EXPECT_EQ(caching_allocator_stats().live_bytes, elsewhere + 16 * kMiB);
  // Two tensors live at once raise the bound, so both are kept once freed.
  at::Tensor c = floats(8 * kMiB);
  b.reset();
  c.reset();
  EXPECT_EQ(caching_allocator_stats().cached_bytes, 24 * kMiB);
}

TEST_F(CachingAllocatorTest, SmallTensorsGoToLibTorchsAllocator) {
  const CachingAllocatorStats before = caching_allocator_stats();
  at::Tensor t = floats(512 * 1024);
  t.fill_(2.0f);
  EXPECT_EQ(t.sum().item<float>(), 2.0f * 128 * 1024);
  t.reset();
  const CachingAllocatorStats after = caching_allocator_stats();
  EXPECT_EQ(after.hits + after.misses, before.hits + before.misses);
  EXPECT_EQ(after.cached_bytes, 0);
}

TEST_F(CachingAllocatorTest, MemoryIsKeptOnlyWhileAScopeIsOpen) {
  const int64_t elsewhere = caching_allocator_stats().live_bytes;
  at::Tensor outlives = floats(2 * kMiB);
  {
    CachingAllocatorScope inner;  // a second Trainer alongside
    at::Tensor t = floats(4 * kMiB);
    t.reset();
  }
  EXPECT_EQ(caching_allocator_stats().cached_bytes, 4 * kMiB);  // the first still trains
  scope_.reset();
  EXPECT_EQ(caching_allocator_stats().cached_bytes, 0);
  // A tensor freed after its owner went is returned at once.
  outlives.reset();
  EXPECT_EQ(caching_allocator_stats().cached_bytes, 0);
  EXPECT_EQ(caching_allocator_stats().live_bytes, elsewhere);
}

}  // namespace
}  // namespace halo
