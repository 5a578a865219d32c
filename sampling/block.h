#pragma once
// Block: the graph one epoch computes on. Rows are destination nodes (the inner nodes of a
// part, or every node in one process); columns are source nodes [inner | halo], and row i's
// own node is column i. It carries full-graph degrees, so a part normalises exactly as the
// whole graph does, and the global id of every column, which keys per-node randomness
// (dropout) so that any split into parts draws the same numbers as one process.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/graph.h"
#include "sampling/csr.h"

namespace halo {

// An adjacency as int64 tensors on the Block's device, for graph ops that run as LibTorch ops
// where no custom kernel exists (GPUs): row offsets [rows + 1], each entry's row and column, and
// each entry's edge id (undefined when the entries are their own ids).
struct CsrTensors {
  at::Tensor offsets, rows, cols, edge_ids;
};

class Block {
 public:
  // `adjacency` has no self-loops; `in_degree` / `out_degree` are full-graph degrees of every
  // column (self-loops not counted); `node_ids` the global id of every column.
  Block(Csr adjacency, std::vector<int32_t> in_degree, std::vector<int32_t> out_degree, std::vector<int64_t> node_ids);
  // The whole graph in one process (self-loops removed).
  static Block whole_graph(const Graph& g);

  // The same rows over some of this Block's columns: `columns` lists the kept ones, ascending,
  // starting with 0 .. rows-1 (every row keeps its own node); entries from the other columns are
  // dropped, degrees and ids stay those of the kept columns. O(entries + columns). BNS-GCN's
  // per-epoch Block over the sampled halo.
  Block keep_columns(const std::vector<int32_t>& columns) const;

  // The entries split by column, for a layer that aggregates the inner columns while the halo
  // rows travel (--overlap). inner_part(): the rows over columns 0 .. rows-1, a Block like any
  // other; halo_part(): the rows over the columns from `rows` on, renumbered from 0, with their
  // degrees and ids -- its rows are not its columns, so it has no Loops::with (that throws).
  // Built on first use and kept.
  const Block& inner_part() const;
  const Block& halo_part() const;
  // The same over halo columns [first, first + count) only (counted from the first halo column),
  // built on each call: an evaluation aggregates one peer's halo rows at a time.
  Block halo_columns(int64_t first, int64_t count) const;

  int64_t num_rows() const { return adjacency_.rows(); }
  int64_t num_cols() const { return adjacency_.cols; }

  const Csr& adjacency() const { return adjacency_; }
  // Lazily built and kept: the transpose (for backward passes) and the variants with self-loops.
  const Csr& adjacency_t() const;
  const Csr& with_self_loops() const;
  const Csr& with_self_loops_t() const;
  // The transposes as patterns alone, for ops without edge values (aggregate's backward): the
  // adjacency itself where it is symmetric (an undirected graph in one process), which needs no
  // transpose's indices and edge ids (12 bytes an entry).
  const Csr& adjacency_t_pattern() const;
  const Csr& with_self_loops_t_pattern() const;

  const at::Tensor& in_degree() const { return in_degree_; }    // float32 [cols]
  const at::Tensor& out_degree() const { return out_degree_; }  // float32 [cols]
  const at::Tensor& node_ids() const { return node_ids_; }      // int64 [cols]

  // Where the degrees and ids live (the CPU until moved); Blocks made by keep_columns stay there.
  at::Device device() const { return node_ids_.device(); }
  void to(at::Device device);
  // `a` (one of the four adjacencies above) as tensors on device(): built on first use, kept.
  const CsrTensors& tensors(const Csr& a) const;

 private:
  Block() = default;

  Csr adjacency_;
  at::Tensor in_degree_, out_degree_, node_ids_;
  mutable std::unique_ptr<Csr> adjacency_t_, loops_, loops_t_;
  mutable std::unique_ptr<bool> symmetric_;         // whether adjacency_ is (with_diagonal keeps it so)
  mutable std::unique_ptr<CsrTensors> tensors_[4];  // by adjacency, in the order above
  mutable std::unique_ptr<Block> inner_part_, halo_part_;
  bool rows_are_columns_ = true;  // false in a halo part
};

}  // namespace halo
