#pragma once
// Pictures of a training run from its metrics (JSON lines, one per epoch, as `halo train
// --metrics` writes them), drawn by gnuplot: loss, accuracy, the epoch-time breakdown per rank
// (compute / exchange waited / allreduce), bytes sent per epoch and, distributed, each layer's
// exposed and total communication; titles name the HaloSync strategy.
#include <string>
#include <vector>

namespace halo {

// Writes loss.png, accuracy.png, time_per_rank.png, bytes.png and (when the metrics have
// by_layer) comm_per_layer.png, with the data and gnuplot script they are drawn from, into
// out_dir; returns the PNG paths. Throws Error naming the file and line
// of bad metrics, or gnuplot's own message.
std::vector<std::string> plot_metrics(const std::string& metrics_path, const std::string& out_dir);

}  // namespace halo
