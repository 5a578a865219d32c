#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/archive.h"
#include "test_support.h"

namespace halo {
namespace {

std::string write_sample(const test::TempDir& dir) {
  const std::string path = dir.path("sample.bin");
  std::vector<int32_t> ids{3, 1, 4, 1, 5};
  at::Tensor x = at::arange(12, at::kFloat).reshape({4, 3});
  ArchiveWriter w(path, "HALOTEST", 1);
  w.add("ids", ids);
  w.add("x", x);
  w.add_json("meta", nlohmann::json{{"name", "sample"}});
  w.finish();
  return path;
}

TEST(Archive, RoundTrip) {
  test::TempDir dir;
  const std::string path = write_sample(dir);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  ArchiveReader r(path, "HALOTEST", 1);
  EXPECT_EQ(r.vector<int32_t>("ids"), (std::vector<int32_t>{3, 1, 4, 1, 5}));
  EXPECT_TRUE(r.tensor("x", 4, 3).equal(at::arange(12, at::kFloat).reshape({4, 3})));
  EXPECT_EQ(r.json("meta")["name"], "sample");
  EXPECT_FALSE(r.has("nope"));
}

TEST(Archive, RejectsBadFiles) {
  test::TempDir dir;
  const std::string path = write_sample(dir);
  test::expect_error([&] { ArchiveReader(path, "HALODSET", 1); }, {path, "expected magic 'HALODSET'"});
  test::expect_error([&] { ArchiveReader(path, "HALOTEST", 2); }, {path, "version 1 is not supported"});
  ArchiveReader ok(path, "HALOTEST", 1);
  test::expect_error([&] { ok.vector<int64_t>("ids"); }, {"section 'ids' holds i32, expected i64"});
  test::expect_error([&] { ok.vector<int32_t>("ids", 6); }, {"section 'ids' has shape 5x1"});
  test::expect_error([&] { ok.tensor("missing"); }, {"missing section 'missing'"});

  const auto size = std::filesystem::file_size(path);
  std::filesystem::copy_file(path, dir.path("cut.bin"));
  std::filesystem::resize_file(dir.path("cut.bin"), size - 10);
  test::expect_error([&] { ArchiveReader(dir.path("cut.bin"), "HALOTEST", 1); }, {"cut.bin", "truncated"});
  std::filesystem::resize_file(dir.path("cut.bin"), 10);
  test::expect_error([&] { ArchiveReader(dir.path("cut.bin"), "HALOTEST", 1); }, {"truncated"});

  // Flip one byte of the last section's data.
  std::filesystem::copy_file(path, dir.path("flip.bin"));
  {
    std::fstream f(dir.path("flip.bin"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 3));
    f.put('X');
  }
  ArchiveReader flipped(dir.path("flip.bin"), "HALOTEST", 1);
  test::expect_error([&] { flipped.json("meta"); }, {"checksum mismatch in section 'meta'"});
  test::expect_error([&] { ArchiveReader(dir.path("absent.bin"), "HALOTEST", 1); }, {"cannot open", "absent.bin"});
}

}  // namespace
}  // namespace halo
