#include "core/text_reader.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace halo {

TextReader::TextReader(std::string path) : path_(std::move(path)), buffer_(1 << 20) {
  file_ = gzopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw Error(fmt::format("cannot open {}: {}", path_, std::strerror(errno)));
  }
  gzbuffer(file_, 1 << 18);
}

TextReader::~TextReader() {
  if (file_ != nullptr) gzclose(file_);
}

bool TextReader::fill() {
  if (eof_) return false;
  const int got = gzread(file_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
  if (got < 0) {
    int code = 0;
    std::string_view msg = gzerror(file_, &code);
    // zlib's message repeats the path ("<path>: incorrect data check").
    if (msg.substr(0, path_.size() + 2) == path_ + ": ") msg.remove_prefix(path_.size() + 2);
    throw Error(fmt::format("{}: corrupt or unreadable data after line {}: {}", path_, line_number_,
                            code == Z_ERRNO ? std::strerror(errno) : msg));
  }
  if (got == 0) {
    // zlib reports a gzip stream cut short as a clean end of data plus Z_BUF_ERROR.
    int code = 0;
    gzerror(file_, &code);
    if (code == Z_BUF_ERROR) {
      throw Error(fmt::format("{}: compressed data is truncated after line {}", path_, line_number_));
    }
    eof_ = true;
    return false;
  }
  begin_ = 0;
  end_ = static_cast<size_t>(got);
  return true;
}

bool TextReader::next_line() {
  carry_.clear();
  bool carried = false;
  for (;;) {
    if (begin_ == end_ && !fill()) {
      if (!carried) return false;
      line_ = carry_;
      break;
    }
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl == nullptr) {
      carry_.append(start, end_ - begin_);
      carried = true;
      begin_ = end_;
      continue;
    }
    const size_t len = static_cast<const char*>(nl) - start;
    begin_ += len + 1;
    if (carried) {
      carry_.append(start, len);
      line_ = carry_;
    } else {
      line_ = std::string_view(start, len);
    }
    break;
  }
  if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
  ++line_number_;
  return true;
}

void TextReader::split(char delimiter, size_t count, std::string_view names) {
  fields_.clear();
  std::string_view rest = line_;
  if (delimiter == ' ') {
    size_t i = 0;
    while (i < rest.size()) {
      while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
      if (i == rest.size()) break;
      size_t j = i;
      while (j < rest.size() && rest[j] != ' ' && rest[j] != '\t') ++j;
      fields_.push_back(rest.substr(i, j - i));
      i = j;
    }
  } else if (!rest.empty()) {
    for (;;) {
      const size_t pos = rest.find(delimiter);
      fields_.push_back(rest.substr(0, pos));
      if (pos == std::string_view::npos) break;
      rest.remove_prefix(pos + 1);
    }
  }
  if (fields_.size() != count) {
    fail(fmt::format("expected {} column{} ({}), found {}", count, count == 1 ? "" : "s", names, fields_.size()));
  }
}

int64_t TextReader::integer(size_t i, std::string_view what) const {
  std::string_view f = fields_.at(i);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
  if (ec != std::errc() || end != f.data() + f.size()) {
    fail(fmt::format("expected an integer {} in column {}, got '{}'", what, i + 1, f));
  }
  return value;
}

int64_t TextReader::index(size_t i, int64_t bound, std::string_view what) const {
  const int64_t value = integer(i, what);
  if (value < 0 || value >= bound) {
    fail(fmt::format("{} {} in column {} is out of range [0, {})", what, value, i + 1, bound));
  }
  return value;
}

float TextReader::real(size_t i, std::string_view what) const {
  std::string_view f = fields_.at(i);
  float value = 0;
  const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
  if (ec != std::errc() || end != f.data() + f.size() || !std::isfinite(value)) {
    fail(fmt::format("expected a finite number {} in column {}, got '{}'", what, i + 1, f));
  }
  return value;
}

void TextReader::fail(std::string_view message) const {
  throw Error(fmt::format("{}:{}: {}", path_, line_number_, message));
}

}  // namespace halo
