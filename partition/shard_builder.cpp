#include "partition/shard_builder.h"

#include <ATen/Functions.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>

#include "core/index_tensor.h"

namespace halo {
namespace {

// Positions [first, last) of the entries of sorted `ids` that lie in [lo, hi).
std::pair<int64_t, int64_t> segment(const std::vector<int32_t>& ids, int64_t lo, int64_t hi) {
  const auto first = std::lower_bound(ids.begin(), ids.end(), lo);
  const auto last = std::lower_bound(first, ids.end(), hi);
  return {first - ids.begin(), last - ids.begin()};
}

at::Tensor gather_rows(const at::Tensor& t, const std::vector<int32_t>& ids) {
  return t.index_select(0, index_tensor(ids)).contiguous();
}

}  // namespace

std::vector<std::vector<int32_t>> halo_lists(const Graph& g, const PartitionMap& map) {
  std::vector<std::vector<int32_t>> halos(map.num_parts());
  tbb::parallel_for(int32_t{0}, map.num_parts(), [&](int32_t k) {
    const int64_t begin = map.part_begin(k), end = begin + map.part_size(k);
    std::vector<uint8_t> seen(map.num_nodes(), 0);
    for (int64_t id = begin; id < end; ++id) {
      for (int32_t u : g.in_neighbors(map.original_id(static_cast<int32_t>(id)))) {
        const int32_t nu = map.new_id(u);
        if ((nu < begin || nu >= end) && !seen[nu]) {
          seen[nu] = 1;
          halos[k].push_back(nu);
        }
      }
    }
    std::sort(halos[k].begin(), halos[k].end());
  });
  return halos;
}

Shard build_shard(const Dataset& d, const PartitionMap& map, int32_t part,
                  const std::vector<std::vector<int32_t>>& halos, const std::vector<int32_t>& in_degree,
                  const std::vector<int32_t>& out_degree) {
  Shard s;
  s.part = part;
  s.num_parts = map.num_parts();
  s.global_begin = map.part_begin(part);
  s.num_global_nodes = map.num_nodes();
  s.num_classes = d.num_classes;
  s.dataset = d.name;
  const int64_t ni = map.part_size(part);
  s.inner_original_ids.resize(ni);
  for (int64_t i = 0; i < ni; ++i) s.inner_original_ids[i] = map.original_id(static_cast<int32_t>(s.global_begin + i));

  s.halo_global = halos[part];
  for (int32_t h : s.halo_global) {
    const int32_t owner = map.owner(h);
    s.halo_owner.push_back(owner);
    s.halo_owner_row.push_back(static_cast<int32_t>(h - map.part_begin(owner)));
  }

  // Local CSR: inner sources become rows' local ids, others their halo position.
  s.offsets.assign(ni + 1, 0);
  for (int64_t i = 0; i < ni; ++i) s.offsets[i + 1] = s.offsets[i] + d.graph.in_degree(s.inner_original_ids[i]);
  s.indices.resize(s.offsets[ni]);
  const std::vector<int32_t>& halo = s.halo_global;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, ni), [&](const tbb::blocked_range<int64_t>& r) {
    for (int64_t i = r.begin(); i != r.end(); ++i) {
      int32_t* out = s.indices.data() + s.offsets[i];
      for (int32_t u : d.graph.in_neighbors(s.inner_original_ids[i])) {
        const int64_t nu = map.new_id(u);
        *out++ = static_cast<int32_t>(map.part_of(u) == part
                                          ? nu - s.global_begin
                                          : ni + (std::lower_bound(halo.begin(), halo.end(), nu) - halo.begin()));
      }
      std::sort(s.indices.data() + s.offsets[i], out);
    }
  });

  auto add_degrees = [&](int32_t original) {
    s.in_degree.push_back(in_degree[original]);
    s.out_degree.push_back(out_degree[original]);
  };
  for (int32_t original : s.inner_original_ids) add_degrees(original);
  for (int32_t h : halo) add_degrees(map.original_id(h));

  s.features = gather_rows(d.features, s.inner_original_ids);
  s.labels = gather_rows(d.labels, s.inner_original_ids);
  s.train_mask = gather_rows(d.train_mask, s.inner_original_ids);
  s.val_mask = gather_rows(d.val_mask, s.inner_original_ids);
  s.test_mask = gather_rows(d.test_mask, s.inner_original_ids);

  // Star forest: peer j's halo segment owned by us is what we send to j; our halo segment
  // owned by j is where j's rows land.
  s.send_offsets.assign(s.num_parts + 1, 0);
  s.recv_offsets.assign(s.num_parts + 1, 0);
  for (int32_t j = 0; j < s.num_parts; ++j) {
    if (j != part) {
      const auto [first, last] = segment(halos[j], s.global_begin, s.global_begin + ni);
      for (int64_t p = first; p < last; ++p) s.send_rows.push_back(static_cast<int32_t>(halos[j][p] - s.global_begin));
      const auto [rfirst, rlast] = segment(halo, map.part_begin(j), map.part_begin(j) + map.part_size(j));
      for (int64_t p = rfirst; p < rlast; ++p) s.recv_rows.push_back(static_cast<int32_t>(ni + p));
    }
    s.send_offsets[j + 1] = static_cast<int64_t>(s.send_rows.size());
    s.recv_offsets[j + 1] = static_cast<int64_t>(s.recv_rows.size());
  }
  return s;
}

}  // namespace halo
