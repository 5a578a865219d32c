#include "gcn/trainer.h"

#include <ATen/Functions.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "core/atomic_file.h"
#include "core/counter_rng.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/resources.h"

namespace halo {
namespace fs = std::filesystem;
namespace {

constexpr int kCheckpointVersion = 1;

at::Tensor index_of(const at::Tensor& mask) { return mask.nonzero().flatten(); }

double accuracy(const at::Tensor& predicted, const at::Tensor& labels, const at::Tensor& index) {
  if (index.numel() == 0) return 0.0;
  return predicted.index_select(0, index).eq(labels.index_select(0, index)).sum().item<double>() /
         static_cast<double>(index.numel());
}

nlohmann::json accuracy_json(const Accuracy& a) { return {{"train", a.train}, {"val", a.val}, {"test", a.test}}; }

// One group with weight decay, and (when only the first layer is decayed) one without.
std::vector<torch::optim::OptimizerParamGroup> parameter_groups(const ModelImpl& model, const TrainerOptions& o) {
  auto adam = [&](double decay) {
    return std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(o.lr()).weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!o.decay_first_layer_only()) {
    groups.emplace_back(model.parameters(), adam(o.weight_decay()));
    return groups;
  }
  const std::vector<at::Tensor> first = model.layer(0)->parameters();
  std::vector<at::Tensor> rest;
  for (const at::Tensor& p : model.parameters()) {
    if (std::none_of(first.begin(), first.end(), [&](const at::Tensor& f) { return f.is_same(p); })) rest.push_back(p);
  }
  groups.emplace_back(first, adam(o.weight_decay()));
  if (!rest.empty()) groups.emplace_back(rest, adam(0.0));
  return groups;
}

}  // namespace

nlohmann::json EpochMetrics::to_json() const {
  nlohmann::json j = {{"epoch", epoch},
                      {"loss", loss},
                      {"epoch_seconds", epoch_seconds},
                      {"forward_seconds", forward_seconds},
                      {"backward_seconds", backward_seconds},
                      {"optimizer_seconds", optimizer_seconds},
                      {"peak_rss_bytes", peak_rss_bytes}};
  if (evaluated) {
    j["train_acc"] = accuracy.train;
    j["val_acc"] = accuracy.val;
    j["test_acc"] = accuracy.test;
    j["eval_seconds"] = eval_seconds;
  }
  return j;
}

nlohmann::json TrainResult::to_json() const {
  return {{"epochs", static_cast<int64_t>(epochs.size())},
          {"best_epoch", best_epoch},
          {"best_val_acc", at_best.val},
          {"test_acc_at_best_val", at_best.test},
          {"train_acc_at_best_val", at_best.train},
          {"final_loss", epochs.empty() ? 0.0 : epochs.back().loss}};
}

Trainer::Trainer(const Dataset& data, Model model, const TrainerOptions& options)
    : options_(options),
      block_(Block::whole_graph(data.graph)),
      features_(data.features.contiguous()),
      labels_(data.labels),
      train_index_(index_of(data.train_mask)),
      val_index_(index_of(data.val_mask)),
      test_index_(index_of(data.test_mask)),
      model_(std::move(model)),
      metrics_(options.metrics_path()) {
  if (options.epochs() < 0 || options.eval_every() < 1 || options.lr() <= 0 || options.weight_decay() < 0) {
    throw UsageError(
        fmt::format("trainer: epochs ({}) must be >= 0, eval_every ({}) >= 1, lr ({}) > 0, "
                    "weight_decay ({}) >= 0",
                    options.epochs(), options.eval_every(), options.lr(), options.weight_decay()));
  }
  if (train_index_.numel() == 0) throw Error(fmt::format("{}: no training nodes", data.name));
  optimizer_ =
      std::make_unique<torch::optim::Adam>(parameter_groups(*model_, options), torch::optim::AdamOptions(options.lr()));
}

// Rule 7 of DESIGN: the sum of the per-node losses over the global number of training nodes
// (in one process simply the mean).
at::Tensor Trainer::loss(const at::Tensor& logits) const {
  const at::Tensor sum = at::cross_entropy_loss(logits.index_select(0, train_index_),
                                                labels_.index_select(0, train_index_), {}, at::Reduction::Sum);
  return sum / static_cast<double>(train_index_.numel());
}

Accuracy Trainer::evaluate() {
  torch::NoGradGuard no_grad;
  model_->eval();
  const at::Tensor predicted = model_->forward(block_, features_, 0).argmax(1);
  model_->train();
  return {accuracy(predicted, labels_, train_index_), accuracy(predicted, labels_, val_index_),
          accuracy(predicted, labels_, test_index_)};
}

EpochMetrics Trainer::step() {
  EpochMetrics m;
  m.epoch = epoch_;
  Stopwatch epoch_clock;
  model_->train();
  Stopwatch clock;
  const at::Tensor loss = this->loss(model_->forward(block_, features_, stream_key(options_.seed(), epoch_)));
  m.forward_seconds = clock.seconds();
  clock = Stopwatch();
  optimizer_->zero_grad();
  loss.backward();
  m.backward_seconds = clock.seconds();
  clock = Stopwatch();
  optimizer_->step();
  m.optimizer_seconds = clock.seconds();
  m.loss = loss.item<double>();
  if ((epoch_ + 1) % options_.eval_every() == 0 || epoch_ + 1 == options_.epochs()) {
    clock = Stopwatch();
    m.accuracy = evaluate();
    m.evaluated = true;
    m.eval_seconds = clock.seconds();
    if (m.accuracy.val > result_.at_best.val || result_.best_epoch < 0) {
      result_.best_epoch = epoch_;
      result_.at_best = m.accuracy;
    }
  }
  m.epoch_seconds = epoch_clock.seconds();
  m.peak_rss_bytes = peak_rss_bytes();
  ++epoch_;
  return m;
}

TrainResult Trainer::train() {
  result_.epochs.clear();
  std::optional<Progress> progress;
  if (options_.progress()) progress.emplace("train", options_.epochs() - epoch_);
  while (epoch_ < options_.epochs()) {
    const EpochMetrics m = step();
    metrics_.write(m.to_json());
    result_.epochs.push_back(m);
    if (progress) {
      progress->note(m.evaluated ? fmt::format("loss {:.4f} val {:.3f}", m.loss, m.accuracy.val)
                                 : fmt::format("loss {:.4f}", m.loss));
      progress->advance();
    }
    const bool due = options_.checkpoint_every() > 0 && epoch_ % options_.checkpoint_every() == 0;
    if (!options_.checkpoint_dir().empty() && (due || epoch_ == options_.epochs())) {
      save_checkpoint(options_.checkpoint_dir());
    }
  }
  if (progress) progress->finish();
  return result_;
}

void Trainer::save_checkpoint(const std::string& dir) const {
  // Each checkpoint lives in its own folder; state.json, renamed into place last, names the
  // complete one, so a crash mid-write leaves the previous checkpoint intact.
  const std::string name = fmt::format("epoch-{:06d}", epoch_);
  const fs::path folder = fs::path(dir) / name;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw Error(fmt::format("cannot create checkpoint folder {}: {}", folder.string(), ec.message()));
  torch::save(model_, (folder / "model.pt").string());
  torch::save(*optimizer_, (folder / "optimizer.pt").string());
  const nlohmann::json state = {{"format", "halo-checkpoint"},
                                {"version", kCheckpointVersion},
                                {"folder", name},
                                {"epoch", epoch_},
                                {"seed", options_.seed()},
                                {"best_epoch", result_.best_epoch},
                                {"at_best", accuracy_json(result_.at_best)}};
  write_file_atomically((fs::path(dir) / "state.json").string(), state.dump(2) + "\n");
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string other = entry.path().filename().string();
    if (entry.is_directory() && other.rfind("epoch-", 0) == 0 && other != name) fs::remove_all(entry.path(), ec);
  }
}

