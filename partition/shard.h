#pragma once
// Shard: one rank's part of a partitioned dataset. Local ids are [inner | halo]: inner rows
// 0..num_inner-1 are the nodes this part owns (new global ids global_begin + i), halo rows
// follow, ordered by owner part and then by global id. The local CSR holds every in-edge of
// every inner node (1-hop halo) except self-loops, with columns over [inner | halo]. Degrees
// are full-graph degrees (self-loops not counted), so normalisation does not depend on the cut.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace halo {

// 2: shards carry the partition id of their meta.json.
constexpr uint32_t kShardFormatVersion = 2;

struct Shard {
  int32_t part = 0, num_parts = 1;
  int64_t global_begin = 0;      // new id of inner row 0
  int64_t num_global_nodes = 0;  // nodes in the whole graph
  int64_t num_classes = 0;
  std::string dataset;
  std::string partition_id;  // meta.json's: shards of one partitioning share it

  std::vector<int32_t> inner_original_ids;  // id of each inner node in the source dataset

  std::vector<int32_t> halo_global;     // new global id of each halo node
  std::vector<int32_t> halo_owner;      // owning part
  std::vector<int32_t> halo_owner_row;  // inner row of the node in its owner's shard

  std::vector<int64_t> offsets;  // local CSR: num_inner + 1 row offsets
  std::vector<int32_t> indices;  // local source column of each in-edge, sorted per row

  std::vector<int32_t> in_degree, out_degree;  // full-graph degrees of [inner | halo]

  at::Tensor features;                         // [num_inner, F] float32
  at::Tensor labels;                           // [num_inner] int64
  at::Tensor train_mask, val_mask, test_mask;  // [num_inner] bool

  // The HaloPlan lists. Rows sent to peer j: send_rows[send_offsets[j] .. send_offsets[j+1])
  // (inner rows, in j's halo order). Rows received from peer j land at local columns
  // recv_rows[recv_offsets[j] .. recv_offsets[j+1]).
  std::vector<int64_t> send_offsets, recv_offsets;  // num_parts + 1 each
  std::vector<int32_t> send_rows, recv_rows;

  int64_t num_inner() const { return static_cast<int64_t>(inner_original_ids.size()); }
  int64_t num_halo() const { return static_cast<int64_t>(halo_global.size()); }
  int64_t num_edges() const { return static_cast<int64_t>(indices.size()); }

  // Verifies sizes, id ranges and node values (check_node_data); throws Error prefixed by
  // `where` naming the first violation.
  void check(const std::string& where) const;
};

void save_shard(const Shard& shard, const std::string& path);
// Reads one shard file; `where` (e.g. "DIR/part-2/shard.bin") prefixes errors.
Shard read_shard_file(const std::string& path);

}  // namespace halo
