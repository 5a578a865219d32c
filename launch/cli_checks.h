#pragma once
// One check for every numeric option of every command (`halo` and `halo-run`): a value that is
// not finite, not whole where a count or seed is meant, negative, or out of range is a usage error
// (exit 2) naming the option and readable bounds, on the command line and in a --config file.
#include <cstdint>
#include <string>

namespace CLI {
class Option;
}

namespace halo::cli {

// The largest count an option takes (ranks, parts, epochs, hidden features): what an int holds.
constexpr uint64_t kMaxCount = 2147483647;

// The value must be a finite number in [lo, hi]; else UsageError
// "--X must be a finite number in [lo, hi], got V".
CLI::Option* number_in(CLI::Option* opt, double lo, double hi);
// The value must be a whole number without sign (counts, seeds: "-1" never wraps) in [lo, hi].
CLI::Option* whole_in(CLI::Option* opt, uint64_t lo, uint64_t hi);
// Applies the check number_in or whole_in gave `opt`, if any, to `value` (config files).
void check_value(const CLI::Option* opt, const std::string& value);
// A bound as people write it: 1000000, 0.999, 1e+30.
std::string readable(double value);

}  // namespace halo::cli
