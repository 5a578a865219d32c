#include "gcn/export_weights.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>

#include "core/atomic_file.h"

namespace halo {

// torch::pickle_save() tags the dictionary with its C++ types, which Python's torch.load()
// refuses by default since PyTorch 2.6 (weights_only=True); an untagged pickle in the same
// zip container loads in both.
void export_weights(const Model& model, const std::string& path) {
  c10::Dict<std::string, at::Tensor> weights;
  // Host copies: the file loads on a machine without the GPU that trained it.
  const auto host_copy = [](const at::Tensor& t) { return t.detach().to(at::kCPU, false, true); };
  for (const auto& p : model->named_parameters()) weights.insert(p.key(), host_copy(p.value()));
  for (const auto& b : model->named_buffers()) weights.insert(b.key(), host_copy(b.value()));
  std::string pickle;
  torch::jit::Pickler pickler([&](const char* data, size_t size) { pickle.append(data, size); }, nullptr, nullptr,
                              nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(c10::IValue(weights));
  pickler.stop();
  std::string archive;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
      archive.append(static_cast<const char*>(data), size);
      return size;
    });
    torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
  }
  write_file_atomically(path, archive);
}

}  // namespace halo
