#pragma once
#include <string>

#include "gcn/model.h"

namespace halo {

// Writes the model's parameters and buffers as a name -> tensor dictionary that Python's
// torch.load() reads (host copies: the file loads on a machine without the GPU that trained it).
void export_weights(const Model& model, const std::string& path);

}  // namespace halo
