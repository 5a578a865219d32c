#include "datasets/dataset.h"

#include <ATen/Functions.h>
#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.h"

namespace halo {

namespace {

// Index of the first true entry of a bool vector that has one.
int64_t first_true(const at::Tensor& mask) { return mask.nonzero()[0][0].item<int64_t>(); }

struct NonFinite {
  int64_t count = 0, first = -1;  // first: flat index
  float value = 0;
};

// Counted in place: a mask the size of the features would add a byte per value at the peak.
NonFinite non_finite(const at::Tensor& features) {
  const at::Tensor x = features.contiguous();
  const float* p = x.data_ptr<float>();
  const int64_t size = x.numel();
  NonFinite r;
  r.count = tbb::parallel_reduce(
      tbb::blocked_range<int64_t>(0, size), int64_t{0},
      [&](const tbb::blocked_range<int64_t>& range, int64_t count) {
        for (int64_t i = range.begin(); i != range.end(); ++i) count += !std::isfinite(p[i]);
        return count;
      },
      std::plus<>());
  if (r.count > 0) {
    r.first = std::find_if(p, p + size, [](float v) { return !std::isfinite(v); }) - p;
    r.value = p[r.first];
  }
  return r;
}

}  // namespace

void check_node_data(const std::string& where, int64_t n, int64_t num_classes, const at::Tensor& features,
                     const at::Tensor& labels, const at::Tensor& train_mask, const at::Tensor& val_mask,
                     const at::Tensor& test_mask) {
  auto fail = [&](const std::string& what) { throw Error(fmt::format("{}: {}", where, what)); };
  if (!features.defined() || features.dim() != 2 || features.scalar_type() != at::kFloat || features.size(0) != n) {
    fail(fmt::format("features must be a float32 matrix with {} rows", n));
  }
  const NonFinite bad = non_finite(features);
  if (bad.count > 0) {
    const int64_t f = features.size(1);
    fail(fmt::format("features must be finite: {} values are NaN or infinite (first: node {}, feature {}, value {})",
                     bad.count, bad.first / f, bad.first % f, bad.value));
  }
  if (!labels.defined() || labels.dim() != 1 || labels.scalar_type() != at::kLong || labels.size(0) != n) {
    fail(fmt::format("labels must be an int64 vector of {} entries", n));
  }
  if (num_classes < 0 || num_classes > kMaxClasses) {
    fail(fmt::format("num_classes must lie in [0, {}], got {}", kMaxClasses, num_classes));
  }
  const at::Tensor bad_label = labels.lt(-1).logical_or(labels.ge(num_classes));
  if (bad_label.any().item<bool>()) {
    const int64_t v = first_true(bad_label);
    fail(fmt::format("labels must lie in [0, {}) (num_classes {}) or be -1 for unlabelled; node {} has label {}",
                     num_classes, num_classes, v, labels[v].item<int64_t>()));
  }
  const std::pair<const at::Tensor*, const char*> masks[] = {
      {&train_mask, "train"}, {&val_mask, "val"}, {&test_mask, "test"}};
  for (const auto& [mask, name] : masks) {
    if (!mask->defined() || mask->dim() != 1 || mask->scalar_type() != at::kBool || mask->size(0) != n) {
      fail(fmt::format("{} mask must be a bool vector of {} entries", name, n));
    }
    const at::Tensor unlabelled = mask->logical_and(labels.lt(0));
    if (unlabelled.any().item<bool>()) {
      fail(fmt::format("node {} is in the {} split but has no label", first_true(unlabelled), name));
    }
  }
  // A node evaluated on what it trained on inflates accuracy silently.
  for (size_t a = 0; a < 3; ++a) {
    for (size_t b = a + 1; b < 3; ++b) {
      const at::Tensor both = masks[a].first->logical_and(*masks[b].first);
      if (both.any().item<bool>()) {
        fail(fmt::format("the {} and {} splits overlap in {} nodes (first: node {}); each node may be in one split only",
                         masks[a].second, masks[b].second, both.sum().item<int64_t>(), first_true(both)));
      }
    }
  }
}

void Dataset::check(const std::string& where) const {
  check_node_data(where, num_nodes(), num_classes, features, labels, train_mask, val_mask, test_mask);
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
