// ALiBi (Press et al.): attention logit bias -slope_h * distance, with per-head slopes built exactly as the
// paper's reference / BLOOM do for any head count n: with n' = the largest power of two <= n, heads
// 0..n'-1 get 2^(-8(h+1)/n'), and the remaining n - n' heads get every other slope of the 2n' sequence,
// 2^(-8(2j+1)/(2n')), j = 0..n-n'-1.
//
// Slopes are unsigned Q0.32 (uint32, value = s / 2^32), each the round-to-nearest of the exact 2^(-r),
// built by integer multiplication of committed Q1.63 constants 2^(-2^-i) (no libm). All slopes lie in
// [2^-8, 1), so Q0.32 keeps >= 24 significant bits (relative error <= 2^-25). Slopes are exact powers of
// two only when every exponent 8k/n' is an integer: n in {1, 2, 4, 8}; for n >= 16 some are 2^(-k/2^m).
#pragma once

#include <cstdint>

#include "ordinal/status.hpp"

namespace ordinal::positional {

constexpr int kMaxAlibiHeads = 1 << 20;

// Exponent of head `head`'s slope as a reduced fraction: slope = 2^(-numerator / denominator),
// denominator a power of two. Requires 1 <= n_heads <= kMaxAlibiHeads and 0 <= head < n_heads.
void alibi_slope_exponent(int n_heads, int head, int64_t* numerator, int64_t* denominator);

// slopes[n_heads] in unsigned Q0.32, round to nearest (|error| <= 0.5 + 2^-25 LSB of Q0.32).
Status alibi_slopes_q32(int n_heads, uint32_t* slopes);

enum class AlibiForm {
  kSymmetric,  // -slope * |i - j| (bidirectional encoders)
  kCausal,     // -slope * (i - j); meant for j <= i (for j > i the value is positive and must be masked)
};

// Exact integer bias in Q32.32 (int64, value = b / 2^32): -slope * distance, with the distance saturated
// to [-(2^31 - 1), 2^31 - 1] so the product always fits. i = query position, j = key position.
int64_t alibi_bias_q32(uint32_t slope_q32, int64_t query_pos, int64_t key_pos, AlibiForm form);

// The float bias: one conversion of the exact integer (int64 -> float, round to nearest even; the 2^-32
// scaling is exact), so |error| <= 2^-24 relative and the bits are the same on every target.
float alibi_bias_f32(uint32_t slope_q32, int64_t query_pos, int64_t key_pos, AlibiForm form);

// bias[k] = alibi_bias_f32(slope, query_pos, key_pos0 + k, form) for k < n_keys.
void alibi_bias_row(uint32_t slope_q32, int64_t query_pos, int64_t key_pos0, int n_keys, AlibiForm form,
                    float* bias);
// logits[k] += alibi_bias_f32(...) (a second float rounding happens in the addition).
void alibi_add_bias_row(uint32_t slope_q32, int64_t query_pos, int64_t key_pos0, int n_keys, AlibiForm form,
                        float* logits);

// The committed Q1.63 factors 2^(-2^-(i+1)), for verification.
int alibi_root_table_size();
const uint64_t* alibi_root_table_q63();

}  // namespace ordinal::positional
