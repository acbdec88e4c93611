// The verified, immutable contents of a loaded model: typed views into the mapped file.
// Built once by the loader (format/loader.cpp); read by sessions, tools and tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/mapped_file.hpp"
#include "format/tensor_view.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/tokenizer.hpp"

namespace ordinal::detail {

class WeightPlan;

enum class OutOfRangePolicy : uint8_t { kError = 0, kClamp = 1, kInterpolate = 2 };
enum class TrigPrecision : uint8_t { kF32 = 0, kQ15 = 1, kQ31 = 2 };
enum class RopeLayoutKind : uint8_t { kInterleaved = 0, kSplitHalf = 1 };
enum class RopeScalingKind : uint8_t { kNone = 0, kLinear = 1, kNTK = 2, kYaRN = 3, kLlama3 = 4 };
enum class BucketRuleKind : uint8_t { kUniformStride = 0, kT5Log = 1 };
enum class AlibiFormKind : uint8_t { kCausal = 0, kSymmetric = 1 };

const char* out_of_range_policy_name(OutOfRangePolicy p);
const char* trig_precision_name(TrigPrecision p);

// The settings of a positional scheme: everything but its stored arrays. One type, shared by the loader
// (which fills it from the file), the runtime's scheme modules, the host tools (modelio::HostPositional
// derives from it) and the tests, so a new setting is declared once.
struct PositionalSettings {
  PositionalScheme scheme = PositionalScheme::kNone;
  OutOfRangePolicy policy = OutOfRangePolicy::kError;
  float interpolation_factor = 1.0f;

  // Bucketed tables.
  BucketRuleKind bucket_rule = BucketRuleKind::kUniformStride;
  uint32_t stride = 1;
  uint32_t num_buckets = 0;   // bucketed (T5 rule) and relative bias
  uint32_t max_distance = 0;  // bucketed (T5 rule) and relative bias

  // Sinusoidal and RoPE.
  double base = 10000.0;
  TrigPrecision precision = TrigPrecision::kF32;
  uint32_t rotary_dims = 0;  // RoPE: leading dims of each head that rotate (partial rotary < head_dim)
  RopeLayoutKind rope_layout = RopeLayoutKind::kInterleaved;
  RopeScalingKind scaling = RopeScalingKind::kNone;
  float scaling_factor = 1.0f;
  uint32_t original_context = 0;
  float beta_fast = 32.0f, beta_slow = 1.0f;              // YaRN ramp (rotations)
  float low_freq_factor = 1.0f, high_freq_factor = 4.0f;  // Llama3 band edges (original_context / factor)
  float attention_factor = 1.0f;

  // ALiBi.
  AlibiFormKind alibi_form = AlibiFormKind::kCausal;

  // Relative bias.
  bool bidirectional = false;
};

// A loaded model's positional component: the settings plus typed views of its arrays in the mapped file.
struct PositionalParams : PositionalSettings {
  uint32_t stored_positions = 0;  // positions the stored table/mapping covers

  // Table schemes.
  format::TensorView table;     // learned [P, dim], bucketed [rows, dim], relative bias [buckets, heads]
  format::TensorView codebook;  // [K, dim]
  format::TensorView indices;   // [P] u8/u16
  format::TensorView low_a;     // [P, r]
  format::TensorView low_b;     // [r, dim]
  uint32_t head_rows = 0;       // hybrid: positions stored exactly in `table` (tail in low_a/low_b)

  // Sinusoidal and RoPE.
  const uint64_t* frequencies = nullptr;  // fixed point, fraction of a turn per position
  uint32_t frequency_count = 0;

  // ALiBi.
  const uint32_t* slopes_q32 = nullptr;

  // Bytes of the positional component in the file (tables, indices, scales).
  uint64_t bytes = 0;
};

struct LayerWeights {
  format::TensorView attn_norm, attn_norm_bias;
  format::TensorView wq, wk, wv, wo;
  format::TensorView bq, bk, bv, bo;
  format::TensorView ffn_norm, ffn_norm_bias;
  format::TensorView w1, w2, w3, b1, b2;
};

struct ModelData {
  std::unique_ptr<format::MappedFile> file;
  uint32_t format_version = 0;
  ModelConfig config;
  format::TensorView token_embedding;
  std::vector<LayerWeights> layers;
  format::TensorView final_norm, final_norm_bias;
  format::TensorView classifier;  // absent when tied
  PositionalParams positional;
  Tokenizer tokenizer;
  int64_t position_limit = 0;
  std::string task_spec;
  std::vector<std::pair<std::string, std::string>> metadata;

  // The linear layers' kernels, planned once by Model::load (weight_plan.hpp) and shared by every session;
  // null when the model's weights have no kernel (weight_plan_status says why; Session::create reports it).
  std::shared_ptr<const WeightPlan> weight_plan;
  Status weight_plan_status;

  // Every present tensor, in file order of roles (for inspect and tools).
  std::vector<const format::TensorView*> tensors() const;
  // The classifier weight actually used (token embedding when tied).
  const format::TensorView& classifier_weight() const {
    return config.tied_classifier ? token_embedding : classifier;
  }
};

}  // namespace ordinal::detail
