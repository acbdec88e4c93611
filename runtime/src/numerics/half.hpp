// IEEE 754 binary16 <-> binary32 conversion by bit manipulation (no F16C/NEON dependency), so that the
// same bits come out on x86-64, aarch64 and armhf whatever the compiler's _Float16 support is.
#pragma once

#include <cstdint>

namespace ordinal::numerics {

// Exact (every half is a float): subnormals normalized, +-0, +-inf kept, NaN payload kept in the top
// mantissa bits.
float half_to_float(uint16_t h);

// Round to nearest, ties to even (IEEE default): |error| <= 1/2 ulp of the half result. |x| >= 65520 gives
// +-inf; |x| <= 2^-25 gives +-0; results below 2^-14 are correctly rounded subnormals. NaN stays NaN (quiet,
// top payload bits kept).
uint16_t float_to_half(float f);

}  // namespace ordinal::numerics
