// Whole-file reads for the importers (host side: checkpoints are read once, then converted).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/status.hpp"

namespace ordinal::importers {

// The bytes of the file at `path`; an io error naming the path when it cannot be opened or read.
Result<std::vector<uint8_t>> read_file(const std::string& path);

}  // namespace ordinal::importers
