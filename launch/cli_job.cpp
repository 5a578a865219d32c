#include "launch/cli_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "core/error.h"

namespace halo::cli {

std::shared_ptr<Communicator> job_world(double deadline_s) {
  std::shared_ptr<Communicator> comm = mpi_world();
  comm->set_deadline(std::chrono::milliseconds(static_cast<int64_t>(deadline_s * 1000)));
  if (comm->rank() > 0 && spdlog::get_level() == spdlog::level::info) spdlog::set_level(spdlog::level::warn);
  return comm;
}

PartitionMeta job_partition(const std::string& dir, const Communicator& comm, const std::string& command) {
  PartitionMeta meta = read_partition_meta(dir);
  if (meta.num_parts != comm.size()) {
    throw UsageError(fmt::format("{} has {} parts but the job has {} ranks: run mpirun -np {} halo {} --parts {}", dir,
                                 meta.num_parts, comm.size(), meta.num_parts, command, dir));
  }
  return meta;
}

}  // namespace halo::cli