void Trainer::load_checkpoint(const std::string& dir) {
  const fs::path path = fs::path(dir) / "state.json";
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open; no complete checkpoint in {}", path.string(), dir));
  try {
    const nlohmann::json state = nlohmann::json::parse(in);
    if (state.at("format") != "halo-checkpoint" || state.at("version") != kCheckpointVersion) {
      throw Error(fmt::format("{}: not a Halo checkpoint of version {}", path.string(), kCheckpointVersion));
    }
    if (state.at("seed").get<uint64_t>() != options_.seed()) {
      throw Error(fmt::format("{}: written with seed {}, this run uses seed {}", path.string(),
                              state.at("seed").get<uint64_t>(), options_.seed()));
    }
    const fs::path folder = fs::path(dir) / state.at("folder").get<std::string>();
    // torch::load() silently re-shapes parameters, so a different architecture is caught here.
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
    for (const auto& p : model_->named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
    torch::load(model_, (folder / "model.pt").string());
    for (const auto& [name, shape] : shapes) {
      const auto loaded = model_->named_parameters()[name].sizes().vec();
      if (loaded != shape) {
        throw Error(fmt::format("{}: checkpoint does not fit this model: '{}' is [{}] there, [{}] here", dir, name,
                                fmt::join(loaded, ", "), fmt::join(shape, ", ")));
      }
    }
    torch::load(*optimizer_, (folder / "optimizer.pt").string());
    epoch_ = state.at("epoch").get<int64_t>();
    result_.best_epoch = state.at("best_epoch").get<int64_t>();
    const auto& best = state.at("at_best");
    result_.at_best = {best.at("train").get<double>(), best.at("val").get<double>(), best.at("test").get<double>()};
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: {}", path.string(), e.what()));
  } catch (const c10::Error& e) {
    throw Error(fmt::format("{}: checkpoint does not fit this model: {}", dir, e.what_without_backtrace()));
  }
}

// torch::pickle_save() tags the dictionary with its C++ types, which Python's torch.load()
// refuses by default since PyTorch 2.6 (weights_only=True); an untagged pickle in the same
// zip container loads in both.
void export_weights(const Model& model, const std::string& path) {
  c10::Dict<std::string, at::Tensor> weights;
  for (const auto& p : model->named_parameters()) weights.insert(p.key(), p.value().detach().clone());
  for (const auto& b : model->named_buffers()) weights.insert(b.key(), b.value().detach().clone());
  std::string pickle;
  torch::jit::Pickler pickler([&](const char* data, size_t size) { pickle.append(data, size); }, nullptr, nullptr,
                              nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(weights));
  pickler.stop();
  std::string archive;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
      archive.append(static_cast<const char*>(data), size);
      return size;
    });
    torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
  }
  write_file_atomically(path, archive);
}

}  // namespace halo
