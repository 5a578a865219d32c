#pragma once
// The set-up every command run under mpirun on a partition shares (train, predict).
#include <memory>
#include <string>

#include "comm/communicator.h"
#include "partition/partition_dir.h"

namespace halo::cli {

// The job's MPI world, waiting `deadline_s` seconds for a peer. One set of progress messages per
// job: ranks above 0 log only warnings and errors.
std::shared_ptr<Communicator> job_world(double deadline_s);

// DIR's partition meta; a UsageError unless it has one part per rank, advising
// `mpirun -np K halo <command> --parts DIR`.
PartitionMeta job_partition(const std::string& dir, const Communicator& comm, const std::string& command);

}  // namespace halo::cli
