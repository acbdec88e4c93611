// Whole-file reads for the host tools (checkpoints, JSON, tokenizers, evaluation text). Every input is
// hostile: only regular files are read (a FIFO, device or directory is refused before anything blocks:
// the file is opened O_NONBLOCK and checked with fstat), and never more than a cap per kind of file, so
// /dev/zero, /dev/urandom or a multi-gigabyte file cannot grow memory without bound.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/status.hpp"

namespace ordinal::importers {

// Caps on what the host tools read into memory (docs/trust-boundary.md, "Host tools").
constexpr uint64_t kMaxCheckpointBytes = uint64_t{8} << 30;  // llama2.c / safetensors weights
constexpr uint64_t kMaxJsonBytes = uint64_t{64} << 20;       // config.json, tokenizer.json, task specs
constexpr uint64_t kMaxTokenizerBytes = uint64_t{64} << 20;  // llama2.c tokenizer.bin
constexpr uint64_t kMaxTextBytes = uint64_t{256} << 20;      // verify --text (read as a stream)

// Opens `path` for reading if it is a regular file: O_NONBLOCK (opening a FIFO never waits for a writer),
// fstat, then blocking mode again. Returns the descriptor (the caller closes it) and the file's size.
Result<int> open_regular_file(const std::string& path, uint64_t* size);

// The bytes of the regular file at `path`: kIoError naming the path when it cannot be opened or read or is
// not a regular file, kInvalidArgument when it is larger than `max_bytes`, kOutOfMemory when the buffer
// cannot be allocated.
Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_bytes = kMaxCheckpointBytes);

}  // namespace ordinal::importers
