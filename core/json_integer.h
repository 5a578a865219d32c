#pragma once
// Integers from JSON files that people can edit (partition meta, configurations, checkpoint
// manifests). nlohmann's get<int64_t>() converts a float such as 7e99 by a plain cast, which is
// undefined behaviour (found by fuzzing); these accept only an integer in the target's range and
// otherwise throw nlohmann::json::type_error, which callers report with the file and field.
#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

namespace halo {

template <class T>
T json_integer(const nlohmann::json& j) {
  using limits = std::numeric_limits<T>;
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v <= static_cast<uint64_t>(limits::max())) return static_cast<T>(v);
  } else if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v >= 0 || limits::is_signed) {
      if (static_cast<long double>(v) >= static_cast<long double>(limits::min()) &&
          static_cast<long double>(v) <= static_cast<long double>(limits::max())) {
        return static_cast<T>(v);
      }
    }
  }
  throw nlohmann::json::type_error::create(
      302, fmt::format("expected an integer in [{}, {}], got {}", limits::min(), limits::max(), j.dump()), &j);
}

template <class T>
std::vector<T> json_integers(const nlohmann::json& j) {
  if (!j.is_array())
    throw nlohmann::json::type_error::create(302, "expected an array of integers, got " + j.dump(), &j);
  std::vector<T> out;
  for (const nlohmann::json& v : j) out.push_back(json_integer<T>(v));
  return out;
}

}  // namespace halo
