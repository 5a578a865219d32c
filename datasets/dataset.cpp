#include "datasets/dataset.h"

#include <ATen/Functions.h>
#include <fmt/format.h>

#include "core/error.h"

namespace halo {

void Dataset::check(const std::string& where) const {
  const int64_t n = num_nodes();
  auto fail = [&](const std::string& what) { throw Error(fmt::format("{}: {}", where, what)); };
  if (!features.defined() || features.dim() != 2 || features.scalar_type() != at::kFloat || features.size(0) != n) {
    fail(fmt::format("features must be a float32 matrix with {} rows", n));
  }
  if (!labels.defined() || labels.dim() != 1 || labels.scalar_type() != at::kLong || labels.size(0) != n) {
    fail(fmt::format("labels must be an int64 vector of {} entries", n));
  }
  for (const auto& [mask, mname] : {std::pair{&train_mask, "train"}, {&val_mask, "val"}, {&test_mask, "test"}}) {
    if (!mask->defined() || mask->dim() != 1 || mask->scalar_type() != at::kBool || mask->size(0) != n) {
      fail(fmt::format("{} mask must be a bool vector of {} entries", mname, n));
    }
    if (n > 0 && mask->any().item<bool>() && labels.masked_select(*mask).min().item<int64_t>() < 0) {
      fail(fmt::format("a node in the {} split has no label", mname));
    }
  }
  if (n > 0 && (labels.min().item<int64_t>() < -1 || labels.max().item<int64_t>() >= num_classes)) {
    fail(fmt::format("labels must lie in [0, {}) (or -1 for unlabelled), found [{}, {}]", num_classes,
                     labels.min().item<int64_t>(), labels.max().item<int64_t>()));
  }
}

at::Tensor mask_from_ids(const std::vector<int64_t>& ids, int64_t n) {
  at::Tensor mask = at::zeros({n}, at::kBool);
  bool* m = mask.data_ptr<bool>();
  for (int64_t id : ids) m[id] = true;
  return mask;
}

at::Tensor row_normalized(const at::Tensor& features) {
  const at::Tensor sums = features.sum(1, /*keepdim=*/true);
  return features.div(at::where(sums.eq(0), at::ones_like(sums), sums));
}

std::string describe(const Dataset& d) {
  return fmt::format("{}: {} nodes, {} edges, {} features, {} classes, split {}/{}/{}", d.name, d.num_nodes(),
                     d.graph.num_edges(), d.num_features(), d.num_classes, d.train_mask.sum().item<int64_t>(),
                     d.val_mask.sum().item<int64_t>(), d.test_mask.sum().item<int64_t>());
}

}  // namespace halo
