// A checkpoint's manifest (state.json) and one of its files on arbitrary bytes: the manifest is
// validated, then every file it lists is read against its size and checksum.
#include "core/error.h"
#include "fuzz_support.h"
#include "gcn/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halo::fuzz::write_parts("checkpoint", data, size, {"state.json", "epoch-000001/model.pt"});
  const std::string dir = (halo::fuzz::scratch() / "checkpoint").string();
  try {
    const halo::CheckpointState state = halo::read_checkpoint_state(dir);
    for (const auto& [name, digest] : state.files) halo::read_checkpoint_file(dir, state, name);
  } catch (const halo::Error&) {
  }
  return 0;
}
