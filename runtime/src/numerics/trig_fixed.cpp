#include "numerics/trig_fixed.hpp"

#include "numerics/fixed_point.hpp"

namespace ordinal::numerics {

namespace {
#include "numerics/trig_table.inc"

static_assert(sizeof(kQuarterSineQ31) / sizeof(kQuarterSineQ31[0]) == kQuarterSineEntries, "table size");
static_assert(kQuarterSineBits == 12, "index bits below assume a 4096-interval quarter wave");

constexpr int kIndexShift = 62 - kQuarterSineBits;  // 50: bits below the table index are the fraction
constexpr int kFractionShift = kIndexShift - 32;    // keep the top 32 fraction bits

// Signed Q31 value in [-2^31, 2^31] (one more than int32 can hold on the positive side).
int64_t sine_q31_wide(uint64_t phase) {
  const uint64_t quadrant = phase >> 62;
  const uint64_t r = phase & (kQuarterTurn - 1);
  // Quadrants 1 and 3 run the quarter wave backwards: sin(pi/2 + x) = sin(pi/2 - x).
  const uint64_t mirrored = (quadrant & 1) ? kQuarterTurn - r : r;
  const int64_t magnitude = quarter_sine_q31(mirrored);
  return (quadrant & 2) ? -magnitude : magnitude;
}

}  // namespace

const uint32_t* quarter_sine_table_q31() {
  return kQuarterSineQ31;
}

uint32_t quarter_sine_q31(uint64_t r) {
  if (r >= kQuarterTurn) return kQuarterSineQ31[kQuarterSineEntries - 1];
  const uint64_t index = r >> kIndexShift;
  const uint64_t fraction = (r >> kFractionShift) & 0xffffffffu;
  // The quarter wave is increasing, so the step is non-negative and the product (< 2^20 * 2^32) fits.
  const uint64_t step = kQuarterSineQ31[index + 1] - kQuarterSineQ31[index];
  return kQuarterSineQ31[index] + static_cast<uint32_t>((step * fraction + (uint64_t{1} << 31)) >> 32);
}

int32_t sin_q31(uint64_t phase) {
  return saturate_int32(sine_q31_wide(phase));
}
int32_t cos_q31(uint64_t phase) {
  return saturate_int32(sine_q31_wide(phase + kQuarterTurn));
}

int16_t sin_q15(uint64_t phase) {
  return saturate_int16(rounding_shift_right_half_even(sine_q31_wide(phase), 16));
}
int16_t cos_q15(uint64_t phase) {
  return saturate_int16(rounding_shift_right_half_even(sine_q31_wide(phase + kQuarterTurn), 16));
}

void sincos_q31(uint64_t phase, int32_t* sin_out, int32_t* cos_out) {
  *sin_out = sin_q31(phase);
  *cos_out = cos_q31(phase);
}

void sincos_q15(uint64_t phase, int16_t* sin_out, int16_t* cos_out) {
  *sin_out = sin_q15(phase);
  *cos_out = cos_q15(phase);
}

}  // namespace ordinal::numerics
