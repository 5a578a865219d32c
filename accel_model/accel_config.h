#pragma once
// AccelConfig: the accelerator models and islandizer parameters `halo igcn` uses. The defaults
// are compiled in (default_accel_config()); accel_model/igcn_default.json holds the same values
// as an editable starting point for --accel. A file may leave fields out (they keep their
// default); an unknown field, a wrong type or a bad value is an error naming the file and field.
#include <torch/arg.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "accel_model/islandizer.h"

namespace halo {

// One accelerator: a MAC array at a clock, an off-chip memory and an on-chip buffer.
struct AcceleratorOptions {
  TORCH_ARG(std::string, name) = "I-GCN";
  TORCH_ARG(int64_t, macs) = 4096;
  TORCH_ARG(double, clock_mhz) = 330;
  // Multiplies the ideal compute time ops / (macs · clock): 1 / the MAC array's utilisation.
  TORCH_ARG(double, calibration) = 1.0;
  TORCH_ARG(double, bandwidth_gb_per_s) = 76.8;
  TORCH_ARG(int64_t, on_chip_bytes) = 30005760;
  // Whether it islandizes (I-GCN) or runs the plain adjacency (the baseline, AWB-GCN).
  TORCH_ARG(bool, islandization) = true;
};

struct AccelConfig {
  TORCH_ARG(IslandizerOptions, islandizer);
  TORCH_ARG(int, window) = 2;  // k of the redundancy removal (window_cost.h)
  TORCH_ARG(AcceleratorOptions, igcn);
  TORCH_ARG(AcceleratorOptions, baseline);
};

AccelConfig default_accel_config();

// Reads `path` on top of the defaults. Unreadable or malformed files throw Error; values out of
// range throw UsageError; both name the file and the field.
AccelConfig load_accel_config(const std::string& path);

// `where` names the source in errors (a file name).
AccelConfig accel_config_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json to_json(const AccelConfig& c);

// Throws UsageError naming the first bad field.
void check_accel_config(const AccelConfig& c);

}  // namespace halo
