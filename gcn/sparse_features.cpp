#include "gcn/sparse_features.h"

#include <ATen/Dispatch.h>
#include <ATen/Functions.h>
#include <ATen/ops/_sparse_csr_tensor_unsafe.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <string>

#include "core/error.h"

namespace halo {
namespace {

// LibTorch warns once per process that its sparse CSR tensors are in beta. Halo uses them only
// as a container (its own kernels do the work), so that notice would only alarm users. (The
// handler's interface changed in LibTorch 2: Debian's is 1.13, GPU machines' pip builds are 2.)
struct Quiet : c10::WarningHandler {
#if TORCH_VERSION_MAJOR >= 2
  void process(const c10::Warning&) override {}
#else
  void process(const c10::SourceLocation&, const std::string&, bool) override {}
#endif
};
#if TORCH_VERSION_MAJOR >= 2
using WarningHandlerGuard = c10::WarningUtils::WarningHandlerGuard;
#else
using WarningHandlerGuard = c10::Warning::WarningHandlerGuard;
#endif

at::Tensor make_sparse_rows(const at::Tensor& offsets, const at::Tensor& columns, const at::Tensor& values,
                            int64_t rows, int64_t cols) {
  Quiet quiet;
  const WarningHandlerGuard guard(&quiet);
  // The parts are built here and valid by construction: the checking constructor would pass over
  // every entry again.
  return at::_sparse_csr_tensor_unsafe(offsets, columns, values, {rows, cols}, values.options().layout(at::kSparseCsr));
}

}  // namespace

bool is_sparse_rows(const at::Tensor& x) { return x.defined() && x.layout() == at::kSparseCsr; }

at::Tensor dense_rows(const at::Tensor& x) { return is_sparse_rows(x) ? x.to_dense() : x; }

double nonzero_share(const at::Tensor& dense) {
  return dense.numel() == 0
             ? 0.0
             : static_cast<double>(dense.count_nonzero().item<int64_t>()) / static_cast<double>(dense.numel());
}

at::Tensor sparse_rows(const at::Tensor& dense) {
  if (dense.dim() != 2 || (dense.scalar_type() != at::kFloat && dense.scalar_type() != at::kDouble)) {
    throw Error(fmt::format("sparse_rows: expected a float32/float64 matrix, got {} with {} dimensions",
                            c10::toString(dense.scalar_type()), dense.dim()));
  }
  const at::Tensor x = dense.contiguous();
  const int64_t rows = x.size(0), cols = x.size(1);
  at::Tensor offsets = at::empty({rows + 1}, at::kLong), columns, values;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "sparse_rows", [&] {
    const scalar_t* d = x.data_ptr<scalar_t>();
    int64_t* o = offsets.data_ptr<int64_t>();
    o[0] = 0;
    for (int64_t i = 0; i < rows; ++i) {
      int64_t n = 0;
      for (int64_t j = 0; j < cols; ++j) n += d[i * cols + j] != scalar_t(0);
      o[i + 1] = o[i] + n;
    }
    columns = at::empty({o[rows]}, at::kLong);
    values = at::empty({o[rows]}, x.options());
    int64_t* c = columns.data_ptr<int64_t>();
    scalar_t* v = values.data_ptr<scalar_t>();
    for (int64_t i = 0, k = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) {
        if (d[i * cols + j] != scalar_t(0)) {
          c[k] = j;
          v[k++] = d[i * cols + j];
        }
      }
    }
  });
  return make_sparse_rows(offsets, columns, values, rows, cols);
}

at::Tensor layer_input(const at::Tensor& x, bool takes_sparse) {
  return x.is_cpu() && takes_sparse && nonzero_share(x) <= kSparseInputShare ? sparse_rows(x) : x;
}

at::Tensor with_values(const at::Tensor& like, const at::Tensor& values) {
  return make_sparse_rows(like.crow_indices(), like.col_indices(), values, like.size(0), like.size(1));
}

at::Tensor leading_sparse_rows(const at::Tensor& x, int64_t n) {
  if (n < 0 || n > x.size(0)) throw Error(fmt::format("leading_sparse_rows: {} rows asked of {}", n, x.size(0)));
  const at::Tensor offsets = x.crow_indices().narrow(0, 0, n + 1);
  const int64_t entries = offsets[n].item<int64_t>();
  return make_sparse_rows(offsets, x.col_indices().narrow(0, 0, entries), x.values().narrow(0, 0, entries), n,
                          x.size(1));
}

at::Tensor select_sparse_rows(const at::Tensor& x, const at::Tensor& index, const at::Tensor& scale) {
  const int64_t rows = index.numel();
  const at::Tensor idx = index.to(at::kLong).contiguous();
  const int64_t* pick = idx.data_ptr<int64_t>();
  const int64_t* from = x.crow_indices().data_ptr<int64_t>();
  at::Tensor offsets = at::empty({rows + 1}, at::kLong);
  int64_t* o = offsets.data_ptr<int64_t>();
  o[0] = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (pick[r] < 0 || pick[r] >= x.size(0)) {
      throw Error(fmt::format("select_sparse_rows: row {} is outside [0, {})", pick[r], x.size(0)));
    }
    o[r + 1] = o[r] + from[pick[r] + 1] - from[pick[r]];
  }
  at::Tensor columns = at::empty({o[rows]}, at::kLong), values = at::empty({o[rows]}, x.values().options());
  const at::Tensor s = scale.defined() ? scale.to(x.scalar_type()).contiguous() : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "select_sparse_rows", [&] {
    const kernels::SparseRowsView<scalar_t> in = sparse_rows_view<scalar_t>(x);
    int64_t* c = columns.data_ptr<int64_t>();
    scalar_t* v = values.data_ptr<scalar_t>();
    const scalar_t* factor = s.defined() ? s.data_ptr<scalar_t>() : nullptr;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t k = from[pick[r]], at = o[r]; k < from[pick[r] + 1]; ++k, ++at) {
        c[at] = in.columns[k];
        v[at] = factor != nullptr ? in.values[k] * factor[r] : in.values[k];
      }
    }
  });
  return make_sparse_rows(offsets, columns, values, rows, x.size(1));
}

}  // namespace halo
