// The transforms behind `ordinal quantize` (tools/ordinal/quantize_positional.cpp; the verb in
// cmd_quantize.cpp only parses flags and prints), callable from tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modelio/model_spec.hpp"
#include "quant/metrics.hpp"

namespace ordinal::cli::quantize {

struct Options {
  std::string pos;               // positional scheme, empty: unchanged
  std::string rope_scaling;      // linear:F | ntk:F | yarn:F,ORIG
  int64_t context = 0;           // new max_positions, 0: unchanged
  std::string weights = "keep";  // f32 | f16 | int8 (tools/ordinal/weight_quantize.hpp)
  uint64_t seed = 1;
};

// What happened to a stored table (position table or relative-bias table).
struct TableReport {
  std::vector<float> original, reconstructed;  // [positions x cols]
  int64_t positions = 0;
  int cols = 0;
  int64_t bytes = 0;
  bool shares_by_design = false;
  bool is_bias_table = false;
  double energy_kept = 0;  // low-rank only
  quant::TableMetrics metrics;
  // Pair metrics (recovery, min distance, collapsed pairs) over an evenly spaced sample of
  // kExactTablePositions positions; errors over every row.
  bool metrics_sampled = false;
};
// Up to this many positions the table metrics compare every pair of positions (O(n^2)); above, a sample.
constexpr int64_t kExactTablePositions = 2048;

struct Components {
  uint64_t embedding = 0, positional = 0, attention = 0, mlp = 0, norms = 0, classifier = 0;
};
Components components(const modelio::ModelSpec& spec);

// Rewrites spec's positional component per o.pos (and o.rope_scaling / o.context). For table schemes the
// report carries reconstruction metrics; for computed schemes it is empty.
Result<TableReport> apply_positional(modelio::ModelSpec& spec, const Options& o);
// kOutOfMemory when the default session of the model `spec` describes (context = max_positions, f32 KV
// cache; Model::session_bytes) would need more than `limit` bytes.
Status check_default_session(const modelio::ModelSpec& spec, uint64_t limit);
// Converts linear weights and embeddings (f32 | f16 | int8, weight_quantize.cpp); returns the max abs
// conversion error.
Result<double> convert_weights(modelio::ModelSpec& spec, const std::string& weights);

}  // namespace ordinal::cli::quantize
