#include "launch/metrics_plot.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace halo {
namespace {

namespace fs = std::filesystem;

struct Epoch {
  nlohmann::json json;
  int line = 0;
};

std::vector<Epoch> read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open the metrics file", path));
  std::vector<Epoch> epochs;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error(fmt::format("{}:{}: not a JSON object", path, line));
    for (const char* key : {"epoch", "loss", "epoch_seconds", "bytes_sent"}) {
      // A null loss is a diverged epoch of older runs (JSON has no NaN): drawn as a gap.
      if (!j.contains(key) || !(j[key].is_number() || (j[key].is_null() && std::string(key) == "loss"))) {
        throw Error(fmt::format("{}:{}: expected a number \"{}\" (a line of halo train --metrics)", path, line, key));
      }
    }
    epochs.push_back({std::move(j), line});
  }
  if (epochs.empty()) throw Error(fmt::format("{}: no epochs", path));
  return epochs;
}

// epochs.dat: epoch loss bytes_max bytes_mean; accuracy.dat: epoch train val test, for the
// evaluated epochs. Returns whether any epoch was evaluated.
bool write_epochs(const std::vector<Epoch>& epochs, const fs::path& dir) {
  bool evaluated = false;
  std::string out = "# epoch loss bytes_sent bytes_sent_mean\n", accuracy = "# epoch train_acc val_acc test_acc\n";
  for (const Epoch& e : epochs) {
    const nlohmann::json& j = e.json;
    const double bytes = j["bytes_sent"].get<double>();
    // gnuplot breaks a line at NaN.
    const std::string loss = j["loss"].is_null() ? "NaN" : fmt::format("{}", j["loss"].get<double>());
    out += fmt::format("{} {} {} {}\n", j["epoch"].get<int64_t>(), loss, bytes, j.value("bytes_sent_mean", bytes));
    if (j.contains("val_acc")) {
      evaluated = true;
      accuracy += fmt::format("{} {} {} {}\n", j["epoch"].get<int64_t>(), j.value("train_acc", 0.0),
                              j.value("val_acc", 0.0), j.value("test_acc", 0.0));
    }
  }
  write_file_atomically((dir / "epochs.dat").string(), out);
  write_file_atomically((dir / "accuracy.dat").string(), accuracy);
  return evaluated;
}

// rank compute waited allreduce: means over the epochs; older metrics without by_rank give one
// row from the maxima over ranks.
void write_ranks(const std::vector<Epoch>& epochs, const std::string& path, const fs::path& file) {
  constexpr std::array<const char*, 3> keys = {"compute_seconds", "exposed_comm_seconds", "allreduce_seconds"};
  std::vector<std::array<double, 3>> sums;
  for (const Epoch& e : epochs) {
    for (size_t k = 0; k < keys.size(); ++k) {
      std::vector<double> values;
      if (e.json.contains("by_rank")) {
        const nlohmann::json& v = e.json["by_rank"].value(keys[k], nlohmann::json());
        if (!v.is_array()) throw Error(fmt::format("{}:{}: by_rank.{} is not a list", path, e.line, keys[k]));
        for (const nlohmann::json& x : v) values.push_back(x.get<double>());
      } else {
        values.push_back(e.json.value(keys[k], 0.0));
      }
      if (sums.empty()) sums.resize(values.size(), {0, 0, 0});
      if (values.size() != sums.size()) {
        throw Error(
            fmt::format("{}:{}: {} ranks, but earlier lines have {}", path, e.line, values.size(), sums.size()));
      }
      for (size_t r = 0; r < values.size(); ++r) sums[r][k] += values[r];
    }
  }
  std::string out = "# rank compute_seconds exposed_comm_seconds allreduce_seconds (means over epochs)\n";
  const double n = static_cast<double>(epochs.size());
  for (size_t r = 0; r < sums.size(); ++r) {
    out += fmt::format("{} {} {} {}\n", r, sums[r][0] / n, sums[r][1] / n, sums[r][2] / n);
  }
  write_file_atomically(file.string(), out);
}

// The strategy the run's halo rows came from (its first line's halo_sync; empty for older
// metrics), checked before it goes into the gnuplot script.
std::string strategy(const std::vector<Epoch>& epochs, const std::string& path) {
  const nlohmann::json& j = epochs.front().json;
  if (!j.contains("halo_sync")) return "";
  const std::string name = j["halo_sync"].is_string() ? j["halo_sync"].get<std::string>() : "";
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789+") != std::string::npos) {
    throw Error(fmt::format("{}:{}: expected \"halo_sync\" to name a strategy (local, full, sampled, stale, ...)", path,
                            epochs.front().line));
  }
  return name;
}

