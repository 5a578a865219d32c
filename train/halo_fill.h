#pragma once
// The exchange between layers as an autograd operation: forward broadcasts the inner rows to the
// ranks holding them as halo, giving rows for all columns [inner | halo]; backward reduces the
// halo rows' gradients into their owners' rows. So the model's backward pass sends halo
// gradients home by itself, and layers never see MPI.
#include <ATen/core/Tensor.h>

#include <string>

#include "comm/halo_exchange.h"
#include "gcn/graph_layer.h"

namespace halo {

// inner: [num_inner, F] -> [num_inner + num_halo, F]. `tag` tells exchanges in flight apart (the
// layer); `what` names it in deadline errors ("epoch 3, layer 1"). `scale` ([num_halo], optional)
// multiplies the received rows, and so the gradients sent back (BNS-GCN's 1 / ratio). `exchange`
// must outlive the backward pass.
at::Tensor halo_fill(HaloExchange& exchange, const at::Tensor& inner, int tag, const std::string& what,
                     const at::Tensor& scale = {});

// The same split in two (--overlap): posts the bcast of `inner` and returns at once; the
// LateHalo waits for the rows, [num_halo, F], scaled. Backward mirrors it: the halo rows'
// gradients are posted as soon as they are known (the layer computes them first) and added into
// `inner`'s gradient last, so the inner rows' backward runs while they travel. LibTorch's engine
// runs the later node of a forward first, which gives that order.
LateHalo halo_post(HaloExchange& exchange, const at::Tensor& inner, int tag, const std::string& what,
                   const at::Tensor& scale = {});

// An evaluation's exchange (no gradients flow back), whose parts are the peers' rows, one round
// each (HaloExchange::bcast_by_peer): a layer that adds its halo columns up then holds one peer's
// rows at a time, not the whole halo. Asked whole, it is one bcast. The exchange's plan must be
// the Block's full halo.
LateHalo halo_stream(HaloExchange& exchange, const at::Tensor& inner, int tag, const std::string& what);

}  // namespace halo
