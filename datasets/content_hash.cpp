#include "datasets/content_hash.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <cstring>
#include <vector>

#include "core/counter_rng.h"

namespace halo {
namespace {

constexpr size_t kBlockBytes = size_t{1} << 20;

// One block: every 8-byte word (the tail zero-padded) mixed into a running value.
uint64_t hash_block(const unsigned char* p, size_t bytes, uint64_t seed) {
  uint64_t h = seed;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = mix64(h ^ w);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, bytes - i);
  return mix64(h ^ tail ^ (static_cast<uint64_t>(bytes) << 56));
}

uint64_t hash_tensor(const at::Tensor& t, uint64_t seed) {
  const at::Tensor c = t.contiguous();
  return hash_bytes(c.data_ptr(), c.nbytes(), stream_key(seed, static_cast<uint64_t>(c.scalar_type())));
}

}  // namespace

uint64_t hash_bytes(const void* data, size_t bytes, uint64_t seed) {
  // Blocks hash in parallel and combine in order, so the result does not depend on the threads.
  const auto* p = static_cast<const unsigned char*>(data);
  const size_t blocks = (bytes + kBlockBytes - 1) / kBlockBytes;
  std::vector<uint64_t> block_hash(blocks);
  tbb::parallel_for(size_t{0}, blocks, [&](size_t b) {
    const size_t begin = b * kBlockBytes;
    block_hash[b] = hash_block(p + begin, std::min(kBlockBytes, bytes - begin), stream_key(seed, b));
  });
  uint64_t h = stream_key(seed, bytes);
  for (uint64_t b : block_hash) h = stream_key(h, b);
  return h;
}

uint64_t content_hash(const Dataset& d) {
  const auto& off = d.graph.offsets();
  const auto& idx = d.graph.indices();
  uint64_t h = stream_key(0x68616c6f64617461ULL, static_cast<uint64_t>(d.num_classes));
  h = hash_bytes(off.data(), off.size() * sizeof off[0], h);
  h = hash_bytes(idx.data(), idx.size() * sizeof idx[0], h);
  for (const at::Tensor* t : {&d.features, &d.labels, &d.train_mask, &d.val_mask, &d.test_mask}) {
    h = hash_tensor(*t, h);
  }
  return h;
}

std::string hash_string(uint64_t hash) { return fmt::format("{:016x}", hash); }

}  // namespace halo
