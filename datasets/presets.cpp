#include "datasets/presets.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/error.h"
#include "datasets/community_generator.h"
#include "datasets/rmat_generator.h"

namespace halo {
namespace {

using PresetOptions = std::variant<CommunityOptions, RmatOptions>;

struct Preset {
  std::string name;
  std::string summary;
  PresetOptions options;
};

// Community presets keep the node, class and feature counts and the split of the graphs they
// imitate; homophily is their measured edge homophily (Reddit ~0.76, ogbn-products ~0.81); the
// degree exponent 2.5 gives hubs tens to hundreds of times the mean degree, like both. Degree 50
// (Reddit has ~490) keeps reddit-sim at ~12 M edges. feature_snr is set so raw features alone
// classify poorly and one aggregation step helps a lot (see test_generators).
const std::vector<Preset>& presets() {
  static const std::vector<Preset> table = {
      {"tiny", "community graph for tests: 400 nodes, 4 classes, 16 features, degree 8",
       CommunityOptions()
           .name("tiny")
           .num_nodes(400)
           .num_classes(4)
           .num_features(16)
           .average_degree(8)
           .homophily(0.8)
           .feature_snr(1.5)},
      {"community", "community graph for the demo: 20,000 nodes, 8 classes, 64 features, degree 20, hubs",
       CommunityOptions()
           .name("community")
           .num_nodes(20000)
           .num_classes(8)
           .num_features(64)
           .average_degree(20)
           .homophily(0.8)
           .degree_exponent(2.5)
           .feature_snr(1.0)},
      {"reddit-sim", "Reddit-sized community graph: 232,965 nodes, 41 classes, 602 features, degree 50",
       CommunityOptions()
           .name("reddit-sim")
           .num_nodes(232965)
           .num_classes(41)
           .num_features(602)
           .average_degree(50)
           .homophily(0.76)
           .degree_exponent(2.5)
           .feature_snr(1.0)
           .train_fraction(0.66)
           .val_fraction(0.10)},
      {"products-sim", "ogbn-products-sized community graph: 2,449,029 nodes, 47 classes, 100 features, degree 50",
       CommunityOptions()
           .name("products-sim")
           .num_nodes(2449029)
           .num_classes(47)
           .num_features(100)
           .average_degree(50)
           .homophily(0.81)
           .degree_exponent(2.5)
           .feature_snr(1.0)
           .train_fraction(0.08)
           .val_fraction(0.02)},
      {"rmat", "R-MAT graph for scale: 2^20 nodes, degree 16, 16 classes, 64 features", RmatOptions().name("rmat")},
  };
  return table;
}

const Preset* find_preset(const std::string& name) {
  for (const Preset& p : presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> valid_keys(const PresetOptions& options) {
  if (std::holds_alternative<CommunityOptions>(options)) {
    return {"nodes", "scale", "degree", "classes", "features", "homophily", "snr", "seed"};
  }
  return {"nodes", "scale", "degree", "classes", "features", "snr", "seed"};
}

// Reads all of `text` as a T (an integer or a double), or throws UsageError.
template <class T>
T parse_value(const std::string& spec, const std::string& key, const std::string& text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      (std::is_floating_point_v<T> && !std::isfinite(static_cast<double>(value)))) {
    throw UsageError(fmt::format("preset spec '{}': {} needs {}, got '{}'", spec, key,
                                 std::is_floating_point_v<T> ? "a number" : "an integer", text));
  }
  return value;
}

// Sets one override (every key but scale) on a generator's options.
template <class Options>
void apply_override(Options& o, const std::string& spec, const std::string& key, const std::string& value) {
  if (key == "nodes") o.num_nodes(parse_value<int64_t>(spec, key, value));
  if (key == "degree") o.average_degree(parse_value<double>(spec, key, value));
  if (key == "classes") o.num_classes(parse_value<int64_t>(spec, key, value));
  if (key == "features") o.num_features(parse_value<int64_t>(spec, key, value));
  if (key == "snr") o.feature_snr(parse_value<double>(spec, key, value));
  if (key == "seed") o.seed(parse_value<uint64_t>(spec, key, value));
  if constexpr (std::is_same_v<Options, CommunityOptions>) {
    if (key == "homophily") o.homophily(parse_value<double>(spec, key, value));
  }
}

// Splits "a=1,b=2" into (key, value) pairs, checking each key against `keys`.
std::vector<std::pair<std::string, std::string>> parse_overrides(const std::string& spec, const std::string& list,
                                                                 const std::string& preset,
                                                                 const std::vector<std::string>& keys) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= list.size() && !list.empty()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      throw UsageError(fmt::format("preset spec '{}': expected key=value, got '{}'", spec, item));
    }
    const std::string key = item.substr(0, eq);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      throw UsageError(fmt::format("preset spec '{}': unknown key '{}' for preset '{}'; valid keys: {}", spec, key,
                                   preset, fmt::join(keys, ", ")));
    }
    for (const auto& [k, v] : out) {
      if (k == key) throw UsageError(fmt::format("preset spec '{}': key '{}' given twice", spec, key));
    }
    out.emplace_back(key, item.substr(eq + 1));
    start = comma + 1;
  }
  return out;
}

template <class Options>
Dataset generate(Options o, const std::string& spec,
                 const std::vector<std::pair<std::string, std::string>>& overrides) {
  double scale = 1;
  for (const auto& [key, value] : overrides) {
    if (key == "scale") {
      scale = parse_value<double>(spec, key, value);
      if (!(scale > 0)) {
        throw UsageError(fmt::format("preset spec '{}': scale must be > 0, got {}", spec, value));
      }
    } else {
      apply_override(o, spec, key, value);
    }
  }
  // Clamped so an absurd scale reaches the generator's range check instead of overflowing.
  o.num_nodes(std::llround(std::min(static_cast<double>(o.num_nodes()) * scale, 1e18)));
  if (!overrides.empty()) o.name(spec);
  try {
    if constexpr (std::is_same_v<Options, CommunityOptions>) {
      return generate_community(o);
    } else {
      return generate_rmat(o);
    }
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("preset spec '{}': {}", spec, e.what()));
  }
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : presets()) names.push_back(p.name);
  return names;
}

std::string describe_presets() {
  std::string text;
  for (const Preset& p : presets()) text += fmt::format("{:<14}{}\n", p.name, p.summary);
  return text;
}

bool is_preset(const std::string& spec) { return find_preset(spec.substr(0, spec.find(':'))) != nullptr; }

Dataset generate_preset(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  const Preset* preset = find_preset(name);
  if (preset == nullptr) {
    throw UsageError(fmt::format("unknown preset '{}'; valid presets: {}", name, fmt::join(preset_names(), ", ")));
  }
  const std::string list = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const auto overrides = parse_overrides(spec, list, name, valid_keys(preset->options));
  return std::visit([&](const auto& options) { return generate(options, spec, overrides); }, preset->options);
}

}  // namespace halo
