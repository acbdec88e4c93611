// Rotary position embedding (RoPE) with exact angles: each pair (a, b) of a head vector is rotated by
// pos * freq_j, where freq_j is a uint64 fraction of a turn and the product wraps (exactly pos * freq mod 1
// turn), so there is no loss at large positions. sin/cos come from numerics/trig_fixed (integer-only).
//
// Frequencies come from quant/rope_frequencies (theta_j = base^(-2j/rotary_dims) / (2 pi) * 2^64, plus any
// context-extension scaling). Head vectors are contiguous: head h occupies [h * head_dim, (h+1) * head_dim).
#pragma once

#include <cstdint>

#include "numerics/trig_fixed.hpp"
#include "ordinal/status.hpp"

namespace ordinal::positional {

using numerics::phase_for;

enum class RopeLayout {
  kInterleaved,  // pairs (2j, 2j+1): llama2.c, GGML/llama.cpp "normal" mode, Meta's complex view
  kSplitHalf,    // pairs (j, j + rotary_dims/2): GPT-NeoX, HF rotate_half
};

enum class RopePrecision {
  kF32,  // f32 data only: sin/cos of the exactly reduced angle via libm (accurate ~6e-8, not bit-exact)
  kQ15,  // int16 Q15 sin/cos (<= 1 LSB = 3.1e-5), bit-exact everywhere
  kQ31,  // int32 Q31 sin/cos (<= 2^-24 = 6.0e-8), bit-exact everywhere
};

struct RopeShape {
  int head_dim = 0;
  int rotary_dims = 0;  // even, <= head_dim; dims [rotary_dims, head_dim) are left untouched (partial rotary)
  RopeLayout layout = RopeLayout::kInterleaved;
  const uint64_t* freqs = nullptr;  // rotary_dims / 2 turn fractions per position step
};

// Checks head_dim > 0, rotary_dims even in [2, head_dim], freqs non-null.
Status validate_rope_shape(const RopeShape& shape);

// Index of the two elements of pair j inside a head vector.
inline int rope_pair_first(const RopeShape& s, int j) {
  return s.layout == RopeLayout::kInterleaved ? 2 * j : j;
}
inline int rope_pair_second(const RopeShape& s, int j) {
  return s.layout == RopeLayout::kInterleaved ? 2 * j + 1 : j + s.rotary_dims / 2;
}

// Per-pair cos/sin for one position (cache them when many tensors share a position).
// Q15: each value within 1 LSB of exact. Q31: within 2^-24.
void rope_sincos_q15(const uint64_t* freqs, int pairs, int64_t pos, int16_t* cos_out, int16_t* sin_out);
void rope_sincos_q31(const uint64_t* freqs, int pairs, int64_t pos, int32_t* cos_out, int32_t* sin_out);

// (a) f32 data, in place: a' = a*c - b*s, b' = a*s + b*c in float with c, s from `precision`.
// Error per component vs exact rotation of the input: <= (|a| + |b|) * (E_trig + 2^-23) where E_trig is
// 2^-15 (kQ15), 2^-24 (kQ31, + 2^-25 float rounding of the Q31 value) or ~6e-8 (kF32).
Status rope_rotate_f32(float* heads, int n_heads, const RopeShape& shape, int64_t pos,
                       RopePrecision precision);
// The same rotation without the argument checks, for hot loops whose shape was validated once at create
// (validate_rope_shape) and whose heads/n_heads come from a planned buffer.
void rope_rotate_f32_unchecked(float* heads, int n_heads, const RopeShape& shape, int64_t pos,
                               RopePrecision precision);

// (b) int16 data in any Q format (e.g. Q12); the format is unchanged by a rotation. Integer-only:
// 64-bit products with Q15 (or Q31) sin/cos, rounded half-to-even, saturated to int16.
// Error per component vs exact rotation, unless saturated: <= 0.5 + (|a| + |b|) * 2^-15 LSB with kQ15
// (<= 2.5 LSB for any int16 input), <= 0.5 + (|a| + |b|) * 2^-24 LSB with kQ31.
// `precision` must be kQ15 or kQ31.
Status rope_rotate_int16(int16_t* heads, int n_heads, const RopeShape& shape, int64_t pos,
                         RopePrecision precision = RopePrecision::kQ15);

// (c) int8 data with a float scale (per tensor, per head or per row: any scale shared by both members of a
// pair). A rotation preserves norms, so the scale is kept unchanged and not passed in. Integer-only:
// int8 x Q15 products, rounded half-to-even, saturated to the symmetric range [-127, 127].
// Error per component unless saturated: <= 0.5 + (|a| + |b|) * 2^-15 LSB (<= 0.508 LSB). A pair whose
// norm exceeds 127.5 can saturate at some angles: quantize with scale >= max pair norm / 127 to avoid it.
Status rope_rotate_int8(int8_t* heads, int n_heads, const RopeShape& shape, int64_t pos);
// Unchecked, as rope_rotate_f32_unchecked.
void rope_rotate_int8_unchecked(int8_t* heads, int n_heads, const RopeShape& shape, int64_t pos);

// Reference of how most runtimes compute RoPE (llama2.c, HF in float32): float angle = pos * freq,
// cosf/sinf(angle). `freqs_radians` holds rotary_dims/2 radians per position step. Its angle error grows with
// pos (float ulp of pos * freq); kept to demonstrate and test that drift, not for production use.
void rope_rotate_f32_reference(float* heads, int n_heads, int head_dim, int rotary_dims, RopeLayout layout,
                               const float* freqs_radians, int64_t pos);

}  // namespace ordinal::positional
