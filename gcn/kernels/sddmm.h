#pragma once
// SDDMM (sampled dense-dense product): one dot product per adjacency entry. It is the backward
// pass of SpMM w.r.t. the edge weights w:
//
//   dw[edge_id(k), h] = r[v] * c[u] * sum_j dy[v, h, j] * x[u, h, j]     for entry k = (u -> v)
//
// A missing r or c is 1. Every entry is written once, by the task that owns its row.
#include <cstdint>

#include "sampling/csr.h"

namespace halo::kernels {

template <class T>
struct SddmmArgs {
  CsrView a;                     // rows x cols
  int64_t heads = 1;             // H
  int64_t width = 0;             // F
  const T* dy = nullptr;         // [rows, H, F]
  const T* x = nullptr;          // [cols, H, F]
  const T* row_scale = nullptr;  // [rows] or null
  const T* col_scale = nullptr;  // [cols] or null
  T* dw = nullptr;               // [edges, H], indexed by edge_id, overwritten
};

template <class T>
void sddmm(const SddmmArgs<T>& args);
template <class T>
void sddmm_reference(const SddmmArgs<T>& args);

}  // namespace halo::kernels
