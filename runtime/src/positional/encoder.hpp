// Applies the model's positional scheme inside the forward pass through its module (positional/scheme.hpp).
// Three hooks cover every scheme: add a position vector to the embedding (tables, sinusoidal), rotate q/k
// (RoPE), bias attention logits (ALiBi, relative bias). create() runs the module's checks once; the hooks
// then run unchecked. The encoder reads the mapped model; it owns only small per-model constants.
#pragma once

#include <cstdint>
#include <vector>

#include "model_data.hpp"
#include "ordinal/status.hpp"
#include "positional/scheme.hpp"

namespace ordinal::positional {

class PositionalEncoder {
 public:
  static Result<PositionalEncoder> create(const detail::ModelData& model);

  // Error unless the model can address `pos` (policy applied).
  Status check_position(int64_t pos) const;

  bool adds_to_embedding() const { return module_->add_to_embedding != nullptr; }
  // x[dim] += P(pos). `scratch` holds at least scratch_floats() floats. pos passed check_position.
  void add_to_embedding(int64_t pos, float* x, float* scratch) const {
    module_->add_to_embedding(state_, pos, x, scratch);
  }

  bool rotates() const { return module_->rotate != nullptr; }
  // Rotates n_heads head vectors of head_dim floats (contiguous) to position `pos`.
  void rotate(int64_t pos, float* heads, uint32_t n_heads) const {
    module_->rotate(state_, pos, heads, n_heads);
  }

  bool biases_attention() const { return module_->attention_bias != nullptr; }
  // bias[j] = b(head, query_pos, key_pos0 + j) for j < n.
  void attention_bias(uint32_t head, int64_t query_pos, int64_t key_pos0, size_t n, float* bias) const {
    module_->attention_bias(state_, head, query_pos, key_pos0, n, bias);
  }

  // Multiplier on q·k logits (YaRN attention temperature), 1 otherwise.
  float logit_scale() const { return state_.logit_scale; }
  // Radians per position of an f32-precision RoPE model (empty otherwise), for positional::RopeShift.
  const std::vector<float>& f32_frequencies() const { return state_.f32_frequencies; }
  // Scratch floats add_to_embedding needs.
  size_t scratch_floats() const { return state_.scratch_floats; }
  // Bytes the encoder precomputed at create (the F32 RoPE angle table), for Session::memory_bytes().
  size_t table_bytes() const { return state_.rope_angle_table.size() * sizeof(float); }
  const SchemeModule& module() const { return *module_; }

  // Table schemes: the stored position vectors, as add_to_embedding adds them (SchemeModule::stored_row).
  bool has_stored_rows() const { return module_->stored_row != nullptr; }
  uint32_t stored_positions() const { return state_.stored_positions; }
  uint32_t distinct_rows() const { return state_.distinct_rows; }
  // out[dim] = vector of stored position row < stored_positions(); scratch holds scratch_floats().
  void stored_row(uint32_t row, float* out, float* scratch) const {
    module_->stored_row(state_, row, out, scratch);
  }

 private:
  const SchemeModule* module_ = &kNoPositionModule;
  EncoderState state_;
};

}  // namespace ordinal::positional
