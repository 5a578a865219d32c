#pragma once
// A Model rebuilt from a Trainer checkpoint directory (gcn/checkpoint.h; model.pt is read only
// after its size and checksum match the manifest). The checkpoint stores parameters only, so the
// architecture (kind, layers, widths, heads, LayerNorm) is read off the parameter names and shapes.
#include <string>

#include "gcn/model.h"

namespace halo {

// Throws Error naming the file when `dir` holds no checkpoint or one this cannot read. The
// architecture read goes to `architecture` when given.
Model load_checkpoint_model(const std::string& dir, ModelOptions* architecture = nullptr);

}  // namespace halo
