#pragma once
// Writing a small file so that readers see either the old content or the new, never half of it.
#include <string>

namespace halo {

// Writes `bytes` to "<path>.tmp", checks that every byte reached the disk, and renames it over
// `path`; throws Error naming the file otherwise.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace halo
