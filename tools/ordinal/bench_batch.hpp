// `ordinal bench MODEL --batch N`: N sequences decoded together in one BatchSession against the same N run
// one after another in a Session each (the same prompts, greedy, so both do the same work and produce the
// same tokens), in one run: aggregate decode tokens/s (wall and per CPU-second), per-sequence latency per
// token and to completion, and the batched/sequential ratio.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/bench_variants.hpp"

namespace ordinal::cli {

struct BatchBenchSettings {
  int64_t sequences = 4;
  int64_t steps = 128;         // decode steps per sequence
  int64_t prompt_tokens = 32;  // per sequence
  int64_t repeat = 3;          // the median is reported
};

// Prints one table row per (variant, threads, mode) and a ratio line; appends the figures to `runs` as
// JSON objects (nlohmann::json array, passed opaque to keep the header light). Returns an exit code.
int bench_batch(const std::string& name, const std::vector<BenchVariant>& variants,
                const std::vector<int64_t>& threads, const BatchBenchSettings& s, void* json_runs);

}  // namespace ordinal::cli
