// `ordinal run MODEL --batch FILE`: every prompt of FILE (one per line) in one BatchSession, printed in
// input order, each exactly what `ordinal run MODEL -p PROMPT` prints with the same flags (the batch's
// logits are bit-identical to a lone session's, and each prompt has its own sampler with the same seed),
// outputs separated by one empty line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"

namespace ordinal::cli {

struct RunFlags {
  int64_t steps = 256;  // as given (0: the model's context)
  int64_t seed = 42;
  int64_t shift = 0;
  uint32_t threads = 0;  // clamped already
  KvCacheType kv = KvCacheType::kF32;
  double temperature = 1.0, top_p = 0.9;
};

// One prompt per line ('\n'; a trailing '\r' is dropped; the newline that ends the file ends the last
// prompt). False when the file cannot be read.
bool read_prompt_lines(const std::string& path, std::vector<std::string>* prompts);

// Runs the prompts and prints their outputs; returns the process exit code.
int run_batch(const std::shared_ptr<const Model>& model, const std::vector<std::string>& prompts,
              const RunFlags& flags);

}  // namespace ordinal::cli
