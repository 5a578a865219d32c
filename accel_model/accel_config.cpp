#include "accel_model/accel_config.h"

#include <fmt/format.h>

#include <fstream>

#include "accel_model/window_cost.h"
#include "core/error.h"
#include "core/json_integer.h"

namespace halo {

// Defaults. The accelerator is the paper's: 4096 floating-point MACs at 330 MHz on a Stratix 10
// SX 2800, whose 11,721 M20K blocks hold 30,005,760 bytes, on a card with four DDR4-2400
// channels (76.8 GB/s). The baseline, AWB-GCN, has the same array, memory and buffer, no
// islandization, and runs its sparse products column by column with workload rebalancing.
// Two constants are fitted, each a calibration = 1 / the MAC array's utilisation, to the
// latencies of I-GCN's Table 2 on Cora and PubMed only (geometric mean of paper / ideal over the
// two, 2-layer GCN hidden 16, PubMed at its 10% input density): I-GCN 1.18 (85% of its MACs
// busy: 1.28 on Cora, 1.09 on PubMed), AWB-GCN 2.19 (46% busy: 2.23, 2.16), in line with
// AWB-GCN's report that rebalancing raises utilisation 7.7x from its unbalanced design.
//
// Islandizer, chosen on Cora and PubMed (sweep in docs/igcn.md): k = 2, because island blocks of
// sparse graphs rarely hold 3 of 4 neighbours in a window, so k = 4 window sums seldom pay;
// c_max = 16, the island size the k = 2 blocks gain most from (larger caps let islands grow in
// chains, not denser); th0 = the largest degree and decay 0.8, so hubs come in gently and BFS
// tasks find islands before a third of the nodes are hubs (decay 0.5 makes 32% of Cora hubs,
// 0.8 makes 22%); tasks by hub degree, as the paper issues them from hubs' neighbour lists.
AccelConfig default_accel_config() {
  AccelConfig c;
  c.islandizer(IslandizerOptions().th0(0).decay(0.8).c_max(16).task_order(TaskOrder::hub_degree)).window(2);
  c.igcn(AcceleratorOptions().calibration(1.18));
  c.baseline(AcceleratorOptions().name("AWB-GCN").calibration(2.19).islandization(false));
  return c;
}

namespace {

const char* task_order_name(TaskOrder o) { return o == TaskOrder::hub_degree ? "hub_degree" : "node_id"; }

nlohmann::json to_json(const AcceleratorOptions& a) {
  return {{"name", a.name()},
          {"macs", a.macs()},
          {"clock_mhz", a.clock_mhz()},
          {"calibration", a.calibration()},
          {"bandwidth_gb_per_s", a.bandwidth_gb_per_s()},
          {"on_chip_bytes", a.on_chip_bytes()},
          {"islandization", a.islandization()}};
}

AcceleratorOptions accelerator_from_json(const nlohmann::json& j) {
  return AcceleratorOptions()
      .name(j.at("name").get<std::string>())
      .macs(json_integer<int64_t>(j.at("macs")))
      .clock_mhz(j.at("clock_mhz").get<double>())
      .calibration(j.at("calibration").get<double>())
      .bandwidth_gb_per_s(j.at("bandwidth_gb_per_s").get<double>())
      .on_chip_bytes(json_integer<int64_t>(j.at("on_chip_bytes")))
      .islandization(j.at("islandization").get<bool>());
}

std::string kind_of(const nlohmann::json& v) {
  if (v.is_object()) return "an object";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  return "something else";
}

// Writes the fields of `from` into `into`, which holds every known field with its default.
void overlay(nlohmann::json& into, const nlohmann::json& from, const std::string& prefix, const std::string& where) {
  if (!from.is_object()) {
    throw Error(fmt::format("{}: {} must be an object", where, prefix.empty() ? "the top level" : "'" + prefix + "'"));
  }
  for (const auto& [key, value] : from.items()) {
    const std::string field = prefix.empty() ? key : prefix + "." + key;
    if (!into.contains(key)) throw Error(fmt::format("{}: unknown field '{}'", where, field));
    nlohmann::json& slot = into[key];
    // A float default takes an integer too (330 for 330.0); the reverse would truncate.
    const bool fits = kind_of(slot) == kind_of(value) || (slot.is_number_float() && value.is_number());
    if (!fits) throw Error(fmt::format("{}: field '{}' must be {}, got {}", where, field, kind_of(slot), value.dump()));
    if (slot.is_object()) {
      overlay(slot, value, field, where);
    } else {
      slot = value;
    }
  }
}

void check_accelerator(const AcceleratorOptions& a, const std::string& field) {
  auto bad = [&](const char* name, const std::string& rule, const std::string& got) {
    throw UsageError(fmt::format("{}.{} must be {}, got {}", field, name, rule, got));
  };
  if (a.macs() < 1) bad("macs", ">= 1", std::to_string(a.macs()));
  if (!(a.clock_mhz() > 0)) bad("clock_mhz", "> 0", fmt::format("{}", a.clock_mhz()));
  if (!(a.calibration() > 0)) bad("calibration", "> 0", fmt::format("{}", a.calibration()));
  if (!(a.bandwidth_gb_per_s() > 0)) bad("bandwidth_gb_per_s", "> 0", fmt::format("{}", a.bandwidth_gb_per_s()));
  if (a.on_chip_bytes() < 0) bad("on_chip_bytes", ">= 0", std::to_string(a.on_chip_bytes()));
}

}  // namespace

nlohmann::json to_json(const AccelConfig& c) {
  const IslandizerOptions& i = c.islandizer();
  return {{"islandizer",
           {{"th0", i.th0()},
            {"decay", i.decay()},
            {"c_max", i.c_max()},
            {"task_order", task_order_name(i.task_order())},
            {"window", c.window()}}},
          {"igcn", to_json(c.igcn())},
          {"baseline", to_json(c.baseline())}};
}

void check_accel_config(const AccelConfig& c) {
  check_islandizer_options(c.islandizer());
  if (c.window() != 2 && c.window() != 4) {
    throw UsageError(fmt::format("islandizer.window must be 2 or 4, got {}", c.window()));
  }
  check_accelerator(c.igcn(), "igcn");
  check_accelerator(c.baseline(), "baseline");
}

AccelConfig accel_config_from_json(const nlohmann::json& j, const std::string& where) {
  nlohmann::json merged = to_json(default_accel_config());
  overlay(merged, j, "", where);
  const nlohmann::json& i = merged.at("islandizer");
  const std::string order = i.at("task_order").get<std::string>();
  if (order != "hub_degree" && order != "node_id") {
    throw UsageError(
        fmt::format("{}: field 'islandizer.task_order' must be hub_degree or node_id, got '{}'", where, order));
  }
  AccelConfig c;
  c.islandizer(IslandizerOptions()
                   .th0(i.at("th0").get<double>())
                   .decay(i.at("decay").get<double>())
                   .c_max(json_integer<int32_t>(i.at("c_max")))
                   .task_order(order == "hub_degree" ? TaskOrder::hub_degree : TaskOrder::node_id));
  c.window(json_integer<int>(i.at("window")));
  c.igcn(accelerator_from_json(merged.at("igcn")));
  c.baseline(accelerator_from_json(merged.at("baseline")));
  try {
    check_accel_config(c);
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("{}: {}", where, e.what()));
  }
  return c;
}

AccelConfig load_accel_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open accelerator configuration", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number out of range
    throw Error(fmt::format("{}: not valid JSON: {}", path, e.what()));
  }
  return accel_config_from_json(j, path);
}

}  // namespace halo
