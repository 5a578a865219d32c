// A partition directory's meta.json on arbitrary bytes.
#include "core/error.h"
#include "fuzz_support.h"
#include "partition/partition_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halo::fuzz::write_parts("parts", data, size, {"meta.json"});
  try {
    halo::read_partition_meta((halo::fuzz::scratch() / "parts").string());
  } catch (const halo::Error&) {
  }
  return 0;
}
