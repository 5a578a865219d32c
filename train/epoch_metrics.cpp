#include "train/epoch_metrics.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace halo {

nlohmann::json EpochMetrics::to_json() const {
  nlohmann::json j = {{"epoch", epoch},
                      {"loss", loss},
                      {"ranks", ranks},
                      {"halo_sync", halo_sync},
                      {"forward_seconds", forward_seconds},
                      {"backward_seconds", backward_seconds},
                      {"optimizer_seconds", optimizer_seconds},
                      {"sample_seconds", sample_seconds}};
  // Over ranks: the max is what the job waits for, the mean shows the imbalance.
  auto spread = [&](const std::string& name, const RankSpread& s) {
    j[name] = s.max;
    j[name + "_mean"] = s.mean;
  };
  spread("epoch_seconds", epoch_spread);
  spread("compute_seconds", compute_spread);
  spread("exchange_seconds", exchange_spread);
  spread("allreduce_seconds", allreduce_spread);
  spread("bytes_sent", bytes_spread);
  spread("peak_rss_bytes", rss_spread);
  spread("halo_rows", halo_spread);
  spread("exposed_comm_seconds", exposed_spread);
  spread("total_comm_seconds", total_comm_spread);
  j["by_rank"] = {{"compute_seconds", compute_by_rank},
                  {"exposed_comm_seconds", exposed_by_rank},
                  {"allreduce_seconds", allreduce_by_rank}};
  if (!layer_exposed_seconds.empty()) {
    j["by_layer"] = {{"exposed_comm_seconds", layer_exposed_seconds}, {"total_comm_seconds", layer_total_seconds}};
  }
  if (evaluated) {
    j["train_acc"] = accuracy.train;
    j["val_acc"] = accuracy.val;
    j["test_acc"] = accuracy.test;
    j["eval_seconds"] = eval_seconds;
  }
  return j;
}

void EpochMetrics::add_exchanges(const ExchangeCounters& c, const std::map<int, ExchangeCounters>& by_layer,
                                 int64_t layers) {
  exchange_seconds += c.seconds;
  bytes_sent += c.bytes_sent;
  messages_sent += c.messages_sent;
  exposed_comm_seconds += c.wait_seconds;
  total_comm_seconds += c.flight_seconds;
  if (by_layer.empty()) return;
  layer_exposed_seconds.assign(static_cast<size_t>(std::max<int64_t>(layers - 1, 0)), 0.0);
  layer_total_seconds = layer_exposed_seconds;
  for (const auto& [layer, counters] : by_layer) {
    if (layer < 1 || layer >= layers) continue;
    layer_exposed_seconds[layer - 1] += counters.wait_seconds;
    layer_total_seconds[layer - 1] += counters.flight_seconds;
  }
}

std::string EpochMetrics::progress_note() const {
  const std::string comm = ranks > 1 ? fmt::format(" comm {:.0f}%", 100 * (exchange_spread.max + allreduce_spread.max) /
                                                                        std::max(epoch_spread.max, 1e-9))
                                     : "";
  return evaluated ? fmt::format("loss {:.4f} val {:.3f}{}", loss, accuracy.val, comm)
                   : fmt::format("loss {:.4f}{}", loss, comm);
}

void TrainResult::note_evaluation(const EpochMetrics& m) {
  if (!m.evaluated || (m.accuracy.val <= at_best.val && best_epoch >= 0)) return;
  best_epoch = m.epoch;
  at_best = m.accuracy;
}

nlohmann::json TrainResult::to_json() const {
  return {{"epochs", static_cast<int64_t>(epochs.size())},
          {"best_epoch", best_epoch},
          {"best_val_acc", at_best.val},
          {"test_acc_at_best_val", at_best.test},
          {"train_acc_at_best_val", at_best.train},
          {"final_loss", epochs.empty() ? 0.0 : epochs.back().loss}};
}

void spread_over_ranks(EpochMetrics& m, Communicator* comm) {
  std::vector<double> mine = {m.epoch_seconds,
                              m.compute_seconds,
                              m.exchange_seconds,
                              m.allreduce_seconds,
                              static_cast<double>(m.bytes_sent),
                              static_cast<double>(m.peak_rss_bytes),
                              static_cast<double>(m.halo_rows),
                              m.exposed_comm_seconds,
                              m.total_comm_seconds};
  // The per-layer seconds ride along (every rank has as many: the same model).
  const size_t fixed = mine.size(), layers = m.layer_exposed_seconds.size();
  mine.insert(mine.end(), m.layer_exposed_seconds.begin(), m.layer_exposed_seconds.end());
  mine.insert(mine.end(), m.layer_total_seconds.begin(), m.layer_total_seconds.end());
  const int ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  const int64_t n = static_cast<int64_t>(mine.size());
  // The sum also carries the per-rank breakdown: each rank fills its own slots, the others are 0.
  at::Tensor max = at::tensor(mine, at::kDouble), sum = at::zeros({n + 3 * ranks}, at::kDouble);
  sum.narrow(0, 0, n).copy_(max);
  for (const auto& [i, value] :
       {std::pair{0, m.compute_seconds}, {1, m.exposed_comm_seconds}, {2, m.allreduce_seconds}})
    sum[n + i * ranks + rank] = value;
  max = over_ranks(comm, max, ReduceOp::max, fmt::format("epoch {}, metrics", m.epoch));
  sum = over_ranks(comm, sum, ReduceOp::sum, fmt::format("epoch {}, metrics", m.epoch));
  m.ranks = ranks;
  const auto by_rank = [&](int i) {
    const at::Tensor part = sum.narrow(0, n + i * ranks, ranks).contiguous();
    return std::vector<double>(part.data_ptr<double>(), part.data_ptr<double>() + ranks);
  };
  m.compute_by_rank = by_rank(0);
  m.exposed_by_rank = by_rank(1);
  m.allreduce_by_rank = by_rank(2);
  RankSpread* spreads[] = {&m.epoch_spread, &m.compute_spread, &m.exchange_spread, &m.allreduce_spread, &m.bytes_spread,
                           &m.rss_spread,   &m.halo_spread,    &m.exposed_spread,  &m.total_comm_spread};
  for (size_t i = 0; i < std::size(spreads); ++i)
    *spreads[i] = {max[i].item<double>(), sum[i].item<double>() / m.ranks};
  for (size_t l = 0; l < layers; ++l) {
    m.layer_exposed_seconds[l] = max[static_cast<int64_t>(fixed + l)].item<double>();
    m.layer_total_seconds[l] = max[static_cast<int64_t>(fixed + layers + l)].item<double>();
  }
}

}  // namespace halo
