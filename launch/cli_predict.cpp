// `halo predict`: exact full-graph inference of a trained checkpoint, in one process on a dataset
// or under mpirun on a partition (rank k infers part k's nodes): every node's class and class
// probabilities, and on request a hidden layer's output, in the dataset's node order, written as
// NumPy .npy files and a CSV.
#include <ATen/Functions.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "comm/communicator.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/npy.h"
#include "datasets/dataset.h"
#include "datasets/dataset_source.h"
#include "gcn/checkpoint_model.h"
#include "launch/cli_checks.h"
#include "launch/cli_common.h"
#include "launch/cli_job.h"
#include "partition/partition_dir.h"
#include "train/trainer.h"

namespace halo::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "predictions.json";
constexpr const char* kKind = "Halo predictions";
// The Trainer's exchange is idle once inference is done, so the gather may use any tag.
constexpr int kGatherTag = kMaxTransferTag - 1;

// The files an earlier `halo predict` wrote in `dir` (its manifest's list), or none.
std::vector<std::string> previous_files(const std::string& dir) {
  const fs::path manifest = fs::path(dir) / kManifest;
  if (!fs::exists(manifest)) return {};
  try {
    const auto j = nlohmann::json::parse(std::ifstream(manifest));
    if (j.value("format", "") != "halo-predictions") return {};
    return j.at("files").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: not a readable predictions manifest ({}); remove it or choose another -o",
                            manifest.string(), e.what()));
  }
}

// `rows` of every rank (row i is node ids[i]) placed at their node ids, on rank 0; undefined
// elsewhere. One process: the rows themselves, reordered.
at::Tensor by_node_id(Communicator* comm, const at::Tensor& rows, const at::Tensor& ids, int64_t nodes,
                      const std::string& what) {
  at::Tensor all_rows = rows, all_ids = ids;
  if (comm) {
    const int k = comm->size();
    at::Tensor counts = at::zeros({k}, at::kLong);
    counts[comm->rank()] = rows.size(0);
    counts = over_ranks(comm, counts, ReduceOp::sum, what + ", row counts");
    std::vector<at::Tensor> send(k), recv(k), send_ids(k), recv_ids(k);
    if (comm->rank() == 0) {
      for (int r = 1; r < k; ++r) {  // rank 0's own rows need no message
        recv[r] = at::empty({counts[r].item<int64_t>(), rows.size(1)}, rows.options());
        recv_ids[r] = at::empty({counts[r].item<int64_t>()}, ids.options());
      }
    } else {
      send[0] = rows.contiguous();
      send_ids[0] = ids.contiguous();
    }
    comm->alltoallv(send, recv, kGatherTag, what);
    comm->alltoallv(send_ids, recv_ids, kGatherTag, what + ", node ids");
    if (comm->rank() != 0) return {};
    recv[0] = rows, recv_ids[0] = ids;
    all_rows = at::cat(recv);
    all_ids = at::cat(recv_ids);
  }
  at::Tensor out = at::empty({nodes, rows.size(1)}, rows.options());
  return out.index_copy_(0, all_ids, all_rows);
}

std::string csv(const at::Tensor& classes, const at::Tensor& probabilities) {
  const at::Tensor top = probabilities.gather(1, classes.unsqueeze(1)).squeeze(1);
  const auto* c = classes.data_ptr<int64_t>();
  const auto* p = top.data_ptr<float>();
  std::string text = "node,class,probability\n";
  for (int64_t v = 0; v < classes.size(0); ++v) text += fmt::format("{},{},{:.6g}\n", v, c[v], p[v]);
  return text;
}

}  // namespace

