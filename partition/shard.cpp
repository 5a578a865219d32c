#include "partition/shard.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/archive.h"
#include "core/error.h"
#include "core/json_integer.h"
#include "datasets/dataset.h"

namespace halo {
namespace {

constexpr const char* kMagic = "HALOSHRD";

void check_range(const std::vector<int32_t>& v, int64_t lo, int64_t hi, const char* what, const std::string& where) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < lo || v[i] >= hi) {
      throw Error(fmt::format("{}: {}[{}] = {} is outside [{}, {})", where, what, i, v[i], lo, hi));
    }
  }
}

void check_offsets(const std::vector<int64_t>& off, size_t rows, size_t total, const char* what,
                   const std::string& where) {
  if (off.size() != rows + 1 || off.front() != 0 || off.back() != static_cast<int64_t>(total)) {
    throw Error(fmt::format("{}: {} must have {} entries from 0 to {}", where, what, rows + 1, total));
  }
  for (size_t i = 0; i < rows; ++i) {
    if (off[i + 1] < off[i]) throw Error(fmt::format("{}: {} decrease at {}", where, what, i));
  }
}

}  // namespace

void Shard::check(const std::string& where) const {
  const int64_t ni = num_inner(), nh = num_halo(), local = ni + nh;
  auto fail = [&](const std::string& what) { throw Error(fmt::format("{}: {}", where, what)); };
  if (num_parts < 1 || part < 0 || part >= num_parts) fail(fmt::format("part {} of {} parts", part, num_parts));
  if (global_begin < 0 || global_begin + ni > num_global_nodes) fail("inner id range exceeds the graph");
  if (halo_owner.size() != halo_global.size() || halo_owner_row.size() != halo_global.size()) {
    fail("halo arrays differ in length");
  }
  check_range(inner_original_ids, 0, num_global_nodes, "inner_original_ids", where);
  check_range(halo_global, 0, num_global_nodes, "halo_global", where);
  check_range(halo_owner, 0, num_parts, "halo_owner", where);
  for (size_t h = 0; h < halo_owner.size(); ++h) {
    if (halo_owner[h] == part) fail(fmt::format("halo node {} is owned by this part", h));
    if (h > 0 && (halo_owner[h] < halo_owner[h - 1] || halo_global[h] <= halo_global[h - 1])) {
      fail(fmt::format("halo nodes not ordered by owner and id at {}", h));
    }
  }
  check_range(halo_owner_row, 0, num_global_nodes, "halo_owner_row", where);
  check_offsets(offsets, static_cast<size_t>(ni), indices.size(), "CSR offsets", where);
  check_range(indices, 0, local, "CSR indices", where);
  if (in_degree.size() != static_cast<size_t>(local) || out_degree.size() != static_cast<size_t>(local)) {
    fail(fmt::format("degree arrays must have {} entries", local));
  }
  check_offsets(send_offsets, static_cast<size_t>(num_parts), send_rows.size(), "send offsets", where);
  check_offsets(recv_offsets, static_cast<size_t>(num_parts), recv_rows.size(), "receive offsets", where);
  check_range(send_rows, 0, ni, "send_rows", where);
  check_range(recv_rows, ni, local, "recv_rows", where);
  check_node_data(where, ni, num_classes, features, labels, train_mask, val_mask, test_mask);
}

void save_shard(const Shard& s, const std::string& path) {
  ArchiveWriter w(path, kMagic, kShardFormatVersion);
  w.add_json("meta", {{"part", s.part},
                      {"num_parts", s.num_parts},
                      {"global_begin", s.global_begin},
                      {"num_global_nodes", s.num_global_nodes},
                      {"num_classes", s.num_classes},
                      {"dataset", s.dataset},
                      {"partition_id", s.partition_id}});
  w.add("inner_original_ids", s.inner_original_ids);
  w.add("halo_global", s.halo_global);
  w.add("halo_owner", s.halo_owner);
  w.add("halo_owner_row", s.halo_owner_row);
  w.add("offsets", s.offsets);
  w.add("indices", s.indices);
  w.add("in_degree", s.in_degree);
  w.add("out_degree", s.out_degree);
  w.add("features", s.features);
  w.add("labels", s.labels);
  w.add("train_mask", s.train_mask);
  w.add("val_mask", s.val_mask);
  w.add("test_mask", s.test_mask);
  w.add("send_offsets", s.send_offsets);
  w.add("send_rows", s.send_rows);
  w.add("recv_offsets", s.recv_offsets);
  w.add("recv_rows", s.recv_rows);
  w.finish();
}

Shard read_shard_file(const std::string& path) {
  ArchiveReader r(path, kMagic, kShardFormatVersion);
  Shard s;
  const nlohmann::json meta = r.json("meta");
  try {
    s.part = json_integer<int32_t>(meta.at("part"));
    s.num_parts = json_integer<int32_t>(meta.at("num_parts"));
    s.global_begin = json_integer<int64_t>(meta.at("global_begin"));
    s.num_global_nodes = json_integer<int64_t>(meta.at("num_global_nodes"));
    s.num_classes = json_integer<int64_t>(meta.at("num_classes"));
    s.dataset = meta.at("dataset").get<std::string>();
    s.partition_id = meta.at("partition_id").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: bad shard metadata: {}", path, e.what()));
  }
  s.inner_original_ids = r.vector<int32_t>("inner_original_ids");
  const int64_t ni = s.num_inner();
  s.halo_global = r.vector<int32_t>("halo_global");
  const int64_t nh = s.num_halo();
  s.halo_owner = r.vector<int32_t>("halo_owner", nh);
  s.halo_owner_row = r.vector<int32_t>("halo_owner_row", nh);
  s.offsets = r.vector<int64_t>("offsets", ni + 1);
  s.indices = r.vector<int32_t>("indices");
  s.in_degree = r.vector<int32_t>("in_degree", ni + nh);
  s.out_degree = r.vector<int32_t>("out_degree", ni + nh);
  s.features = r.tensor("features", ni);
  s.labels = r.tensor("labels", ni);
  s.train_mask = r.tensor("train_mask", ni);
  s.val_mask = r.tensor("val_mask", ni);
  s.test_mask = r.tensor("test_mask", ni);
  s.send_offsets = r.vector<int64_t>("send_offsets", s.num_parts + 1);
  s.send_rows = r.vector<int32_t>("send_rows");
  s.recv_offsets = r.vector<int64_t>("recv_offsets", s.num_parts + 1);
  s.recv_rows = r.vector<int32_t>("recv_rows");
  s.check(path);
  return s;
}

}  // namespace halo
