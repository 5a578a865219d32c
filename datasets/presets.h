#pragma once
// Named synthetic datasets and the spec that picks one: "name" or "name:key=value,key=value",
// e.g. "reddit-sim:degree=20,scale=0.1". Keys: nodes, scale (multiplies the node count), degree,
// classes, features, homophily (community presets only), snr, seed.
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace halo {

std::vector<std::string> preset_names();

// One line per preset: its name and what it imitates.
std::string describe_presets();

// True if the part of `spec` before ':' names a preset (the overrides are not checked).
bool is_preset(const std::string& spec);

// Generates the dataset `spec` names. Throws UsageError naming an unknown preset or key, or a
// bad value, with the valid choices.
Dataset generate_preset(const std::string& spec);

}  // namespace halo
