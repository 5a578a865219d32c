#include "partition/partition_dir.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

#include "core/atomic_file.h"
#include "core/counter_rng.h"
#include "core/error.h"
#include "core/json_integer.h"
#include "core/progress.h"
#include "core/resources.h"
#include "datasets/content_hash.h"
#include "datasets/dataset_source.h"
#include "partition/shard_builder.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

void check_options(const Dataset& d, const PartitionOptions& o) {
  if (o.num_parts() < 1 || o.num_parts() > std::max<int64_t>(1, d.num_nodes())) {
    throw UsageError(fmt::format("--parts must lie in [1, {}] (the node count), got {}",
                                 std::max<int64_t>(1, d.num_nodes()), o.num_parts()));
  }
  if (o.imbalance() < 1.0) throw UsageError(fmt::format("--imbalance must be >= 1, got {}", o.imbalance()));
}

// The node balance METIS reached. Empty parts are refused: a rank without nodes cannot train, and
// they mean more parts than METIS can fill. A part above the requested imbalance is a warning.
void check_balance(const Dataset& d, const PartitionMap& map, const PartitionOptions& o) {
  const int32_t k = map.num_parts();
  int32_t empty = 0;
  int64_t largest = 0;
  for (int32_t part = 0; part < k; ++part) {
    empty += map.part_size(part) == 0;
    largest = std::max(largest, map.part_size(part));
  }
  const double mean = static_cast<double>(d.num_nodes()) / k, imbalance = static_cast<double>(largest) / mean;
  const std::string numbers = fmt::format("{} of {} nodes: the largest part holds {} nodes, {:.2f}x the mean of {:.1f}",
                                          d.name, d.num_nodes(), largest, imbalance, mean);
  if (empty > 0) {
    throw UsageError(fmt::format("--parts {}: {} left {} parts empty ({}, against --imbalance {}); use fewer parts", k,
                                 to_string(o.method()), empty, numbers, o.imbalance()));
  }
  // 1e-9: a perfect split of a node count k does not divide still counts as within bounds.
  if (imbalance > o.imbalance() + 1e-9) {
    spdlog::warn("--parts {}: {} missed --imbalance {} ({}); fewer parts balance better", k, to_string(o.method()),
                 o.imbalance(), numbers);
  }
}

// A source that is a path is recorded absolute, so the partition works from any folder.
std::string recorded_source(const std::string& source) {
  return fs::exists(source) ? fs::absolute(source).lexically_normal().string() : source;
}

nlohmann::json balance_json(const PartitionOptions& o) {
  nlohmann::json b = {"nodes"};
  if (o.balance_edges()) b.push_back("edges");
  if (o.balance_train()) b.push_back("train");
  return b;
}

