// The plain-text dataset loader on arbitrary files: meta.txt, edges.txt, labels.txt,
// features.txt, train.txt, val.txt, test.txt, cut from the input at "\n---\n".
#include "core/error.h"
#include "datasets/plain_loader.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  halo::fuzz::write_parts("plain", data, size,
                          {"meta.txt", "edges.txt", "labels.txt", "features.txt", "train.txt", "val.txt", "test.txt"});
  try {
    halo::load_plain((halo::fuzz::scratch() / "plain").string());
  } catch (const halo::Error&) {
  }
  return 0;
}
