// The distributed Trainer against the single-process one (DESIGN rule 2): on K ranks (the
// ctest entries run this binary under mpirun with K = 1, 2, 4), per-epoch losses equal the
// one-process losses within 1e-5 relative and the accuracies are the same, with dropout on --
// with the full halo, through the BNS-GCN sampler at boundary rate 1, and overlapped (with and
// without the sampler); with layer 0's aggregation precomputed at set-up (GCN and SAGE) and
// without.
#include <gtest/gtest.h>

#include <optional>
#include <tuple>
#include <vector>

#include "distributed_support.h"
#include "edge_conv_layer.h"

namespace halo {
namespace {

using test::expect_same_run;
using test::partition_for_ranks;
using test::SharedDir;
using test::train_parts;
using test::train_whole;

// data, model, halo sync ("full", "sampled", "overlap", "sampled+overlap", or "streamed": full,
// with every evaluation taking the halo peer by peer), precompute
using EquivalenceCase = std::tuple<std::string, std::string, std::string, bool>;
class Equivalence : public testing::TestWithParam<EquivalenceCase> {};

// Every data set, model and halo sync, with layer 0 precomputed where the model can (not GAT:
// its weights enter its aggregation); the overlap changes layers >= 1 only, so it runs without,
// and GAT, which does not overlap (it waits for its rows), once.
std::vector<EquivalenceCase> equivalence_cases() {
  std::vector<EquivalenceCase> cases;
  for (const std::string spec : {"cora", "community:nodes=3000"})
    for (const std::string kind : {"gcn", "sage", "gat"})
      for (const std::string sync : {"full", "sampled", "overlap", "sampled+overlap", "streamed"})
        for (const bool precompute : {false, true}) {
          const bool overlapped = sync.find("overlap") != std::string::npos;
          if (precompute && (kind == "gat" || overlapped)) continue;
          if (sync == "streamed" && (kind == "gat" || precompute)) continue;
          if (kind == "gat" && overlapped && !(spec == "cora" && sync == "overlap")) continue;
          cases.emplace_back(spec, kind, sync, precompute);
        }
  return cases;
}

TEST_P(Equivalence, KRanksTrainLikeOneProcess) {
  const auto& [spec, kind, sync, precompute] = GetParam();
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  const std::optional<Dataset> d = partition_for_ranks(*comm, spec, dir.path());
  const ModelOptions mo = ModelOptions().kind(kind).hidden(kind == "gat" ? 8 : 16).dropout(0.5);
  const TrainerOptions to = TrainerOptions().epochs(20).eval_every(5).seed(7).precompute_input(precompute);
  TrainerOptions ranks = TrainerOptions(to).overlap(sync.find("overlap") != std::string::npos);
  if (sync.find("sampled") != std::string::npos) ranks.boundary_rate(1.0);
  if (sync == "streamed") ranks.stream_halo_bytes(0);  // evaluations take the halo peer by peer
  const TrainResult parts = train_parts(comm, dir.path(), mo, ranks);
  if (comm->rank() == 0) expect_same_run(parts, train_whole(*d, mo, to));
}

INSTANTIATE_TEST_SUITE_P(Models, Equivalence, testing::ValuesIn(equivalence_cases()), [](const auto& info) {
  std::string name = std::get<0>(info.param).substr(0, 9) + "_" + std::get<1>(info.param) + "_" +
                     std::get<2>(info.param) + (std::get<3>(info.param) ? "_precomputed" : "");
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
});

// A layer written with the general message path and halo::Dropout (edge_conv_layer.h) trains on
// K ranks as in one process, dropout on in the Model and in the layer.
TEST(MessagePath, KRanksTrainLikeOneProcess) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  const std::optional<Dataset> d = partition_for_ranks(*comm, "cora", dir.path());
  const test::ModelFactory edge_conv = [](int64_t in, int64_t classes) {
    using test::EdgeConv;
    using test::EdgeConvOptions;
    return Model({EdgeConv(EdgeConvOptions(in, 16)), EdgeConv(EdgeConvOptions(16, classes).dropout(0.3))});
  };
  const TrainerOptions to = TrainerOptions().epochs(10).eval_every(5).seed(7);
  const TrainResult parts = train_parts(comm, dir.path(), edge_conv, to);
  if (comm->rank() == 0) expect_same_run(parts, train_whole(*d, edge_conv, to));
}

// Kipf & Welling's Cora setup, 200 epochs: the ranks' result is the one process's, and it is a
// real result (about 81% test accuracy).
TEST(CoraAccuracy, RanksReachTheOneProcessResult) {
  const std::shared_ptr<Communicator> comm = mpi_world();
  SharedDir dir(*comm);
  const std::optional<Dataset> d = partition_for_ranks(*comm, "cora", dir.path(), true);
  const ModelOptions mo = ModelOptions().kind("gcn").hidden(16).dropout(0.5);
  const TrainerOptions to = TrainerOptions().epochs(200).decay_first_layer_only(true).seed(3);
  const TrainResult parts = train_parts(comm, dir.path(), mo, to, true);
  if (comm->rank() == 0) {
    const TrainResult whole = train_whole(*d, mo, to);
    expect_same_run(parts, whole);
    EXPECT_EQ(parts.at_best.test, whole.at_best.test);
    EXPECT_GT(parts.at_best.test, 0.79);
  }
}

}  // namespace
}  // namespace halo
