// IEEE 754 binary16 <-> binary32 conversion by bit manipulation (no F16C/NEON dependency), so that the
// same bits come out on x86-64, aarch64 and armhf whatever the compiler's _Float16 support is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ordinal::numerics {

// Zero, subnormal, inf and NaN halves (exponent field 0 or 31): the out-of-line part of half_to_float.
float half_to_float_special(uint16_t h);

// Exact (every half is a float): subnormals normalized, +-0, +-inf kept, NaN payload kept in the top
// mantissa bits. Inline because weight widening and f16 rows call it per element: a normal half only
// rebiases its exponent (15 -> 127, + 112 << 23 after the shift), with no branch on the value beyond that.
inline float half_to_float(uint16_t h) {
  const uint32_t exponent_field = h & 0x7c00u;
  if (exponent_field == 0 || exponent_field == 0x7c00u) return half_to_float_special(h);
  const uint32_t bits = (static_cast<uint32_t>(h & 0x8000u) << 16) | (((h & 0x7fffu) << 13) + 0x38000000u);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// out[i] = half_to_float(h[i]) (or out[i] += it when `accumulate`), the same bits. Spans without subnormal,
// inf or NaN halves (the usual case for weights and position tables) take a branch-free loop that the
// compiler vectorizes; others convert element by element.
void halves_to_floats(const uint16_t* h, size_t n, float* out, bool accumulate);

// Round to nearest, ties to even (IEEE default): |error| <= 1/2 ulp of the half result. |x| >= 65520 gives
// +-inf; |x| <= 2^-25 gives +-0; results below 2^-14 are correctly rounded subnormals. NaN stays NaN (quiet,
// top payload bits kept).
uint16_t float_to_half(float f);

}  // namespace ordinal::numerics
