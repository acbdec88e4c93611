// Shared by the importer fuzz targets: the importers read paths, so each input is written to a regular
// file in a per-process scratch directory first (the same checks a user's file goes through).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ordinal::fuzz {

inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string d = "/tmp/ordinal-fuzz-" + std::to_string(getpid());
    std::system(("mkdir -p '" + d + "'").c_str());
    return d;
  }();
  return dir;
}

inline bool write_file(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

}  // namespace ordinal::fuzz
