// `ordinal bench --weights f32,f16,int8 --kv f32,int8`: the same model converted in memory to each weight
// format (weight_quantize.cpp) and run with each KV cache type, so one run compares them on the same
// inputs and thread counts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"

namespace ordinal::cli {

struct BenchVariant {
  std::string weights;  // "file" (as stored) or f32 | f16 | int8
  KvCacheType kv = KvCacheType::kF32;
  std::shared_ptr<const Model> model;
  double load_ms = 0;
  std::shared_ptr<uint8_t> buffer;  // 64-byte aligned model image the model was loaded from (converted)
};

// Splits "a,b,c"; every item must be one of `allowed`.
Result<std::vector<std::string>> parse_choice_list(const std::string& value,
                                                   const std::vector<std::string>& allowed,
                                                   const std::string& flag);

// One variant per (weights, kv) pair, in that order; `weights` empty means the file as stored. Models
// converted from the same file share nothing but the input.
Result<std::vector<BenchVariant>> make_bench_variants(const std::string& path,
                                                      const std::vector<std::string>& weights,
                                                      const std::vector<KvCacheType>& kv);

}  // namespace ordinal::cli
