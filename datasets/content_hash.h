#pragma once
// Content hashes that tie files written by one step to the inputs of the next: a partition
// records the hash of the dataset it cut and an id for its node assignment, so a reader can tell
// a shard or a source folder that does not belong (see partition/partition_dir.h).
#include <cstddef>
#include <cstdint>
#include <string>

#include "datasets/dataset.h"

namespace halo {

// 64-bit hash of `bytes` bytes at `data`, chained from `seed`. Not cryptographic: it catches
// mix-ups and edits, not forgery. Independent of the thread count.
uint64_t hash_bytes(const void* data, size_t bytes, uint64_t seed);

// Hash of everything a model sees of `d`: graph, features, labels, masks and the class count
// (not the name, which follows the folder).
uint64_t content_hash(const Dataset& d);

// 16 lower-case hex digits, as meta.json and shards store a hash.
std::string hash_string(uint64_t hash);

}  // namespace halo
