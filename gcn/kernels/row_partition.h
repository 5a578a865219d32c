#pragma once
// How kernels walk a CsrView: the edge id of an entry, and a parallel loop over destination rows
// in chunks of equal work. Every output row is written by one task in a fixed order, so the
// chunking (and the thread count) never changes a result.
#include <cstdint>
#include <functional>

#include "sampling/csr.h"

namespace halo::kernels {

// Entry k of `a` carries the edge-valued data (weights, scores) of edge edge_id(a, k): k itself,
// or for a transpose the entry of the matrix it was made from.
inline int64_t edge_id(const CsrView& a, int64_t k) { return a.edge_ids != nullptr ? a.edge_ids[k] : k; }

// Range i of `ranges` ranges of rows of about equal cost (as parallel_rows weighs them): its first
// row. Ranges a caller fixes from sizes alone, not the thread count, sum in an order no thread
// count changes.
int64_t range_start(const CsrView& a, int64_t work_per_entry, int64_t ranges, int64_t i);

// Calls body(first, last) on disjoint row ranges covering [0, a.rows), in parallel. Row v costs
// work_per_entry * (nnz(v) + 1): ranges hold about equal cost, so a power-law row of thousands
// of entries does not leave one thread working alone on a range of ordinary rows beside it.
void parallel_rows(const CsrView& a, int64_t work_per_entry, const std::function<void(int64_t, int64_t)>& body);

}  // namespace halo::kernels
