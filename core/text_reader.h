#pragma once
// Line-by-line reading of text files, plain or gzip-compressed (zlib reads both), with
// field parsing whose errors name the file, the line and what was expected.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct gzFile_s* gzFile;

namespace halo {

class TextReader {
 public:
  explicit TextReader(std::string path);
  ~TextReader();
  TextReader(const TextReader&) = delete;
  TextReader& operator=(const TextReader&) = delete;

  // Advances to the next line (without its "\n" or "\r\n"); false at end of file.
  bool next_line();
  std::string_view line() const { return line_; }
  int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

  // Splits the current line at `delimiter` (' ' also splits at tabs and runs of blanks) and
  // requires exactly `count` fields, described by `names` (e.g. "src dst") in the error.
  void split(char delimiter, size_t count, std::string_view names);
  size_t field_count() const { return fields_.size(); }

  // The i-th field of the last split, parsed; `what` names it in errors.
  int64_t integer(size_t i, std::string_view what) const;
  // An integer in [0, bound).
  int64_t index(size_t i, int64_t bound, std::string_view what) const;
  float real(size_t i, std::string_view what) const;

  // Throws Error("path:line: message").
  [[noreturn]] void fail(std::string_view message) const;

 private:
  bool fill();

  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  std::string carry_;
  std::string_view line_;
  int64_t line_number_ = 0;
  std::vector<std::string_view> fields_;
};

}  // namespace halo
