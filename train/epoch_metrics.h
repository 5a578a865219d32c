#pragma once
// What a training epoch and a run report: the epoch's times, communication and accuracies, each
// spread over the ranks (max: what the job waits for; mean: the imbalance), as the JSON line the
// metrics log holds; and the run's best-validation result (DESIGN rule 6).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/halo_exchange.h"

namespace halo {

struct Accuracy {
  double train = 0, val = 0, test = 0;
};

// Spread of one quantity over the ranks (in one process: max = mean = the value).
struct RankSpread {
  double max = 0, mean = 0;
};

struct EpochMetrics {
  int64_t epoch = 0;
  double loss = 0;
  bool evaluated = false;
  Accuracy accuracy;
  std::string halo_sync;  // the strategy (train/halo_sync.h)
  // This rank's times; epoch_seconds is the training step, without the evaluation (eval_seconds).
  // exchange: inside halo exchanges during forward and backward; allreduce:
  // the gradient allreduce; compute: forward + backward + optimizer minus exchange.
  double epoch_seconds = 0, forward_seconds = 0, backward_seconds = 0, optimizer_seconds = 0, eval_seconds = 0;
  double exchange_seconds = 0, allreduce_seconds = 0, compute_seconds = 0;
  double sample_seconds = 0;  // getting the epoch's halo: BNS draws its sample and Block (part of forward)
  // Communication of the training exchanges: seconds waited for messages (exposed) and seconds
  // the messages were in flight (total); the pipeline hides the difference behind computation.
  double exposed_comm_seconds = 0, total_comm_seconds = 0;
  int64_t bytes_sent = 0, messages_sent = 0, peak_rss_bytes = 0;
  int64_t halo_rows = 0;  // halo nodes the epoch computed with (sampled ones under BNS)
  // Over all ranks.
  int ranks = 1;
  RankSpread epoch_spread, compute_spread, exchange_spread, allreduce_spread, bytes_spread, rss_spread, halo_spread,
      exposed_spread, total_comm_spread;
  // Each rank's compute, exposed communication and allreduce seconds (the epoch-time breakdown).
  std::vector<double> compute_by_rank, exposed_by_rank, allreduce_by_rank;
  // Layer l >= 1 at l - 1 (layer 0 never exchanges): the seconds waited for its halo rows and
  // gradients (exposed) and its messages' seconds in flight (total), max over ranks. Empty in
  // one process.
  std::vector<double> layer_exposed_seconds, layer_total_seconds;

  // The epoch's exchange time, bytes, messages and communication seconds; by_layer: the same by
  // layer of a model of `layers` layers (none: one process).
  void add_exchanges(const ExchangeCounters& c, const std::map<int, ExchangeCounters>& by_layer, int64_t layers);
  nlohmann::json to_json() const;
  // The progress line's note: loss, validation accuracy when evaluated, share of communication.
  std::string progress_note() const;
};

// Fills the spreads and per-rank breakdowns of `m` (this rank's values) over comm's ranks (null:
// one process). Collective.
void spread_over_ranks(EpochMetrics& m, Communicator* comm);

struct TrainResult {
  std::vector<EpochMetrics> epochs;
  int64_t best_epoch = -1;  // epoch with the best validation accuracy (first one on ties)
  Accuracy at_best;         // accuracies at that epoch
  // Keeps m's accuracies if it was evaluated and beats the best validation so far.
  void note_evaluation(const EpochMetrics& m);
  nlohmann::json to_json() const;
};

}  // namespace halo
