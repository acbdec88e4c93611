// Applies the model's positional scheme inside the forward pass. Three hooks cover every scheme:
// add a position vector to the embedding (tables, sinusoidal), rotate q/k (RoPE), bias attention logits
// (ALiBi, relative bias). The encoder reads the mapped model; it owns only small per-model constants.
#pragma once

#include <cstdint>
#include <vector>

#include "model_data.hpp"
#include "ordinal/status.hpp"
#include "positional/position_buckets.hpp"
#include "positional/relative_bias.hpp"

namespace ordinal::positional {

class PositionalEncoder {
 public:
  static Result<PositionalEncoder> create(const detail::ModelData& model);

  // Error unless the model can address `pos` (policy applied).
  Status check_position(int64_t pos) const;

  bool adds_to_embedding() const { return adds_; }
  // x[dim] += P(pos). `scratch` holds at least dim floats (and rank floats for low-rank).
  void add_to_embedding(int64_t pos, float* x, float* scratch) const;

  bool rotates() const { return scheme_ == PositionalScheme::kRope; }
  // Rotates n_heads head vectors of head_dim floats (contiguous) to position `pos`.
  void rotate(int64_t pos, float* heads, uint32_t n_heads) const;

  bool biases_attention() const {
    return scheme_ == PositionalScheme::kAlibi || scheme_ == PositionalScheme::kRelativeBias;
  }
  // bias[j] = b(head, query_pos, key_pos0 + j) for j < n.
  void attention_bias(uint32_t head, int64_t query_pos, int64_t key_pos0, size_t n, float* bias) const;

  // Multiplier on q·k logits (YaRN attention temperature), 1 otherwise.
  float logit_scale() const { return logit_scale_; }
  // Radians per position of an f32-precision RoPE model (empty otherwise), for positional::RopeShift.
  const std::vector<float>& f32_frequencies() const { return f32_frequencies_; }
  // Scratch floats add_to_embedding needs.
  size_t scratch_floats() const { return scratch_floats_; }

 private:
  void add_table_row(const format::TensorView& table, uint32_t row, float weight, float* x,
                     float* scratch) const;
  void add_stored_position(int64_t stored_row, float weight, float* x, float* scratch) const;
  uint32_t bucket_of(int64_t pos) const;

  const detail::ModelData* model_ = nullptr;
  const detail::PositionalParams* p_ = nullptr;
  PositionalScheme scheme_ = PositionalScheme::kNone;
  bool adds_ = false;
  uint32_t dim_ = 0, head_dim_ = 0, n_heads_ = 0;
  float logit_scale_ = 1.0f;
  size_t scratch_floats_ = 0;
  std::vector<float> f32_frequencies_;  // radians per position, computed as llama2.c / HF do (F32 precision)
  T5BucketTable t5_;                    // relative bias buckets
  PositionBucketMap buckets_;           // bucketed absolute tables: position -> stored row
  std::vector<float> bias_scales_;      // int8 relative-bias scales widened once
};

}  // namespace ordinal::positional