// layer exposed total: means over the epochs of by_layer (max over ranks); false when no line
// has it (one process, or older metrics).
bool write_layers(const std::vector<Epoch>& epochs, const std::string& path, const fs::path& file) {
  std::vector<std::array<double, 2>> sums;
  int64_t counted = 0;
  for (const Epoch& e : epochs) {
    if (!e.json.contains("by_layer")) continue;
    const nlohmann::json& by = e.json["by_layer"];
    std::array<std::vector<double>, 2> values;
    for (size_t k = 0; k < 2; ++k) {
      const char* key = k == 0 ? "exposed_comm_seconds" : "total_comm_seconds";
      const nlohmann::json& v = by.is_object() ? by.value(key, nlohmann::json()) : nlohmann::json();
      if (!v.is_array()) throw Error(fmt::format("{}:{}: by_layer.{} is not a list", path, e.line, key));
      for (const nlohmann::json& x : v) {
        if (!x.is_number()) throw Error(fmt::format("{}:{}: by_layer.{} holds a non-number", path, e.line, key));
        values[k].push_back(x.get<double>());
      }
    }
    if (counted == 0) sums.resize(values[0].size(), {0, 0});
    if (values[0].size() != sums.size() || values[1].size() != sums.size()) {
      throw Error(fmt::format("{}:{}: by_layer lists {} and {} layers, earlier lines {}", path, e.line,
                              values[0].size(), values[1].size(), sums.size()));
    }
    for (size_t l = 0; l < sums.size(); ++l) sums[l] = {sums[l][0] + values[0][l], sums[l][1] + values[1][l]};
    ++counted;
  }
  if (counted == 0 || sums.empty()) return false;
  std::string out = "# layer exposed_comm_seconds total_comm_seconds (means over epochs, max over ranks)\n";
  for (size_t l = 0; l < sums.size(); ++l) {
    out += fmt::format("{} {} {}\n", l + 1, sums[l][0] / counted, sums[l][1] / counted);
  }
  write_file_atomically(file.string(), out);
  return true;
}

constexpr const char* kScript = R"gp(set terminal pngcairo size 900,540 font ",11"
set grid
set key outside right top
set xlabel "epoch"
set output "loss.png"
set title "Training loss"
plot "epochs.dat" using 1:2 with linespoints lw 2 title "loss"
set output "bytes.png"
set title "Halo exchange bytes sent per epoch"
set ylabel "MB"
plot "epochs.dat" using 1:($3/1e6) with linespoints lw 2 title "max over ranks", \
     "" using 1:($4/1e6) with linespoints title "mean over ranks"
set output "time_per_rank.png"
set title "Epoch time per rank (mean over epochs)".strategy
set xlabel "rank"
set ylabel "seconds"
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
plot "ranks.dat" using 2:xtic(1) title "compute", "" using 3 title "exchange (waited)", \
     "" using 4 title "allreduce"
)gp";

// Only with an evaluated epoch: gnuplot refuses to plot no points.
constexpr const char* kAccuracyScript = R"gp(set output "accuracy.png"
set title "Accuracy (evaluated epochs)"
set xlabel "epoch"
set ylabel ""
set style data linespoints
set yrange [0:1]
plot "accuracy.dat" using 1:2 title "train", "" using 1:3 title "validation", "" using 1:4 title "test"
)gp";

constexpr const char* kLayerScript = R"gp(set output "comm_per_layer.png"
set title "Halo exchange per layer (mean over epochs, max over ranks)".strategy
set xlabel "layer"
set style data histograms
set style histogram clustered
set yrange [0:*]
plot "layers.dat" using 2:xtic(1) title "waited (exposed)", "" using 3 title "in flight (total)"
)gp";

}  // namespace

std::vector<std::string> plot_metrics(const std::string& metrics_path, const std::string& out_dir) {
  const std::vector<Epoch> epochs = read_metrics(metrics_path);
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the output folder: {}", out_dir, ec.message()));
  const bool evaluated = write_epochs(epochs, dir);
  write_ranks(epochs, metrics_path, dir / "ranks.dat");
  const std::string name = strategy(epochs, metrics_path);
  const bool layers = write_layers(epochs, metrics_path, dir / "layers.dat");
  write_file_atomically((dir / "plot.gp").string(),
                        fmt::format("strategy = \"{}\"\n{}{}{}", name.empty() ? "" : "; halo: " + name, kScript,
                                    layers ? kLayerScript : "", evaluated ? kAccuracyScript : ""));
  const std::string command = fmt::format("cd '{}' && gnuplot plot.gp 2>&1", dir.string());
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw Error("halo plot: cannot start gnuplot");
  std::string output;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) output += buffer.data();
  const int status = pclose(pipe);
  if (status != 0) {
    throw Error(output.find("not found") != std::string::npos
                    ? "halo plot needs gnuplot (Debian: apt-get install gnuplot-nox)"
                    : fmt::format("gnuplot failed on {}/plot.gp: {}", out_dir, output));
  }
  std::vector<std::string> written;
  for (const char* png : {"loss.png", "time_per_rank.png", "bytes.png"}) written.push_back((dir / png).string());
  if (layers) written.push_back((dir / "comm_per_layer.png").string());
  if (evaluated) written.push_back((dir / "accuracy.png").string());
  return written;
}

}  // namespace halo
