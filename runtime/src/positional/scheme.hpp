// A positional scheme family as one module: its loader checks, its position limit, the checks and constants
// it builds when a session is created, and its hooks into the forward pass (add a vector to the embedding,
// rotate q/k, bias attention logits). Modules are plain tables of function pointers, registered in one
// table (scheme_registry.cpp) — the shape of TFLite Micro's per-op registration: no RTTI, no virtual
// dispatch, a missing hook is a null pointer, and adding a scheme means adding a module and a table row.
//
// Split of work (XNNPACK's create/setup/run): `load` verifies the file, `prepare` validates everything the
// hooks rely on and precomputes per-model constants, and the hooks run unchecked in the decode loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "format/load_checks.hpp"
#include "format/schema_enums.hpp"  // the enum pairs scheme modules cast
#include "model_data.hpp"
#include "ordinal/status.hpp"
#include "positional/position_buckets.hpp"
#include "positional/relative_bias.hpp"
#include "positional/rope_fixed.hpp"

namespace ordinal::positional {

// Per-model constants a module builds in `prepare` and its hooks read. Owned by the session's encoder;
// points into the loaded model, which outlives it.
struct EncoderState {
  const detail::ModelData* model = nullptr;
  const detail::PositionalParams* p = nullptr;
  uint32_t dim = 0, head_dim = 0, n_heads = 0;
  float logit_scale = 1.0f;       // multiplier on q·k logits (YaRN attention temperature)
  size_t scratch_floats = 0;      // floats add_to_embedding and stored_row need in `scratch`
  uint32_t stored_positions = 0;  // table schemes: positions with a stored vector
  uint32_t distinct_rows = 0;     // table schemes: vectors actually stored (< stored_positions: shared)

  // RoPE.
  RopeShape rope_shape;  // validated in prepare; freqs point into the model
  RopePrecision rope_precision = RopePrecision::kQ15;
  std::vector<float> f32_frequencies;  // radians per position of an F32-precision RoPE model
  // F32 RoPE: cosf/sinf of pos * f32_frequencies[j] for positions [0, rope_table_positions), computed in
  // prepare (session create) so that the forward pass never evaluates them: [pos][pair] {cos, sin}.
  std::vector<float> rope_angle_table;
  uint32_t rope_table_positions = 0;
  // Sinusoidal.
  RopePrecision sin_precision = RopePrecision::kQ15;
  // Tables.
  PositionBucketMap buckets;  // absolute tables: position -> stored row
  // Relative bias.
  T5BucketTable t5;
  std::vector<float> bias_scales;  // int8 relative-bias scales widened once
  // Low-rank and hybrid tails with int8 B rows of rank <= kLowRankFusedMaxRank: B's row scales widened
  // once (prepare_lowrank), and add_lowrank_row takes the one-pass kernel.
  static constexpr uint32_t kLowRankFusedMaxRank = 64;
  bool lowrank_fused = false;
  float lowrank_b_scales[kLowRankFusedMaxRank] = {};
};

struct SchemeModule {
  PositionalScheme scheme;
  schema::Positional block;  // the FlatBuffers union member that carries this scheme
  const char* name;          // positional_scheme_name()

  // Checks the scheme's block against the config and fills `out` (views into the file).
  Status (*load)(const format::Ctx& ctx, const schema::Model& model, const ModelConfig& config,
                 detail::PositionalParams* out);
  // Positions 0 .. limit-1 are addressable (after the out-of-range policy).
  int64_t (*position_limit)(const detail::PositionalParams& p);
  // At session create: validates what the hooks rely on, precomputes constants into `state`.
  Status (*prepare)(const detail::ModelData& model, EncoderState* state);

  // Hooks; null when the scheme does not use that point of the forward pass. Unchecked: positions were
  // checked against position_limit and buffers planned at create.
  // x[dim] += P(pos).
  void (*add_to_embedding)(const EncoderState& s, int64_t pos, float* x, float* scratch);
  // Rotates n_heads contiguous head vectors (head_dim floats each) to position pos.
  void (*rotate)(const EncoderState& s, int64_t pos, float* heads, uint32_t n_heads);
  // bias[j] = b(head, query_pos, key_pos0 + j), j < n.
  void (*attention_bias)(const EncoderState& s, uint32_t head, int64_t query_pos, int64_t key_pos0, size_t n,
                         float* bias);
  // Table schemes: out[dim] = the vector of stored position `row` (< stored_positions), computed by the same
  // kernels add_to_embedding uses. Tools (quantize's error report, verify's identity check) reconstruct
  // tables through it, so the figures they print are the runtime's own arithmetic.
  void (*stored_row)(const EncoderState& s, uint32_t row, float* out, float* scratch);
};

// The module of a scheme; every PositionalScheme value has one (test_positional_registry walks them all),
// null for a value outside the enum.
const SchemeModule* find_scheme(PositionalScheme scheme);
// The module whose FlatBuffers block this is; null for an unknown union type.
const SchemeModule* find_scheme_for_block(schema::Positional block);

// The modules (defined one per file, positional/scheme_*.cpp).
extern const SchemeModule kNoPositionModule;
extern const SchemeModule kLearnedTableModule;
extern const SchemeModule kCodebookTableModule;
extern const SchemeModule kBucketedTableModule;
extern const SchemeModule kLowRankTableModule;
extern const SchemeModule kSinusoidalModule;
extern const SchemeModule kRopeModule;
extern const SchemeModule kAlibiModule;
extern const SchemeModule kRelativeBiasModule;
extern const SchemeModule kHybridTableModule;

// Bytes of the F32 RoPE angle table prepare() builds for `model` (0 for other schemes and precisions), for
// the session memory plan.
uint64_t rope_angle_table_bytes(const detail::ModelData& model);

}  // namespace ordinal::positional
