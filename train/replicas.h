#pragma once
// The model's replicas on the ranks of a job: DESIGN rule 2 relies on every rank holding the same
// weights and applying the same update to them.
#include <cstdint>

#include "comm/communicator.h"
#include "gcn/model.h"

namespace halo {

// Like DistributedDataParallel: every rank starts from rank 0's weights and buffers, whatever its
// seed. Collective.
void broadcast_weights(Model& model, Communicator& comm);

// A fingerprint of the weights' bits, compared with rank 0's after a step, catches any drift at
// the step that caused it. Collective. Throws Error naming the epoch, how many ranks differ and
// (on those ranks) this one.
void check_replicas(const Model& model, Communicator& comm, int64_t epoch);

}  // namespace halo
