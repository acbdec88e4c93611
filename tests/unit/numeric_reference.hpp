// Long-double references shared by the positional-numerics tests. Host-side only: libm is fine here.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace ordinal::test {

constexpr long double kPiL = 3.14159265358979323846264338327950288L;
constexpr long double kTwoPiL = 2 * kPiL;

// True when long double carries at least 64 mantissa bits (x86-64, aarch64); references that need
// position * theta to ~1e-10 rad at p ~ 2^31 are only meaningful then.
constexpr bool kExtendedLongDouble = std::numeric_limits<long double>::digits >= 64;

// Angle of a phase (2^64 = one turn) reduced to [-pi, pi): exact two's-complement reinterpretation.
inline long double phase_to_radians(uint64_t phase) {
  const int64_t signed_phase =
      phase < (uint64_t{1} << 63) ? static_cast<int64_t>(phase) : -static_cast<int64_t>(~phase) - 1;
  return std::ldexp(static_cast<long double>(signed_phase), -64) * kTwoPiL;
}
inline long double sin_of_phase(uint64_t phase) {
  return std::sin(phase_to_radians(phase));
}
inline long double cos_of_phase(uint64_t phase) {
  return std::cos(phase_to_radians(phase));
}

// theta_i = base^(-2i/d) radians per position (RoPE and Vaswani sinusoidal frequencies).
inline long double theta_radians(long double base, int i, int d) {
  return std::pow(base, -2.0L * i / static_cast<long double>(d));
}
// theta as a turn fraction * 2^64, rounded to nearest (what quant/rope_frequencies must produce).
inline uint64_t turns_to_u64(long double turns) {
  turns -= std::floor(turns);
  const long double scaled = std::round(std::ldexp(turns, 64));
  return scaled >= std::ldexp(1.0L, 64) ? 0 : static_cast<uint64_t>(scaled);
}
inline uint64_t theta_turns_u64(long double base, int i, int d) {
  return turns_to_u64(theta_radians(base, i, d) / kTwoPiL);
}

// sin(p * theta) reduced in turns first, so the reference keeps ~1e-10 rad at p ~ 2^31 (extended only).
inline long double sin_of_position(int64_t p, long double theta) {
  long double turns = static_cast<long double>(p) * (theta / kTwoPiL);
  turns -= std::nearbyint(turns);
  return std::sin(turns * kTwoPiL);
}
inline long double cos_of_position(int64_t p, long double theta) {
  long double turns = static_cast<long double>(p) * (theta / kTwoPiL);
  turns -= std::nearbyint(turns);
  return std::cos(turns * kTwoPiL);
}

}  // namespace ordinal::test