void add_predict_command(CLI::App& app) {
  struct Args {
    std::string spec, parts, model, output;
    std::optional<int64_t> hidden_layer;
    double deadline = 600;
    bool normalize_features = false, overwrite = false, json = false;
  };
  static Args a;
  CLI::App* cmd = app.add_subcommand(
      "predict", "Exact full-graph inference of a trained model: every node's class and probabilities");
  cmd->footer(
      "Writes to -o, in the dataset's node order: classes.npy (int64 [nodes]), probabilities.npy (float32 "
      "[nodes, classes], softmax of the logits), predictions.csv (node,class,probability), hidden_layer_L.npy "
      "(float32 [nodes, width]) with --hidden-layer L, and predictions.json (what was written, and the "
      "accuracy of the classes on the data set's splits). numpy.load reads the .npy files.");
  auto* dataset = cmd->add_option("dataset", a.spec, "Dataset: a path, a preset, or a folder name under $HALO_DATA");
  auto* parts = cmd->add_option("--parts", a.parts,
                                "Partition directory (halo partition): under `mpirun -np K`, rank k infers part k");
  dataset->excludes(parts);
  cmd->add_option("--model", a.model, "Checkpoint directory of a trained model (halo train --checkpoint DIR)")
      ->required();
  cmd->add_option("-o,--output", a.output, "Folder to write the predictions to")->required();
  whole_in(cmd->add_option("--hidden-layer", a.hidden_layer,
                           "Also write the output of hidden layer L (0: the first layer's, activated)"),
           0, kMaxCount);
  cmd->add_flag("--normalize-features", a.normalize_features, "Row-normalise the input features, as in training");
  number_in(cmd->add_option("--deadline", a.deadline, "Seconds a rank waits for a peer before failing the job"), 0.001,
            1e6);
  cmd->add_flag("--overwrite", a.overwrite, "Replace the predictions an earlier run wrote to -o");
  cmd->add_flag("--json", a.json, "Print the manifest as one JSON object");
  cmd->callback([] {
    if (a.spec.empty() == a.parts.empty()) throw UsageError("predict: give a dataset or --parts DIR (one of them)");
    const std::shared_ptr<Communicator> comm = a.parts.empty() ? nullptr : job_world(a.deadline);
    const bool writer = !comm || comm->rank() == 0;
    // Claimed before any work; every rank learns whether rank 0 could.
    std::unique_ptr<OutputFolder> out;
    std::vector<std::string> earlier;
    std::string refused;
    if (writer) {
      try {
        earlier = previous_files(a.output);
        out = std::make_unique<OutputFolder>(a.output, !earlier.empty(), a.overwrite, kKind, "-o");
      } catch (const std::exception& e) {
        if (!comm) throw;
        refused = e.what();
      }
    }
    if (comm && over_ranks(comm.get(), at::tensor({refused.empty() ? 0 : 1}, at::kLong), ReduceOp::sum, "-o check")
                        .item<int64_t>() > 0) {
      if (writer) throw UsageError(refused);
      throw UsageError("rank 0 refused -o " + a.output);
    }

    ModelOptions architecture;
    Model model = load_checkpoint_model(a.model, &architecture);
    std::unique_ptr<Trainer> trainer;
    std::string name;
    at::Tensor ids;  // original node id of each of this rank's rows
    int64_t nodes = 0, classes = 0;
    auto check_shapes = [&](int64_t features) {
      if (features != architecture.in_features() || classes != architecture.out_features()) {
        throw UsageError(fmt::format("{}: the model takes {} features to {} classes; {} has {} features and {} classes",
                                     a.model, architecture.in_features(), architecture.out_features(), name, features,
                                     classes));
      }
    };
    const TrainerOptions options = TrainerOptions().epochs(0);
    if (!comm) {
      Dataset d = load_dataset(a.spec);
      if (a.normalize_features) d.features = row_normalized(d.features);
      name = d.name, nodes = d.num_nodes(), classes = d.num_classes;
      check_shapes(d.num_features());
      trainer = std::make_unique<Trainer>(d, model, options);
      ids = at::arange(nodes, at::kLong);
    } else {
      const PartitionMeta meta = job_partition(a.parts, *comm, "predict");
      name = meta.dataset, nodes = meta.num_nodes, classes = meta.num_classes;
      check_shapes(meta.num_features);
      Shard shard = load_shard(meta, comm->rank());
      if (a.normalize_features) shard.features = row_normalized(shard.features);
      ids = at::tensor(std::vector<int64_t>(shard.inner_original_ids.begin(), shard.inner_original_ids.end()));
      trainer = std::make_unique<Trainer>(shard, comm, model, options);
    }
    const Trainer::Inference inference = trainer->infer(a.hidden_layer);
    const Accuracy accuracy = trainer->accuracy(inference.logits);
    const at::Tensor probabilities =
        by_node_id(comm.get(), at::softmax(inference.logits, 1).to(at::kFloat), ids, nodes, "predict, probabilities");
    const at::Tensor hidden =
        a.hidden_layer ? by_node_id(comm.get(), inference.hidden.to(at::kFloat), ids, nodes, "predict, hidden layer")
                       : at::Tensor();
    if (!writer) return;

    const at::Tensor predicted = probabilities.argmax(1);
    std::vector<std::pair<std::string, std::string>> files{{"classes.npy", npy_bytes(predicted)},
                                                           {"probabilities.npy", npy_bytes(probabilities)},
                                                           {"predictions.csv", csv(predicted, probabilities)}};
    if (hidden.defined()) files.emplace_back(fmt::format("hidden_layer_{}.npy", *a.hidden_layer), npy_bytes(hidden));
    nlohmann::json manifest = {
        {"format", "halo-predictions"},
        {"version", 1},
        {"dataset", name},
        {"model", a.model},
        {"nodes", nodes},
        {"classes", classes},
        {"hidden_layer", a.hidden_layer ? nlohmann::json(*a.hidden_layer) : nlohmann::json()},
        {"accuracy", {{"train", accuracy.train}, {"val", accuracy.val}, {"test", accuracy.test}}},
        {"files", nlohmann::json::array()}};
    for (const auto& [file, bytes] : files) manifest["files"].push_back(file);
    files.emplace_back(kManifest, manifest.dump(2) + "\n");
    for (const auto& [file, bytes] : files) out->check(file);
    for (const auto& [file, bytes] : files) {
      out->write(file, [&bytes = bytes](const std::string& path) { write_file_atomically(path, bytes); });
    }
    // What an earlier run wrote and this one did not (another hidden layer) would be stale.
    for (const std::string& file : earlier) {
      const bool kept = std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == file; });
      if (!kept && file.find('/') == std::string::npos) fs::remove(fs::path(a.output) / file);
    }
    out->done();
    emit(a.json, manifest,
         fmt::format("{}: {} nodes, {} classes -> {} ({}); accuracy train {:.2f}%, validation {:.2f}%, test {:.2f}%\n",
                     name, nodes, classes, a.output, fmt::join(manifest["files"].get<std::vector<std::string>>(), ", "),
                     100 * accuracy.train, 100 * accuracy.val, 100 * accuracy.test));
  });
}

}  // namespace halo::cli
