// Communicator, HaloPlan and HaloExchange on however many ranks mpirun starts (1 to 4).
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "comm/communicator.h"
#include "comm/halo_exchange.h"
#include "comm/halo_plan.h"
#include "core/error.h"
#include "datasets/presets.h"
#include "partition/partition_dir.h"
#include "test_support.h"

namespace halo {
namespace {

using test::expect_error;

// Sets the world's deadline for one test and restores it after.
class ScopedDeadline {
 public:
  explicit ScopedDeadline(std::chrono::milliseconds d) : saved_(mpi_world()->deadline()) {
    mpi_world()->set_deadline(d);
  }
  ~ScopedDeadline() { mpi_world()->set_deadline(saved_); }

 private:
  std::chrono::milliseconds saved_;
};

// A random star forest all ranks build alike from `seed`. Rank o owns sizes[o] rows (some none),
// with global ids start[o] + i; every ordered pair (o, r) shares a random subset of o's rows in
// random order, a quarter of the pairs none. This rank's halo holds its received rows at shuffled
// positions (or in order), plus `extra` positions no peer fills, as in a sampled plan.
struct Pattern {
  HaloPlan plan;
  std::vector<int64_t> halo_gid;  // global id at each halo position, -1 where no peer sends
  std::vector<int64_t> copies;    // per inner row: how many peers hold it
  int64_t global_begin = 0;
};

Pattern random_pattern(uint64_t seed, bool shuffled, int64_t extra) {
  const int me = mpi_world()->rank(), k = mpi_world()->size();
  std::mt19937_64 rng(seed);
  std::vector<int64_t> start(k + 1, 0);
  for (int o = 0; o < k; ++o) start[o + 1] = start[o] + (rng() % 5 == 0 ? 0 : 1 + rng() % 30);
  std::vector<std::vector<std::vector<int32_t>>> shared(k, std::vector<std::vector<int32_t>>(k));
  for (int o = 0; o < k; ++o) {
    for (int r = 0; r < k; ++r) {
      if (r == o || rng() % 4 == 0) continue;
      for (int32_t i = 0; i < start[o + 1] - start[o]; ++i) {
        if (rng() % 2) shared[o][r].push_back(i);
      }
      std::shuffle(shared[o][r].begin(), shared[o][r].end(), rng);
    }
  }
  Pattern p;
  HaloPlan& plan = p.plan;
  plan.rank = me;
  plan.num_ranks = k;
  plan.num_inner = start[me + 1] - start[me];
  p.global_begin = start[me];
  p.copies.assign(plan.num_inner, 0);
  plan.send_offsets = {0};
  plan.recv_offsets = {0};
  int64_t received = 0;
  for (int j = 0; j < k; ++j) {
    for (int32_t row : shared[me][j]) {
      plan.send_rows.push_back(row);
      ++p.copies[row];
    }
    plan.send_offsets.push_back(static_cast<int64_t>(plan.send_rows.size()));
    received += static_cast<int64_t>(shared[j][me].size());
  }
  plan.num_halo = received + extra;
  std::vector<int32_t> positions(plan.num_halo);
  for (int32_t i = 0; i < plan.num_halo; ++i) positions[i] = i;
  std::mt19937_64 local(seed * 31 + me);
  if (shuffled) std::shuffle(positions.begin(), positions.end(), local);
  p.halo_gid.assign(plan.num_halo, -1);
  for (int j = 0; j < k; ++j) {
    for (int32_t row : shared[j][me]) {
      const int32_t pos = positions[plan.recv_rows.size()];
      plan.recv_rows.push_back(pos);
      p.halo_gid[pos] = start[j] + row;
    }
    plan.recv_offsets.push_back(static_cast<int64_t>(plan.recv_rows.size()));
  }
  plan.check("random_pattern");
  return p;
}

struct Variant {
  bool shuffled;
  int64_t extra;
};
const Variant kVariants[] = {{false, 0}, {true, 0}, {true, 5}};
const uint64_t kSeeds[] = {1, 2, 3};

double global_sum(const at::Tensor& local) {
  at::Tensor t = local.to(at::kDouble).sum().reshape({1});
  mpi_world()->allreduce(t, ReduceOp::sum, "test sum");
  return t.item<double>();
}

// The MPI backend, and the same staged through separate host buffers (how ranks on GPUs without
// NCCL talk): every result must land in the caller's tensors alike.
std::vector<std::shared_ptr<Communicator>> backends() { return {mpi_world(), staged(mpi_world(), at::kCPU)}; }

TEST(CommCollectives, AllreduceSumMaxMin) {
  for (const auto& world : backends())
    for (at::ScalarType type : {at::kFloat, at::kDouble, at::kLong, at::kInt}) {
      SCOPED_TRACE(world->backend() + " " + c10::toString(type));
      const int r = world->rank(), k = world->size();
      const auto make = [&] { return at::tensor({r + 1.0, -(r + 1.0), 3.0}, at::kDouble).to(type); };
      at::Tensor sum = make(), max = make(), min = make();
      world->allreduce(sum, ReduceOp::sum, "sum");
      world->allreduce(max, ReduceOp::max, "max");
      world->allreduce(min, ReduceOp::min, "min");
      const double total = k * (k + 1) / 2.0;
      EXPECT_TRUE(sum.to(at::kDouble).equal(at::tensor({total, -total, 3.0 * k}, at::kDouble)));
      EXPECT_TRUE(max.to(at::kDouble).equal(at::tensor({1.0 * k, -1.0, 3.0}, at::kDouble)));
      EXPECT_TRUE(min.to(at::kDouble).equal(at::tensor({1.0, -1.0 * k, 3.0}, at::kDouble)));
    }
}

TEST(CommCollectives, BroadcastAndBarrier) {
  const auto world = mpi_world();
  EXPECT_EQ(world->backend(), "mpi");
  EXPECT_TRUE(world->device().is_cpu());
  EXPECT_GE(world->local_rank(), 0);
  EXPECT_LT(world->local_rank(), world->local_size());
  const int root = world->size() - 1;
  at::Tensor t = at::arange(12, at::kLong).reshape({3, 4}) + 100 * world->rank();
  world->broadcast(t, root, "broadcast");
  EXPECT_TRUE(t.equal(at::arange(12, at::kLong).reshape({3, 4}) + 100 * root));
  for (int i = 0; i < 3; ++i) world->barrier("barrier");
  const auto staged_world = staged(world, at::kCPU);
  EXPECT_EQ(staged_world->backend(), "mpi (staged through host memory)");
  EXPECT_EQ(staged_world->rank(), world->rank());
  EXPECT_EQ(staged_world->local_size(), world->local_size());
  at::Tensor u = at::full({5}, world->rank(), at::kFloat);
  staged_world->broadcast(u, root, "staged broadcast");
  EXPECT_TRUE(u.equal(at::full({5}, root, at::kFloat)));
}

// Rank s sends (s + 2d) % 3 rows to rank d, itself included; no message where that is 0. Row
// values say who sent them to whom.
TEST(CommExchange, AlltoallvUnevenSizes) {
  const auto rows = [](int s, int d) { return (s + 2 * d) % 3; };
  for (const auto& world : backends())
    for (at::ScalarType type : {at::kDouble, at::kLong, at::kFloat}) {
      SCOPED_TRACE(world->backend());
      const int r = world->rank(), k = world->size();
      std::vector<at::Tensor> send(k), recv(k);
      for (int j = 0; j < k; ++j) {
        send[j] = (at::arange(rows(r, j) * 3, at::kDouble).reshape({-1, 3}) + 1000 * r + 100 * j).to(type);
        // A missing message is an undefined tensor for odd peers, an empty one for even peers.
        if (rows(j, r) > 0 || j % 2 == 0) recv[j] = at::full({rows(j, r), 3}, -1, type);
      }
      world->alltoallv(send, recv, 5, "alltoallv");
      for (int j = 0; j < k; ++j) {
        if (!recv[j].defined()) continue;
        EXPECT_TRUE(
            recv[j].equal((at::arange(rows(j, r) * 3, at::kDouble).reshape({-1, 3}) + 1000 * j + 100 * r).to(type)))
            << "from rank " << j;
      }
    }
}

TEST(CommExchange, RejectsMisuse) {
  const auto world = mpi_world();
  const int k = world->size();
  std::vector<at::Tensor> none(k);
  expect_error([&] { world->start_exchange(none, none, kMaxTransferTag, "x"); }, {"tag 4096", "out of range"});
  expect_error([&] { world->start_exchange(none, none, -1, "x"); }, {"tag -1"});
  expect_error([&] { world->start_exchange({}, none, 0, "x"); }, {"one send and one receive tensor per rank"});
  std::vector<at::Tensor> strided(k, at::zeros({4, 4}, at::kDouble).t());
  expect_error([&] { world->start_exchange(none, strided, 0, "y"); }, {"recv[0]", "non-contiguous", "(y)"});
  at::Tensor flags = at::zeros({2}, at::kBool);
  expect_error([&] { world->allreduce(flags, ReduceOp::sum, "z"); }, {"allreduce supports", "Bool"});
  at::Tensor t = at::zeros({2});
  expect_error([&] { world->broadcast(t, k, "z"); }, {"root", "is not a rank"});
}

// MPI counts are ints, so the MPI backend sends a buffer in pieces (set_mpi_piece_bytes). Every
// operation, once with the default pieces and once with pieces of 37 bytes (cutting elements and
// rows apart, hundreds per message): the same results. Integer-valued data, so that sums do not
// depend on the order MPI reduces in.
std::vector<at::Tensor> every_operation() {
  const auto world = mpi_world();
  const int r = world->rank(), k = world->size();
  std::vector<at::Tensor> results;
  at::Tensor sum = at::arange(1001, at::kDouble) * (r + 1);
  world->allreduce(sum, ReduceOp::sum, "pieces: allreduce");
  at::Tensor max = at::arange(333, at::kInt) * (r % 2 == 0 ? 1 : -1) + r;
  world->allreduce(max, ReduceOp::max, "pieces: allreduce max");
  at::Tensor bytes = at::arange(999, at::kLong).remainder(256).to(at::kByte) + r;
  world->broadcast(bytes, k - 1, "pieces: broadcast");
  results.insert(results.end(), {sum, max, bytes});
  std::vector<at::Tensor> send(k), recv(k);
  const auto rows = [](int s, int d) { return (7 * s + 3 * d) % 11 * 13; };
  for (int j = 0; j < k; ++j) {
    send[j] = at::arange(rows(r, j) * 5, at::kFloat).reshape({-1, 5}) + 1000 * r + 100000 * j;
    recv[j] = at::empty({rows(j, r), 5}, at::kFloat);
  }
  world->alltoallv(send, recv, 6, "pieces: alltoallv");
  results.insert(results.end(), recv.begin(), recv.end());
  const Pattern p = random_pattern(2, true, 5);
  HaloExchange exchange(p.plan, world);
  const at::Tensor owned = at::arange(p.plan.num_inner * 33, at::kDouble).reshape({-1, 33}) + 7 * r;
  results.push_back(exchange.bcast(owned, 2, "pieces: bcast"));
  at::Tensor reduced = at::zeros_like(owned);
  exchange.reduce(at::arange(p.plan.num_halo * 33, at::kDouble).reshape({-1, 33}), reduced, 2, "pieces: reduce");
  results.push_back(reduced);
  return results;
}

TEST(CommPieces, ManySmallPiecesGiveWhatOnePieceGives) {
  EXPECT_EQ(mpi_piece_bytes(), kDefaultMpiPieceBytes);
  const std::vector<at::Tensor> whole = every_operation();
  set_mpi_piece_bytes(37);
  std::vector<at::Tensor> pieces;
  try {
    pieces = every_operation();
  } catch (...) {
    set_mpi_piece_bytes(kDefaultMpiPieceBytes);
    throw;
  }
  set_mpi_piece_bytes(kDefaultMpiPieceBytes);
  ASSERT_EQ(pieces.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) EXPECT_TRUE(pieces[i].equal(whole[i])) << "result " << i;
  expect_error([] { set_mpi_piece_bytes(0); }, {"set_mpi_piece_bytes: 0 bytes is outside 1..1073741824"});
}

TEST(CommHaloPlan, CheckNamesTheViolation) {
  HaloPlan plan;
  plan.rank = 0;
  plan.num_ranks = 2;
  plan.num_inner = 3;
  plan.num_halo = 2;
  plan.send_offsets = {0, 0, 2};
  plan.send_rows = {0, 2};
  plan.recv_offsets = {0, 0, 2};
  plan.recv_rows = {1, 0};
  EXPECT_NO_THROW(plan.check("ok"));
  HaloPlan bad = plan;
  bad.send_rows[1] = 900;
  expect_error([&] { bad.check("HaloPlan (rank 0)"); },
               {"HaloPlan (rank 0): send_rows[1] = 900 is not an inner row (0..2)"});
  bad = plan;
  bad.send_rows[1] = 0;
  expect_error([&] { bad.check("p"); }, {"send_rows[1] = 0", "peer 1 twice"});
  bad = plan;
  bad.recv_rows = {1, 1};
  expect_error([&] { bad.check("p"); }, {"recv_rows[1] = 1 repeats recv_rows[0]"});
  bad = plan;
  bad.recv_rows[0] = 2;
  expect_error([&] { bad.check("p"); }, {"recv_rows[0] = 2 is not a halo position (0..1)"});
  bad = plan;
  bad.send_offsets = {0, 2};
  expect_error([&] { bad.check("p"); }, {"send_offsets has 2 entries"});
  bad = plan;
  bad.recv_offsets = {0, 2, 1};
  expect_error([&] { bad.check("p"); }, {"recv_offsets[2] = 1 is below recv_offsets[1] = 2"});
}

// Partitions the "tiny" preset into one part per rank (written by rank 0 into a folder every
// rank sees), loads this rank's Shard and checks the plan against the shard's halo.
TEST(CommHaloPlan, FromRealShards) {
  const auto world = mpi_world();
  std::unique_ptr<test::TempDir> dir;
  at::Tensor path = at::zeros({4096}, at::kByte);
  if (world->rank() == 0) {
    dir = std::make_unique<test::TempDir>();
    write_partition(generate_preset("tiny"), PartitionOptions().num_parts(world->size()), dir->path("parts"), "tiny");
    const std::string p = dir->path("parts");
    std::memcpy(path.data_ptr(), p.data(), p.size());
  }
  world->broadcast(path, 0, "partition path");
  const PartitionMeta meta = read_partition_meta(reinterpret_cast<const char*>(path.data_ptr()));
  const Shard shard = load_shard(meta, world->rank());
  world->barrier("shards loaded");  // rank 0 may remove the folder now
  const HaloPlan plan = HaloPlan::from_shard(shard);
  EXPECT_EQ(plan.num_inner, shard.num_inner());
  EXPECT_EQ(plan.num_halo, shard.num_halo());
  EXPECT_EQ(plan.rows_received(), shard.num_halo());
  for (int32_t j = 0; j < plan.num_ranks; ++j) {
    for (int64_t i = plan.recv_offsets[j]; i < plan.recv_offsets[j + 1]; ++i) {
      ASSERT_EQ(shard.halo_owner[plan.recv_rows[i]], j) << "recv_rows[" << i << "]";
    }
  }
  // Node ids travel as int64: every halo row gets its owner's id.
  HaloExchange exchange(plan, world);
  const at::Tensor ids = (at::arange(shard.num_inner(), at::kLong) + shard.global_begin).reshape({-1, 1});
  const at::Tensor halo = exchange.bcast(ids, 0, "node ids");
  EXPECT_TRUE(
      halo.reshape({-1}).equal(at::tensor(std::vector<int64_t>(shard.halo_global.begin(), shard.halo_global.end()))));
  // Every halo copy comes home once: the copies counted at the owners add up to the halo sizes.
  at::Tensor copies = at::zeros({shard.num_inner(), 1}, at::kLong);
  exchange.reduce(at::ones({shard.num_halo(), 1}, at::kLong), copies, 0, "halo counts");
  EXPECT_EQ(global_sum(copies), global_sum(at::tensor({static_cast<double>(shard.num_halo())})));
}

// owned = 100 * global id + column: each halo row must hold its owner's row, zeros where nobody sends.
TEST(CommHaloExchange, BcastPlacesOwnerRows) {
  for (uint64_t seed : kSeeds) {
    for (const Variant& v : kVariants) {
      SCOPED_TRACE(testing::Message() << "seed " << seed << " shuffled " << v.shuffled << " extra " << v.extra);
      const Pattern p = random_pattern(seed, v.shuffled, v.extra);
      HaloExchange exchange(p.plan, mpi_world());
      for (int64_t f : {1, 7}) {
        for (at::ScalarType type : {at::kLong, at::kDouble, at::kFloat}) {
          const at::Tensor columns = at::arange(f, at::kLong);
          const at::Tensor owned =
              ((at::arange(p.plan.num_inner, at::kLong) + p.global_begin).reshape({-1, 1}) * 100 + columns).to(type);
          const at::Tensor gid = at::tensor(p.halo_gid).reshape({-1, 1});
          const at::Tensor expected = at::where(gid >= 0, gid * 100 + columns, at::zeros({}, at::kLong)).to(type);
          EXPECT_TRUE(exchange.bcast(owned, 3, "bcast test").equal(expected)) << "F " << f << " " << type;
          // Straight into a caller's tensor (stale values there must not survive).
          const at::Tensor into = at::full({p.plan.num_halo, f}, -1, type);
          EXPECT_TRUE(exchange.bcast(owned, 3, "bcast into", into).equal(expected)) << "into, F " << f;
          EXPECT_TRUE(into.equal(expected)) << "into, F " << f << " " << type;
          // Behind the owned rows, as a layer's input over all the columns.
          EXPECT_TRUE(exchange.bcast_columns(owned, 3, "columns").equal(at::cat({owned, expected})))
              << "columns, F " << f << " " << type;
        }
      }
    }
  }
}

// Peer by peer (an evaluation's stream): each peer's rows once, at their halo positions, the same
// rows a whole bcast gives; plans whose rows do not arrive in halo order are refused, on every rank.
TEST(CommHaloExchange, BcastByPeerGivesTheBcastRows) {
  for (uint64_t seed : kSeeds) {
    for (const Variant& v : kVariants) {
      SCOPED_TRACE(testing::Message() << "seed " << seed << " shuffled " << v.shuffled << " extra " << v.extra);
      const Pattern p = random_pattern(seed, v.shuffled, v.extra);
      HaloExchange exchange(p.plan, mpi_world());
      const at::Tensor owned = at::randn({p.plan.num_inner, 3}, at::kDouble);
      // A shuffle can leave a small halo in order: only the ranks whose halo is not refuse.
      bool in_order = p.plan.rows_received() == p.plan.num_halo;
      for (int64_t i = 0; i < p.plan.rows_received() && in_order; ++i) in_order = p.plan.recv_rows[i] == i;
      at::Tensor everywhere = at::tensor({in_order ? 1.0 : 0.0});
      mpi_world()->allreduce(everywhere, ReduceOp::min, "plans in order");
      if (everywhere.item<double>() == 0) {
        if (!in_order)
          expect_error([&] { exchange.bcast_by_peer(owned, 2, "w", {}); }, {"bcast_by_peer", "halo order"});
        continue;
      }
      at::Tensor streamed = at::full({p.plan.num_halo, 3}, -1.0, at::kDouble);
      int64_t rounds = 0;
      exchange.bcast_by_peer(owned, 2, "by peer", [&](int64_t first, const at::Tensor& rows) {
        ++rounds;
        EXPECT_TRUE(streamed.narrow(0, first, rows.size(0)).eq(-1).all().item<bool>()) << "rows at " << first;
        streamed.narrow(0, first, rows.size(0)).copy_(rows);
      });
      EXPECT_TRUE(streamed.equal(exchange.bcast(owned, 2, "whole"))) << rounds << " rounds";
      EXPECT_LE(rounds, p.plan.num_ranks - 1);
    }
  }
}

// Halo rows of ones, reduced: each owned row counts the peers holding a copy of it.
TEST(CommHaloExchange, ReduceCountsCopies) {
  for (uint64_t seed : kSeeds) {
    for (const Variant& v : kVariants) {
      const Pattern p = random_pattern(seed, v.shuffled, v.extra);
      HaloExchange exchange(p.plan, mpi_world());
      at::Tensor owned = at::full({p.plan.num_inner, 2}, 10.0, at::kDouble);
      exchange.reduce(at::ones({p.plan.num_halo, 2}, at::kDouble), owned, 4, "reduce test");
      const at::Tensor expected = at::tensor(p.copies).to(at::kDouble).reshape({-1, 1}).expand({-1, 2}) + 10;
      EXPECT_TRUE(owned.equal(expected)) << "seed " << seed << " shuffled " << v.shuffled << " extra " << v.extra;
      // Without owned rows the end makes them: zeros plus the sums.
      const at::Tensor made =
          exchange.reduce_end(exchange.reduce_begin(at::ones({p.plan.num_halo, 2}, at::kDouble), {}, 4, "reduce new"));
      EXPECT_TRUE(made.equal(expected - 10)) << "seed " << seed << " shuffled " << v.shuffled << " extra " << v.extra;
    }
  }
}

// <bcast(x), y> = <x, reduce(y)>, summed over ranks.
TEST(CommHaloExchange, ReduceIsTheAdjointOfBcast) {
  at::manual_seed(1000 + mpi_world()->rank());
  for (const auto& comm : backends())
    for (uint64_t seed : kSeeds) {
      for (const Variant& v : kVariants) {
        const Pattern p = random_pattern(seed, v.shuffled, v.extra);
        HaloExchange exchange(p.plan, comm);
        for (int64_t f : {1, 7, 33}) {
          const at::Tensor x = at::randn({p.plan.num_inner, f}, at::kDouble);
          const at::Tensor y = at::randn({p.plan.num_halo, f}, at::kDouble);
          at::Tensor reduced = at::zeros_like(x);
          exchange.reduce(y, reduced, 1, "adjoint");
          const double lhs = global_sum(exchange.bcast(x, 1, "adjoint") * y), rhs = global_sum(x * reduced);
          EXPECT_LE(std::abs(lhs - rhs), 1e-12 * std::max({std::abs(lhs), std::abs(rhs), 1e-300}))
              << "lhs " << lhs << " rhs " << rhs << " F " << f;
        }
      }
    }
}

// A bcast and a reduce in flight at once (different tags), ended in the reverse order.
TEST(CommHaloExchange, SplitPhaseOverlap) {
  at::manual_seed(2000 + mpi_world()->rank());
  const Pattern p = random_pattern(7, true, 3);
  HaloExchange exchange(p.plan, mpi_world());
  const at::Tensor x = at::randn({p.plan.num_inner, 5}, at::kDouble);
  const at::Tensor y = at::randn({p.plan.num_halo, 5}, at::kDouble);
  const at::Tensor halo_ref = exchange.bcast(x, 0, "reference");
  at::Tensor owned_ref = at::zeros_like(x), owned = at::zeros_like(x);
  exchange.reduce(y, owned_ref, 0, "reference");

  HaloExchange::Pending forward = exchange.bcast_begin(x, {}, 1, "overlap forward");
  HaloExchange::Pending backward = exchange.reduce_begin(y, owned, 2, "overlap backward");
  exchange.reduce_end(std::move(backward));
  const at::Tensor halo = exchange.bcast_end(std::move(forward));
  EXPECT_TRUE(halo.equal(halo_ref));
  EXPECT_TRUE(owned.equal(owned_ref));
}

TEST(CommHaloExchange, CountersMatchThePlan) {
  const Pattern p = random_pattern(5, false, 0);
  const HaloPlan& plan = p.plan;
  HaloExchange exchange(plan, mpi_world());
  int64_t peers_to = 0, peers_from = 0;
  for (int32_t j = 0; j < plan.num_ranks; ++j) {
    peers_to += plan.rows_to(j) > 0;
    peers_from += plan.rows_from(j) > 0;
  }
  exchange.bcast(at::zeros({plan.num_inner, 7}, at::kDouble), 0, "counters");
  exchange.bcast(at::zeros({plan.num_inner, 7}, at::kDouble), 0, "counters");
  EXPECT_EQ(exchange.counters().bytes_sent, 2 * plan.rows_sent() * 7 * 8);
  EXPECT_EQ(exchange.counters().messages_sent, 2 * peers_to);
  EXPECT_EQ(exchange.counters().rows_sent, 2 * plan.rows_sent());
  EXPECT_GT(exchange.counters().seconds, 0);
  exchange.reset_counters();
  at::Tensor owned = at::zeros({plan.num_inner, 3}, at::kFloat);
  exchange.reduce(at::zeros({plan.num_halo, 3}, at::kFloat), owned, 0, "counters");
  EXPECT_EQ(exchange.counters().bytes_sent, plan.rows_received() * 3 * 4);
  EXPECT_EQ(exchange.counters().messages_sent, peers_from);
  EXPECT_EQ(exchange.counters().rows_sent, plan.rows_received());
  // By the caller's tag: each exchange where its tag says, and the tags sum to the whole.
  exchange.bcast(at::zeros({plan.num_inner, 7}, at::kDouble), 2, "counters");
  const auto& by_tag = exchange.counters_by_tag();
  ASSERT_EQ(by_tag.size(), 2u);
  EXPECT_EQ(by_tag.at(0).bytes_sent, plan.rows_received() * 3 * 4);
  EXPECT_EQ(by_tag.at(2).bytes_sent, plan.rows_sent() * 7 * 8);
  EXPECT_NEAR(by_tag.at(0).seconds + by_tag.at(2).seconds, exchange.counters().seconds, 1e-12);
  EXPECT_NEAR(by_tag.at(0).wait_seconds + by_tag.at(2).wait_seconds, exchange.counters().wait_seconds, 1e-12);
  exchange.reset_counters();
  EXPECT_TRUE(exchange.counters_by_tag().empty());
}

// Compressed messages (halo_codec.h): bcast rows within their precision of the fp32 rows (int8:
// one step of the row, max |x| / 127), unsent halo rows still zero; reduce sums decoded copies;
// the counters count the bytes on the wire.
TEST(CommHaloExchange, CompressedRowsDecodeAndCountWireBytes) {
  at::manual_seed(3000 + mpi_world()->rank());
  for (const Variant& v : kVariants) {
    const Pattern p = random_pattern(9, v.shuffled, v.extra);
    HaloExchange fp32(p.plan, mpi_world()), exchange(p.plan, mpi_world());
    const at::Tensor x = at::randn({p.plan.num_inner, 21});
    const at::Tensor reference = fp32.bcast(x, 0, "reference");
    const at::Tensor step = reference.abs().amax(1, true) / 127;
    for (const auto& [precision, row_bytes, tolerance] : {std::tuple{HaloPrecision::bf16, 42, 0x1p-8},
                                                          {HaloPrecision::fp16, 42, 0x1p-11},
                                                          {HaloPrecision::int8, 25, 0.0}}) {
      SCOPED_TRACE(testing::Message() << to_string(precision) << " shuffled " << v.shuffled << " extra " << v.extra);
      exchange.set_precision(precision);
      exchange.set_rounding_key(5);
      exchange.reset_counters();
      const at::Tensor halo = exchange.bcast(x, 0, "compressed");
      const at::Tensor bound = tolerance > 0 ? reference.abs() * tolerance : step * (1 + 1e-6);
      EXPECT_TRUE(((halo - reference).abs() <= bound).all().item<bool>());
      EXPECT_EQ(exchange.counters().bytes_sent, p.plan.rows_sent() * row_bytes);
      at::Tensor owned = at::full({p.plan.num_inner, 21}, 10.0f);
      exchange.reduce(at::ones({p.plan.num_halo, 21}), owned, 1, "compressed");
      const at::Tensor expected = at::tensor(p.copies).to(at::kFloat).reshape({-1, 1}).expand({-1, 21}) + 10;
      EXPECT_TRUE(at::allclose(owned, expected, 1e-6, 0));
    }
  }
}

TEST(CommHaloExchange, RejectsMisuse) {
  const Pattern p = random_pattern(11, true, 2);
  const HaloPlan& plan = p.plan;
  HaloExchange exchange(plan, mpi_world());
  const at::Tensor x = at::zeros({plan.num_inner, 4}, at::kDouble);
  expect_error([&] { exchange.bcast_begin(x, {}, HaloExchange::kMaxTags, "w"); }, {"tag 2048", "out of range"});
  expect_error(
      [&] {
        exchange.bcast_begin(at::zeros({plan.num_inner + 1, 4}), {}, 0, "w");
      },
      {"bcast_begin", "expected a [" + std::to_string(plan.num_inner) + ", F] tensor"});
  expect_error([&] { exchange.reduce_begin(x.reshape({-1}), x, 0, "w"); }, {"reduce_begin"});
  at::Tensor wrong_type = at::zeros({plan.num_inner, 4}, at::kFloat);
  expect_error(
      [&] {
        exchange.reduce(at::zeros({plan.num_halo, 4}, at::kDouble), wrong_type, 0, "w");
      },
      {"reduce_begin", "owned must be a [" + std::to_string(plan.num_inner) + ", 4] Double tensor"});
  expect_error(
      [&] {
        exchange.bcast_begin(x, at::zeros({plan.num_halo + 1, 4}, at::kDouble), 0, "w");
      },
      {"bcast_begin", "halo must be a contiguous [" + std::to_string(plan.num_halo) + ", 4] Double tensor"});
  HaloExchange::Pending pending = exchange.bcast_begin(x, {}, 0, "w");
  exchange.bcast_end(std::move(pending));
  expect_error([&] { exchange.bcast_end(std::move(pending)); }, {"bcast_end", "Pending is empty"});
  expect_error([&] { exchange.reduce_end(exchange.bcast_begin(x, {}, 0, "w")); },
               {"reduce_end", "Pending of a bcast_begin"});
  HaloPlan other = plan;
  other.rank = (plan.rank + 1) % plan.num_ranks;
  if (plan.num_ranks > 1) expect_error([&] { HaloExchange(other, mpi_world()); }, {"the plan is for rank"});
  mpi_world()->barrier("misuse done");  // the abandoned bcast above completes on every rank
}

// Rank 1 never posts its side of an exchange with rank 0: rank 0 names it, the deadline and the
// exchange, in about the deadline. Rank 1 then takes rank 0's message, so nothing is left over.
TEST(CommDeadline, NamesThePeerThatNeverAnswers) {
  const auto world = mpi_world();
  if (world->size() < 2) GTEST_SKIP() << "needs two ranks";
  const int k = world->size(), tag = kMaxTransferTag - 1;  // no other test uses it
  std::vector<at::Tensor> send(k), recv(k);
  if (world->rank() == 0) {
    ScopedDeadline deadline(std::chrono::milliseconds(1500));
    send[1] = at::ones({4}, at::kDouble);
    recv[1] = at::zeros({4}, at::kDouble);
    const auto start = std::chrono::steady_clock::now();
    expect_error([&] { world->alltoallv(send, recv, tag, "epoch 7, layer 2 features"); },
                 {"rank 0: peer 1 did not answer within 1.5 s (epoch 7, layer 2 features)"});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(seconds, 1.5);
    EXPECT_LT(seconds, 3.0);
  } else if (world->rank() == 1) {
    recv[0] = at::zeros({4}, at::kDouble);
    world->alltoallv(send, recv, tag, "drain");
    EXPECT_TRUE(recv[0].equal(at::ones({4}, at::kDouble)));
  }
  world->barrier("after the deadline");
}

// Every rank but 1 waits in a barrier rank 1 joins only after they gave up. Their abandoned
// barrier completes with rank 1's late one, so the next barrier lines up again.
TEST(CommDeadline, NamesTheCollectiveNotJoined) {
  const auto world = mpi_world();
  if (world->size() < 2) GTEST_SKIP() << "needs two ranks";
  const int k = world->size(), tag = kMaxTransferTag - 2;
  std::vector<at::Tensor> send(k), recv(k);
  if (world->rank() != 1) {
    {
      ScopedDeadline deadline(std::chrono::milliseconds(1000));
      expect_error([&] { world->barrier("epoch 7 weights"); },
                   {"rank " + std::to_string(world->rank()) +
                    ": the other ranks did not join barrier within 1 s (epoch 7 weights)"});
    }
    send[1] = at::ones({1});
  } else {
    for (int j = 0; j < k; ++j) recv[j] = j == 1 ? at::Tensor() : at::zeros({1});
  }
  world->alltoallv(send, recv, tag, "gave up");  // rank 1 hears that the others gave up
  if (world->rank() == 1) world->barrier("late barrier");
  world->barrier("after the deadline");
  at::Tensor one = at::ones({1});
  world->allreduce(one, ReduceOp::sum, "after the deadline");
  EXPECT_EQ(one.item<float>(), k);
}

// Rank `stopped` sleeps, as a stopped process would, while the others wait for it in each kind of
// operation: every other rank names it, and only it, then it joins late and completes what the
// others gave up on (its exchange only receives, so no message of it is left over).
TEST(CommDeadline, EveryRankNamesTheStoppedOne) {
  const auto world = mpi_world();
  const int k = world->size(), me = world->rank(), tag = kMaxTransferTag - 3;
  if (k < 2) GTEST_SKIP() << "needs two ranks";
  const std::vector<std::string> ops = {"allreduce", "broadcast", "barrier", "the exchange"};
  for (int i = 0; i < 4 * k; ++i) {
    const int stopped = i % k;
    const std::string& op = ops[i / k];
    const std::string what = "epoch " + std::to_string(i);
    at::Tensor t = at::ones({3});
    std::vector<at::Tensor> send(k), recv(k);
    for (int j = 0; j < k; ++j) {
      if (j == me || (me != stopped && j != stopped)) continue;
      recv[j] = at::zeros({2});
      if (me != stopped) send[j] = at::ones({2});
    }
    const auto run = [&] {
      if (op == "allreduce") world->allreduce(t, ReduceOp::sum, what);
      if (op == "broadcast") world->broadcast(t, stopped, what);  // rooted there, so no rank completes early
      if (op == "barrier") world->barrier(what);
      if (op == "the exchange") world->alltoallv(send, recv, tag, what);
    };
    world->barrier("before the stop");
    if (me == stopped) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past the others' deadline and check
      run();
      continue;
    }
    std::vector<int> waiting;
    for (int j = 0; j < k; ++j) {
      if (j != stopped) waiting.push_back(j);
    }
    ScopedDeadline deadline(std::chrono::milliseconds(500));
    expect_error(run, {fmt::format("rank {}: rank {} did not reach {} within 0.5 s ({}); {} {} {} waiting", me, stopped,
                                   op, what, waiting.size() == 1 ? "rank" : "ranks", fmt::join(waiting, ", "),
                                   waiting.size() == 1 ? "is" : "are")});
  }
  world->barrier("after the stops");
  at::Tensor one = at::ones({1});
  world->allreduce(one, ReduceOp::sum, "after the stops");
  EXPECT_EQ(one.item<float>(), k);
}

}  // namespace
}  // namespace halo
