#include "launch/cli_checks.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include "core/error.h"

namespace halo::cli {
namespace {

using Check = std::function<void(const std::string&)>;

// The checks by option, so that a config file's values meet the same check before CLI11 takes them.
std::map<const CLI::Option*, Check>& checks() {
  static std::map<const CLI::Option*, Check> table;
  return table;
}

CLI::Option* add_check(CLI::Option* opt, const std::string& description, Check check) {
  checks()[opt] = check;
  // Thrown, not returned: CLI11 would prefix its own "NAME: " to the message.
  return opt->check(CLI::Validator(
      [check](std::string& value) {
        check(value);
        return std::string();
      },
      description));
}

}  // namespace

std::string readable(double value) {
  const bool whole = std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15;
  return whole ? fmt::format("{}", static_cast<int64_t>(value)) : fmt::format("{}", value);
}

CLI::Option* number_in(CLI::Option* opt, double lo, double hi) {
  const std::string range = fmt::format("[{}, {}]", readable(lo), readable(hi));
  return add_check(opt, "NUMBER in " + range, [name = opt->get_name(), lo, hi, range](const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(value) || value < lo || value > hi) {
      throw UsageError(fmt::format("{} must be a finite number in {}, got {}", name, range, text));
    }
  });
}

CLI::Option* whole_in(CLI::Option* opt, uint64_t lo, uint64_t hi) {
  const std::string range = fmt::format("[{}, {}]", lo, hi);
  return add_check(opt, "INT in " + range, [name = opt->get_name(), lo, hi, range](const std::string& text) {
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
      throw UsageError(fmt::format("{} must be a whole number in {}, got {}", name, range, text));
    }
  });
}

void check_value(const CLI::Option* opt, const std::string& value) {
  const auto it = checks().find(opt);
  if (it != checks().end()) it->second(value);
}

}  // namespace halo::cli
