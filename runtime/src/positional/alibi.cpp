#include "positional/alibi.hpp"

#include <string>

#include "numerics/strict_float.hpp"  // no FMA contraction in the definitions below

namespace ordinal::positional {

namespace {
#include "positional/alibi_table.inc"

constexpr uint64_t kOneQ63 = uint64_t{1} << 63;

// Q1.63 x Q1.63 -> Q1.63: round half up of a * b / 2^63 (|error| <= 1/2 LSB), a, b <= 2^63, with a portable
// 64x64 -> 128 product from 32-bit halves (armhf has no __int128).
uint64_t mul_q63(uint64_t a, uint64_t b) {
  const uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
  const uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
  uint64_t lo = (ll & 0xffffffffu) | (mid << 32);
  uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  const uint64_t rounded = lo + (uint64_t{1} << 62);
  if (rounded < lo) ++hi;
  lo = rounded;
  return (hi << 1) | (lo >> 63);
}

int largest_power_of_two_at_most(int n) {
  int p = 1;
  while (p <= n / 2) p *= 2;
  return p;
}

// Saturates i - j (computed without overflow) to +-(2^31 - 1).
int64_t saturated_difference(int64_t i, int64_t j) {
  constexpr int64_t kLimit = (int64_t{1} << 31) - 1;
  if (i >= j) {
    const uint64_t d = static_cast<uint64_t>(i) - static_cast<uint64_t>(j);  // modular, exact here
    return d > static_cast<uint64_t>(kLimit) ? kLimit : static_cast<int64_t>(d);
  }
  const uint64_t d = static_cast<uint64_t>(j) - static_cast<uint64_t>(i);
  return d > static_cast<uint64_t>(kLimit) ? -kLimit : -static_cast<int64_t>(d);
}

}  // namespace

int alibi_root_table_size() {
  return kRootOfHalfEntries;
}
const uint64_t* alibi_root_table_q63() {
  return kRootOfHalfQ63;
}

void alibi_slope_exponent(int n_heads, int head, int64_t* numerator, int64_t* denominator) {
  const int closest = largest_power_of_two_at_most(n_heads);
  int64_t num, den;
  if (head < closest) {
    num = 8 * int64_t{head + 1};
    den = closest;
  } else {
    num = 8 * (2 * int64_t{head - closest} + 1);
    den = 2 * int64_t{closest};
  }
  while (den > 1 && num % 2 == 0) {
    num /= 2;
    den /= 2;
  }
  *numerator = num;
  *denominator = den;
}

Status alibi_slopes_q32(int n_heads, uint32_t* slopes) {
  if (n_heads < 1 || n_heads > kMaxAlibiHeads) {
    return invalid_argument("alibi: n_heads=" + std::to_string(n_heads) + " must be in [1, 2^20]");
  }
  if (slopes == nullptr) return invalid_argument("alibi: slopes output is null");
  for (int h = 0; h < n_heads; ++h) {
    int64_t num, den;
    alibi_slope_exponent(n_heads, h, &num, &den);
    int fraction_bits = 0;
    while ((int64_t{1} << fraction_bits) < den) ++fraction_bits;  // den = 2^fraction_bits <= 2^21
    const int64_t integer_part = num >> fraction_bits;            // <= 7 (slopes are >= 2^-8)
    const int64_t fraction = num & (den - 1);
    // 2^(-fraction / 2^b) = product over set bits of the fraction: bit of weight 2^-i contributes
    // 2^(-2^-i) = kRootOfHalfQ63[i - 1].
    uint64_t acc = kOneQ63;
    for (int i = 1; i <= fraction_bits; ++i) {
      if ((fraction >> (fraction_bits - i)) & 1) acc = mul_q63(acc, kRootOfHalfQ63[i - 1]);
    }
    // Q1.63 * 2^-integer_part -> Q0.32, rounded half up (the value is positive).
    const int shift = 31 + static_cast<int>(integer_part);
    slopes[h] = static_cast<uint32_t>((acc + (uint64_t{1} << (shift - 1))) >> shift);
  }
  return Status::Ok();
}

int64_t alibi_bias_q32(uint32_t slope_q32, int64_t query_pos, int64_t key_pos, AlibiForm form) {
  int64_t distance = saturated_difference(query_pos, key_pos);
  if (form == AlibiForm::kSymmetric && distance < 0) distance = -distance;
  return -(static_cast<int64_t>(slope_q32) * distance);  // |.| < 2^32 * 2^31: exact
}

float alibi_bias_f32(uint32_t slope_q32, int64_t query_pos, int64_t key_pos, AlibiForm form) {
  return static_cast<float>(alibi_bias_q32(slope_q32, query_pos, key_pos, form)) * 0x1p-32f;
}

void alibi_bias_row(uint32_t slope_q32, int64_t query_pos, int64_t key_pos0, int n_keys, AlibiForm form,
                    float* bias) {
  for (int k = 0; k < n_keys; ++k) bias[k] = alibi_bias_f32(slope_q32, query_pos, key_pos0 + k, form);
}

void alibi_add_bias_row(uint32_t slope_q32, int64_t query_pos, int64_t key_pos0, int n_keys, AlibiForm form,
                        float* logits) {
  for (int k = 0; k < n_keys; ++k) logits[k] += alibi_bias_f32(slope_q32, query_pos, key_pos0 + k, form);
}

}  // namespace ordinal::positional