// The files of the Halo partition in `dir` as its meta.json lists them, meta.json first; none if
// `dir` holds no Halo partition. Only names of the form part-<k>/shard.bin count: a meta.json
// is no licence to delete anything else.
std::vector<std::string> partition_files(const std::string& dir) {
  const fs::path meta = fs::path(dir) / "meta.json";
  if (!fs::is_regular_file(meta)) return {};  // a FIFO would block the read
  std::vector<std::string> files;
  try {
    const nlohmann::json j = nlohmann::json::parse(std::ifstream(meta));
    if (j.value("format", "") != "halo-partition") return {};
    files.push_back("meta.json");
    static const std::regex shard(R"(part-[0-9]+/shard\.bin)");
    for (const auto& f : j.value("part_files", nlohmann::json::array())) {
      if (f.is_string() && std::regex_match(f.get<std::string>(), shard)) files.push_back(f.get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    return {};
  }
  return files;
}

constexpr const char* kPartitionKind = "a Halo partition";

std::string shard_name(int32_t part) { return fmt::format("part-{}/shard.bin", part); }

}  // namespace

void check_partition_output(const std::string& dir, bool overwrite, const std::string& what) {
  OutputFolder(dir, !partition_files(dir).empty(), overwrite, kPartitionKind, what);
}

std::string PartitionMeta::shard_path(int32_t part) const { return (fs::path(dir) / shard_name(part)).string(); }

PartitionStats write_partition(const Dataset& d, const PartitionOptions& options, const std::string& dir,
                               const std::string& source, bool overwrite) {
  check_options(d, options);
  reset_peak_rss();
  Stopwatch total;
  const int32_t k = options.num_parts();
  // Before METIS, which can take minutes. The old files are read now: meta.json goes first.
  const std::vector<std::string> previous = partition_files(dir);
  OutputFolder out(dir, !previous.empty(), overwrite, kPartitionKind);
  for (int32_t part = 0; part < k; ++part) out.check(shard_name(part));
  out.check("meta.json");
  Progress progress(fmt::format("partition {} into {} parts", d.name, k), k + 2);

  // METIS and the edge cut want the symmetrised graph without self-loops.
  std::optional<Graph> converted;
  if (!d.graph.is_symmetric() || d.graph.num_self_loops() > 0) {
    converted = d.graph.symmetrized().with_self_loops(SelfLoops::remove);
  }
  const Graph& symmetric = converted ? *converted : d.graph;
  progress.advance();

  Stopwatch partition_clock;
  const PartitionMap map = options.method() == PartitionMethod::metis ? partition_metis(d, symmetric, options)
                                                                      : partition_random(d.num_nodes(), options);
  check_balance(d, map, options);
  PartitionStats stats;
  stats.partition_seconds = partition_clock.seconds();
  stats.edge_cut = edge_cut(symmetric, map);
  converted.reset();
  progress.advance();

  // Without meta.json a half-replaced folder is never taken for the old partition.
  if (out.replaces()) fs::remove(fs::path(dir) / "meta.json");
  // Shards hold the graph without self-loops and degrees that do not count them, as Block
  // wants: models add their own self-loops, so a part normalises exactly as the whole graph.
  std::optional<Dataset> simple;
  if (d.graph.num_self_loops() > 0) {
    simple = Dataset{d.name,       d.graph.with_self_loops(SelfLoops::remove),
                     d.features,   d.labels,
                     d.train_mask, d.val_mask,
                     d.test_mask,  d.num_classes};
  }
  const Dataset& data = simple ? *simple : d;
  // The id ties every shard to this meta.json: it changes with the dataset and the assignment.
  const uint64_t dataset_hash = content_hash(d);
  const std::vector<int32_t>& assignment = map.assignment();
  const std::string partition_id = hash_string(
      hash_bytes(assignment.data(), assignment.size() * sizeof assignment[0], stream_key(dataset_hash, k)));
  const auto halos = halo_lists(data.graph, map);
  const std::vector<int32_t> in_degree = data.graph.in_degrees(), out_degree = data.graph.out_degrees();
  nlohmann::json files = nlohmann::json::array();
  for (int32_t part = 0; part < k; ++part) {
    Shard s = build_shard(data, map, part, halos, in_degree, out_degree);
    s.partition_id = partition_id;
    out.write(shard_name(part), [&](const std::string& path) { save_shard(s, path); });
    files.push_back(shard_name(part));
    stats.parts.push_back({s.num_inner(), s.num_halo(), s.num_edges(), s.train_mask.sum().item<int64_t>(),
                           s.val_mask.sum().item<int64_t>(), s.test_mask.sum().item<int64_t>()});
    progress.advance();
  }
  stats.summarise();
  stats.total_seconds = total.seconds();
  stats.peak_rss_bytes = peak_rss_bytes();
  progress.finish();

  const nlohmann::json meta = {{"format", "halo-partition"},
                               {"version", kPartitionFormatVersion},
                               {"partition_id", partition_id},
                               {"dataset",
                                {{"name", d.name},
                                 {"source", recorded_source(source)},
                                 {"hash", hash_string(dataset_hash)},
                                 {"num_nodes", d.num_nodes()},
                                 {"num_edges", d.graph.num_edges()},
                                 {"num_features", d.num_features()},
                                 {"num_classes", d.num_classes}}},
                               {"options",
                                {{"num_parts", k},
                                 {"method", to_string(options.method())},
                                 {"objective", to_string(options.objective())},
                                 {"balance", balance_json(options)},
                                 {"imbalance", options.imbalance()},
                                 {"seed", options.seed()}}},
                               {"part_starts", map.part_starts()},
                               {"part_files", files},
                               {"stats", stats.to_json()}};
  out.write("meta.json", [&](const std::string& path) { write_file_atomically(path, meta.dump(2) + "\n"); });
  out.done();
  // The new partition is complete: what the old one listed and the new one did not write goes
  // (a special file put in its place stays), then its part folders if nothing else is in them.
  std::error_code ec;
  for (const std::string& file : previous) {
    if (file == "meta.json" || std::find(files.begin(), files.end(), file) != files.end()) continue;
    const fs::path path = fs::path(dir) / file;
    const fs::file_type type = fs::symlink_status(path, ec).type();
    if (type == fs::file_type::regular || type == fs::file_type::symlink) fs::remove(path, ec);
    fs::remove(path.parent_path(), ec);
  }
  return stats;
}

PartitionMeta read_partition_meta(const std::string& dir) {
  const std::string path = (fs::path(dir) / "meta.json").string();
  std::ifstream in(path);
  if (!in) {
    throw Error(fmt::format("{}: cannot open; is {} a partition directory written by 'halo partition'?", path, dir));
  }
  PartitionMeta m;
  m.dir = dir;
  std::string field;
  try {
    m.json = nlohmann::json::parse(in);
    auto get = [&](const char* ptr) -> const nlohmann::json& {
      field = ptr;
      return m.json.at(nlohmann::json::json_pointer(ptr));
    };
    if (get("/format") != "halo-partition") throw Error(fmt::format("{}: not a Halo partition", path));
    if (json_integer<int>(get("/version")) != kPartitionFormatVersion) {
      throw Error(fmt::format("{}: partition format version {} is not supported (this build reads {})", path,
                              json_integer<int>(get("/version")), kPartitionFormatVersion));
    }
    m.partition_id = get("/partition_id").get<std::string>();
    m.dataset = get("/dataset/name").get<std::string>();
    m.source = get("/dataset/source").get<std::string>();
    m.dataset_hash = get("/dataset/hash").get<std::string>();
    m.num_nodes = json_integer<int64_t>(get("/dataset/num_nodes"));
    m.num_edges = json_integer<int64_t>(get("/dataset/num_edges"));
    m.num_features = json_integer<int64_t>(get("/dataset/num_features"));
    m.num_classes = json_integer<int64_t>(get("/dataset/num_classes"));
    m.num_parts = json_integer<int32_t>(get("/options/num_parts"));
    m.part_starts = json_integers<int64_t>(get("/part_starts"));
    field = "/stats";
    m.stats = PartitionStats::from_json(get("/stats"));
  } catch (const nlohmann::json::exception& e) {
    throw Error(
        fmt::format("{}: {} {}", path, field.empty() ? "invalid JSON:" : "bad field '" + field + "':", e.what()));
  }
  const auto& s = m.part_starts;
  bool ok =
      m.num_parts >= 1 && s.size() == static_cast<size_t>(m.num_parts) + 1 && s.front() == 0 && s.back() == m.num_nodes;
  for (size_t i = 1; ok && i < s.size(); ++i) ok = s[i] >= s[i - 1];
  if (!ok) {
    throw Error(fmt::format("{}: part_starts must rise from 0 to num_nodes ({}) in num_parts + 1 ({}) steps", path,
                            m.num_nodes, m.num_parts + 1));
  }
  return m;
}

Shard load_shard(const PartitionMeta& meta, int32_t part) {
  if (part < 0 || part >= meta.num_parts) {
    throw Error(fmt::format("{} holds {} parts; part {} was asked for (run with as many ranks as parts)", meta.dir,
                            meta.num_parts, part));
  }
  const std::string path = meta.shard_path(part);
  Shard s = read_shard_file(path);
  if (s.partition_id != meta.partition_id) {
    throw Error(fmt::format("{}: partition id {} but {}/meta.json has partition_id {}: the folder mixes shards of two "
                            "partitionings; partition again into an empty folder",
                            path, s.partition_id, meta.dir, meta.partition_id));
  }
  if (s.part != part || s.num_parts != meta.num_parts || s.global_begin != meta.part_starts[part] ||
      s.num_inner() != meta.part_starts[part + 1] - meta.part_starts[part] || s.num_global_nodes != meta.num_nodes ||
      s.features.size(1) != meta.num_features || s.num_classes != meta.num_classes) {
    throw Error(fmt::format(
        "{}: shard (part {} of {}, {} inner nodes from id {}, {} features, {} classes) does not match meta.json "
        "(part {} of {}, {} nodes from id {}, {} features, {} classes)",
        path, s.part, s.num_parts, s.num_inner(), s.global_begin, s.features.size(1), s.num_classes, part,
        meta.num_parts, meta.part_starts[part + 1] - meta.part_starts[part], meta.part_starts[part], meta.num_features,
        meta.num_classes));
  }
  // Halo rows name rows of other shards: they must lie in their owner's range of meta.json.
  for (int64_t h = 0; h < s.num_halo(); ++h) {
    const int32_t owner = s.halo_owner[h];
    const int64_t begin = meta.part_starts[owner], size = meta.part_starts[owner + 1] - begin;
    if (s.halo_global[h] < begin || s.halo_global[h] >= begin + size || s.halo_global[h] - begin != s.halo_owner_row[h]) {
      throw Error(fmt::format("{}: halo node {} (global id {}, row {} of part {}) lies outside part {}'s ids [{}, {}) "
                              "in meta.json",
                              path, h, s.halo_global[h], s.halo_owner_row[h], owner, owner, begin, begin + size));
    }
  }
  return s;
}

Dataset load_partition_source(const PartitionMeta& meta) {
  const std::string meta_path = (fs::path(meta.dir) / "meta.json").string();
  Dataset d;
  try {
    d = load_dataset(meta.source);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: dataset.source '{}' does not load: {}", meta_path, meta.source, e.what()));
  }
  const std::pair<const char*, std::pair<std::string, std::string>> fields[] = {
      {"num_nodes", {std::to_string(meta.num_nodes), std::to_string(d.num_nodes())}},
      {"num_edges", {std::to_string(meta.num_edges), std::to_string(d.graph.num_edges())}},
      {"num_features", {std::to_string(meta.num_features), std::to_string(d.num_features())}},
      {"num_classes", {std::to_string(meta.num_classes), std::to_string(d.num_classes)}},
      {"hash", {meta.dataset_hash, hash_string(content_hash(d))}}};
  for (const auto& [field, values] : fields) {
    if (values.first != values.second) {
      throw Error(fmt::format("{}: dataset.{} is {} but dataset.source '{}' now has {}: the source changed since it "
                              "was partitioned; partition it again",
                              meta_path, field, values.first, meta.source, values.second));
    }
  }
  return d;
}

}  // namespace halo
