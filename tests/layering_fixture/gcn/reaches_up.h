#pragma once
// A layer that reaches up into the trainer: check_layering.cmake must refuse it.
#include "gcn/model.h"
#include "train/trainer.h"
