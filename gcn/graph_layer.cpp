#include "gcn/graph_layer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace halo {

void check_layer_input(const char* layer, const Block& block, const at::Tensor& x, int64_t in_features) {
  if (x.dim() != 2 || x.size(0) != block.num_cols() || x.size(1) != in_features) {
    throw Error(fmt::format("{}: input must be [{}, {}] (one row per Block column), got [{}]", layer, block.num_cols(),
                            in_features, fmt::join(x.sizes(), ", ")));
  }
}

}  // namespace halo
