// Fixed-point sine/cosine of a phase given as a fraction of one turn: uint64 phase, 2^64 = one full turn
// (2*pi). A position's angle is p * f in wrapping uint64 arithmetic, which is exactly (p * f) mod 1 turn, so
// the angle is exact for every position and the only error is the evaluation below. Integer-only: no libm,
// no float, identical bits on every architecture.
//
// Method: quarter-wave table of 4097 unsigned Q31 entries (top 2 phase bits = quadrant, next 12 bits =
// table index), linear interpolation with the next 32 phase bits. Error budget (real units):
// interpolation h^2/8 with h = 2*pi/2^14 -> 1.84e-8, table rounding 2^-32, final rounding 2^-32.
#pragma once

#include <cstdint>

namespace ordinal::numerics {

// Angle of position `pos` for frequency `freq` (turn fraction per position step): pos * freq mod 2^64.
// Negative positions wrap correctly (-k * f == 2^64 - k*f), so deltas compose: phase(a) + phase(b) ==
// phase(a + b) exactly.
constexpr uint64_t phase_for(int64_t pos, uint64_t freq) {
  return static_cast<uint64_t>(pos) * freq;
}

// One quarter of a turn and one half turn, as phases.
constexpr uint64_t kQuarterTurn = uint64_t{1} << 62;
constexpr uint64_t kHalfTurn = uint64_t{1} << 63;

// Q31 (int32, value/2^31): |result - sin| <= 2^-24 for every phase (analysis 1.9e-8; +1 saturates to
// INT32_MAX, an error of 2^-31). Round to nearest.
int32_t sin_q31(uint64_t phase);
int32_t cos_q31(uint64_t phase);
// Q15 (int16, value/2^15): Q31 result rounded half-to-even; |error| <= 0.5 + 2^-9 LSB, except that values
// that round to +1.0 saturate to 32767, so the overall bound is 1 LSB (2^-15).
int16_t sin_q15(uint64_t phase);
int16_t cos_q15(uint64_t phase);

void sincos_q31(uint64_t phase, int32_t* sin_out, int32_t* cos_out);
void sincos_q15(uint64_t phase, int16_t* sin_out, int16_t* cos_out);

// Unsigned Q31 sin over the first quadrant: r in [0, 2^62] (2^62 = a quarter turn); result in [0, 2^31];
// interpolation rounded half up; |error| <= 1.9e-8 (< 2^-24).
// Exposed for the tests that check the table and the interpolation bound.
uint32_t quarter_sine_q31(uint64_t r);
// The committed table (kQuarterSineEntries entries), for verification against long double.
constexpr int kQuarterSineEntries = 4097;
const uint32_t* quarter_sine_table_q31();

}  // namespace ordinal::numerics
