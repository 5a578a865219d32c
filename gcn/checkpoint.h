#pragma once
// A Trainer checkpoint folder on disk:
//   DIR/state.json                the manifest, renamed into place last: it names a complete checkpoint
//   DIR/epoch-NNNNNN/model.pt     weights (torch::save), optimizer.pt (Adam state),
//                                 pipeline-K.pt (rank K's rows and gradients in flight, PipeGCN)
//   DIR/.lock                     held (flock) by the run that uses the folder
// state.json records each file's size and CRC-32; a reader gets the bytes of a file only after
// they match, and every field of state.json is checked against the others before it is trusted.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/atomic_file.h"

namespace halo {

struct CheckpointState {
  int64_t epoch = 0;  // epochs done: the next one to run
  uint64_t seed = 0;
  int64_t ranks = 1;
  bool pipeline = false;
  int64_t best_epoch = -1;
  double best_train = 0, best_val = 0, best_test = 0;  // accuracies at best_epoch
  std::map<std::string, FileDigest> files;             // in the epoch's folder
  nlohmann::json to_json() const;
};

// "epoch-NNNNNN", the folder of the checkpoint after `epoch` epochs.
std::string checkpoint_folder(int64_t epoch);

// DIR/state.json, validated: format and version, epoch >= 0 and the folder it names, best epoch
// before it, accuracies in [0, 1], plain file names with sizes and checksums, model.pt and
// optimizer.pt among them. Throws Error naming the file and field.
CheckpointState read_checkpoint_state(const std::string& dir);
void write_checkpoint_state(const std::string& dir, const CheckpointState& state);

// The bytes of `file` of the checkpoint `state` in DIR, after checking them against the manifest:
// an unlisted, missing, short, long or corrupt file is an Error naming it.
std::string read_checkpoint_file(const std::string& dir, const CheckpointState& state, const std::string& file);

// Removes the files `state` lists from its folder, and the folder if that leaves it empty:
// anything else someone put there stays.
void remove_checkpoint_files(const std::string& dir, const CheckpointState& state);

// The checkpoint folder of one run, claimed at set-up so that a problem shows before the first
// epoch: created if missing, checked writable, locked against a second run, and refused when it
// already holds something unless the run resumes (or overwrites, deleting only the checkpoint it
// replaces, once the new one is complete).
class CheckpointFolder {
 public:
  CheckpointFolder(std::string dir, bool resume, bool overwrite);
  ~CheckpointFolder();
  CheckpointFolder(const CheckpointFolder&) = delete;
  CheckpointFolder& operator=(const CheckpointFolder&) = delete;

  const std::string& dir() const { return dir_; }
  // The checkpoint the folder held when claimed (overwritten) or was last written or loaded;
  // the next save removes its files.
  std::optional<CheckpointState> previous;

 private:
  // Everything after taking the lock: its holder, the writability probe, the emptiness check.
  void claim(bool resume, bool overwrite);
  std::string dir_;
  int lock_fd_ = -1;
};

}  // namespace halo
