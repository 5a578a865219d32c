#pragma once
// Errors Halo reports to its user. Messages name the file/line, rank or epoch and what was
// expected, so a bad input is a sentence, never a crash.
#include <stdexcept>
#include <string>

namespace halo {

// A failed step at run time: bad input file, I/O failure, unreachable peer (exit code 1).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request that cannot be satisfied as given: bad flag value, unknown preset (exit code 2).
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace halo
