#include "gcn/checkpoint_model.h"

#include <fmt/format.h>
#include <torch/serialize.h>

#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "gcn/checkpoint.h"

namespace halo {
namespace {

namespace fs = std::filesystem;
using torch::serialize::InputArchive;

// Options of the built-in architecture whose parameters `archive` holds. Per layer: GCN has
// weight [in, out]; GraphSAGE weight_neighbors [in, out]; GAT weight [in, heads · f] and
// att_src [1, heads, f], heads concatenated in hidden layers and averaged in the last.
ModelOptions read_architecture(InputArchive& archive, const std::string& path) {
  InputArchive layers;
  if (!archive.try_read("layers", layers)) throw Error(fmt::format("{}: no 'layers': not a Halo model", path));
  ModelOptions o;
  int64_t count = 0;
  for (InputArchive layer; layers.try_read(std::to_string(count), layer); ++count) {
    at::Tensor weight, attention;
    int64_t out = 0, heads = 1;
    if (layer.try_read("weight_neighbors", weight)) {
      o.kind("sage");
      out = weight.size(1);
    } else if (layer.try_read("weight", weight)) {
      const bool gat = layer.try_read("att_src", attention);
      o.kind(gat ? "gat" : "gcn");
      heads = gat ? attention.size(1) : 1;
      out = gat ? attention.size(2) : weight.size(1);
    } else {
      throw Error(fmt::format("{}: layer {} is none of GCN, GraphSAGE, GAT", path, count));
    }
    if (count == 0) o.in_features(weight.size(0));
    o.out_features(out).output_heads(heads);
    // Every layer but the last is a hidden one; the last sets out_features.
    InputArchive next;
    if (layers.try_read(std::to_string(count + 1), next)) o.hidden(out).heads(heads);
  }
  if (count == 0) throw Error(fmt::format("{}: the model has no layers", path));
  InputArchive norms, first_norm;
  return o.layers(count).layer_norm(archive.try_read("norms", norms) && norms.try_read("0", first_norm));
}

}  // namespace

Model load_checkpoint_model(const std::string& dir, ModelOptions* architecture) {
  if (!fs::exists(fs::path(dir) / "state.json")) {
    throw Error(
        fmt::format("{}/state.json: cannot open; --model wants a checkpoint directory (halo train "
                    "--checkpoint DIR)",
                    dir));
  }
  const CheckpointState state = read_checkpoint_state(dir);
  const std::string bytes = read_checkpoint_file(dir, state, "model.pt");
  const std::string path = (fs::path(dir) / checkpoint_folder(state.epoch) / "model.pt").string();
  try {
    std::istringstream names(bytes), weights(bytes);
    InputArchive archive;
    archive.load_from(names);
    const ModelOptions options = read_architecture(archive, path);
    if (architecture) *architecture = options;
    Model model(options);
    torch::load(model, weights);
    return model;
  } catch (const c10::Error& e) {
    throw Error(fmt::format("{}: cannot read the model: {}", path, e.what_without_backtrace()));
  }
}

}  // namespace halo
