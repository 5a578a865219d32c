#pragma once
// Halo's library in one include: data sets, partitions, the layer library and the Trainer.
//   #include <halo/halo.h>   (an installed Halo: find_package(Halo), target Halo::halo)
// Each header also stands alone, as <halo/gcn/model.h> or "gcn/model.h".
#include "comm/communicator.h"
#include "datasets/dataset.h"
#include "datasets/dataset_source.h"
#include "datasets/plain_loader.h"
#include "datasets/presets.h"
#include "gcn/checkpoint_model.h"
#include "gcn/dropout.h"
#include "gcn/export_weights.h"
#include "gcn/gat_conv.h"
#include "gcn/gcn_conv.h"
#include "gcn/graph_layer.h"
#include "gcn/graph_ops.h"
#include "gcn/message_passing.h"
#include "gcn/model.h"
#include "gcn/sage_conv.h"
#include "partition/partition_dir.h"
#include "partition/partitioner.h"
#include "sampling/block.h"
#include "train/trainer.h"
