#include "numerics/half.hpp"

#include <cstring>

namespace ordinal::numerics {

namespace {

float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint32_t float_to_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

}  // namespace

float half_to_float_special(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) return bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
  if (mantissa == 0) return bits_to_float(sign);
  // Subnormal half m * 2^-24: shift the leading one up to the implicit-bit position.
  uint32_t float_exponent = 113;  // biased exponent of 2^-14, lowered once per shift
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    --float_exponent;
  }
  return bits_to_float(sign | (float_exponent << 23) | ((mantissa & 0x3ffu) << 13));
}

namespace {

// A normal half or +-0 as float bits: the exponent rebiased (15 -> 127), or the sign alone.
inline float normal_half_to_float(uint16_t h) {
  const uint32_t magnitude = h & 0x7fffu;
  const uint32_t bits =
      (static_cast<uint32_t>(h & 0x8000u) << 16) | (magnitude != 0 ? (magnitude << 13) + 0x38000000u : 0u);
  return bits_to_float(bits);
}

}  // namespace

void halves_to_floats(const uint16_t* __restrict h, size_t n, float* __restrict out, bool accumulate) {
  // Inf/NaN (magnitude >= 0x7c00) or subnormal (magnitude 1..0x3ff), in 16-bit lanes.
  uint16_t needs_special = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t magnitude = h[i] & 0x7fffu;
    needs_special |= static_cast<uint16_t>((magnitude >= 0x7c00u) |
                                           (static_cast<uint16_t>(magnitude - 1u) < uint16_t{0x3ffu}));
  }
  if (needs_special != 0) {
    for (size_t i = 0; i < n; ++i) {
      const float v = half_to_float(h[i]);
      out[i] = accumulate ? out[i] + v : v;
    }
  } else if (accumulate) {
    for (size_t i = 0; i < n; ++i) out[i] += normal_half_to_float(h[i]);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = normal_half_to_float(h[i]);
  }
}

uint16_t float_to_half(float f) {
  const uint32_t bits = float_to_bits(f);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t magnitude = bits & 0x7fffffffu;

  if (magnitude >= 0x7f800000u) {  // inf or NaN
    if (magnitude == 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u);
    // Force the quiet bit so a payload that lives only in the dropped low bits still reads as NaN.
    return static_cast<uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
  }
  // 65520 is the midpoint between 65504 (largest half) and 2^16; the tie goes to the even side, 2^16 = inf.
  if (magnitude >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);

  if (magnitude >= 0x38800000u) {  // result is a normal half (>= 2^-14)
    // Rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest even; a mantissa carry
    // correctly bumps the exponent.
    const uint32_t rebiased = magnitude - 0x38000000u;
    const uint32_t rounded = rebiased + 0x0fffu + ((rebiased >> 13) & 1u);
    return static_cast<uint16_t>(sign | (rounded >> 13));
  }
  if (magnitude < 0x33000000u) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to zero

  // Subnormal half: value / 2^-24 = significand * 2^(e - 126) with shift 126 - e in [14, 24].
  const uint32_t exponent = magnitude >> 23;
  const uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - exponent;
  uint32_t quotient = significand >> shift;
  const uint32_t remainder = significand & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (remainder > half || (remainder == half && (quotient & 1u))) ++quotient;  // may carry into 2^-14
  return static_cast<uint16_t>(sign | quotient);
}

}  // namespace ordinal::numerics
