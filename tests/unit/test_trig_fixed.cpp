// Fixed-point sin/cos of a turn-fraction phase: the committed table, the Q31 (2^-24) and Q15 (1 LSB)
// bounds against long double, RoPE frequencies at large positions, and a golden hash of the output bits.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "numeric_reference.hpp"
#include "numerics/fixed_point.hpp"
#include "numerics/hash64.hpp"
#include "numerics/prng.hpp"
#include "numerics/trig_fixed.hpp"

using namespace ordinal::numerics;
using ordinal::test::cos_of_phase;
using ordinal::test::sin_of_phase;

namespace {

constexpr long double kQ31Bound = 1.0L / (1 << 24);  // 2^-24
constexpr long double kQ15Lsb = 1.0L / (1 << 15);

struct ErrorTracker {
  long double max_q31 = 0, max_q15_lsb = 0, max_q15_unsaturated_lsb = 0;
  void check(uint64_t phase) {
    const long double s = sin_of_phase(phase), c = cos_of_phase(phase);
    const long double e31 =
        std::max(std::fabs(std::ldexp(static_cast<long double>(sin_q31(phase)), -31) - s),
                 std::fabs(std::ldexp(static_cast<long double>(cos_q31(phase)), -31) - c));
    const long double e15s =
        std::fabs(std::ldexp(static_cast<long double>(sin_q15(phase)), -15) - s) / kQ15Lsb;
    const long double e15c =
        std::fabs(std::ldexp(static_cast<long double>(cos_q15(phase)), -15) - c) / kQ15Lsb;
    max_q31 = std::max(max_q31, e31);
    max_q15_lsb = std::max({max_q15_lsb, e15s, e15c});
    if (sin_q15(phase) != kQ15Max) max_q15_unsaturated_lsb = std::max(max_q15_unsaturated_lsb, e15s);
    if (cos_q15(phase) != kQ15Max) max_q15_unsaturated_lsb = std::max(max_q15_unsaturated_lsb, e15c);
  }
  void require_bounds() const {
    REQUIRE(max_q31 <= kQ31Bound);
    REQUIRE(max_q15_lsb <= 1.0L);
    REQUIRE(max_q15_unsaturated_lsb <= 0.5L + 1.0L / 512);
  }
};

}  // namespace

TEST_CASE("every committed quarter-sine entry is the rounded long-double value") {
  const uint32_t* table = quarter_sine_table_q31();
  int mismatches = 0;
  for (int k = 0; k < kQuarterSineEntries; ++k) {
    const long double exact = std::sin(ordinal::test::kPiL / 2 * k / 4096) * 2147483648.0L;
    const long double err = std::fabs(static_cast<long double>(table[k]) - exact);
    // Tolerance 0.5 + 1e-6 leaves room for the reference's own rounding on targets with a plain double.
    if (!(err <= 0.5L + 1e-6L)) ++mismatches;
  }
  CHECK(mismatches == 0);
  CHECK(table[0] == 0u);
  CHECK(table[kQuarterSineEntries - 1] == 2147483648u);
}

TEST_CASE("special phases are exact") {
  CHECK(sin_q31(0) == 0);
  CHECK(cos_q31(0) == INT32_MAX);  // +1 saturates
  CHECK(sin_q31(kQuarterTurn) == INT32_MAX);
  CHECK(cos_q31(kQuarterTurn) == 0);
  CHECK(sin_q31(kHalfTurn) == 0);
  CHECK(cos_q31(kHalfTurn) == INT32_MIN);  // -1 is representable
  CHECK(sin_q31(3 * kQuarterTurn) == INT32_MIN);
  CHECK(sin_q15(3 * kQuarterTurn) == INT16_MIN);
  CHECK(cos_q15(0) == INT16_MAX);
  // sin(30 degrees) = 1/2 exactly: phase = 2^64 / 12 is not exact, but the result must round to 2^30.
  CHECK(std::abs(sin_q31(UINT64_MAX / 12 + 1) - (1 << 30)) <= 64);
  CHECK(sin_q15(UINT64_MAX / 12 + 1) == 16384);
}

TEST_CASE("Q31 <= 2^-24 and Q15 <= 1 LSB over every table interval, all quadrants, and random phases") {
  ErrorTracker t;
  for (uint64_t quadrant = 0; quadrant < 4; ++quadrant) {
    for (uint64_t k = 0; k < 4096; ++k) {
      for (uint64_t j = 0; j < 8; ++j) {
        // Points across each interval, including the midpoint where interpolation error peaks.
        const uint64_t phase =
            (quadrant << 62) + (k << 50) + (j << 47) + (j == 4 ? 0 : (k * 0x9e3779b9ull) % (1ull << 47));
        t.check(phase);
      }
    }
  }
  SplitMix64 rng(0x7419);
  for (int i = 0; i < (1 << 20); ++i) t.check(rng.next());
  for (uint64_t d = 0; d < 64; ++d) {  // around the quadrant boundaries
    for (uint64_t q = 0; q < 4; ++q) {
      t.check((q << 62) + d);
      t.check((q << 62) - d);
    }
  }
  MESSAGE("measured max |Q31 - sin| = " << static_cast<double>(t.max_q31) << " (bound 2^-24 = 5.96e-8)");
  MESSAGE("measured max Q15 error = " << static_cast<double>(t.max_q15_lsb) << " LSB; unsaturated "
                                      << static_cast<double>(t.max_q15_unsaturated_lsb) << " LSB");
  t.require_bounds();
  // The bound is not vacuous: the error really is of order 1e-8 at interval midpoints.
  CHECK(t.max_q31 > 1e-9L);
}

TEST_CASE("RoPE d=64/128 base 10000: every frequency at positions {0,1,2^10,2^16,1e6,2^31-1}") {
  const int64_t positions[] = {0, 1, 1 << 10, 1 << 16, 1000000, 2147483647};
  ErrorTracker t;
  long double max_vs_true_angle = 0;
  for (int d : {64, 128}) {
    for (int i = 0; i < d / 2; ++i) {
      const uint64_t freq = ordinal::test::theta_turns_u64(10000.0L, i, d);
      const long double theta = ordinal::test::theta_radians(10000.0L, i, d);
      for (int64_t p : positions) {
        const uint64_t phase = phase_for(p, freq);
        t.check(phase);
        const long double s = std::ldexp(static_cast<long double>(sin_q31(phase)), -31);
        const long double c = std::ldexp(static_cast<long double>(cos_q31(phase)), -31);
        max_vs_true_angle =
            std::max({max_vs_true_angle, std::fabs(s - ordinal::test::sin_of_position(p, theta)),
                      std::fabs(c - ordinal::test::cos_of_position(p, theta))});
      }
    }
  }
  t.require_bounds();
  if (ordinal::test::kExtendedLongDouble) {
    // Frequency rounding adds at most p * 2^-65 turn (3.7e-10 rad at p = 2^31) on top of the trig error.
    MESSAGE("max |Q31 - sin(p*theta)| vs the true angle = " << static_cast<double>(max_vs_true_angle));
    CHECK(max_vs_true_angle <= kQ31Bound);
  }
}

TEST_CASE("phase_for wraps: negative positions and deltas compose exactly") {
  SplitMix64 rng(99);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t f = rng.next();
    const int64_t a = rng.between(-(int64_t{1} << 40), int64_t{1} << 40);
    const int64_t b = rng.between(-(int64_t{1} << 40), int64_t{1} << 40);
    REQUIRE(phase_for(a, f) + phase_for(b, f) == phase_for(a + b, f));
    // Odd symmetry is exact (the mirrored table lookup is the same), except where +1 saturated.
    const int32_t s = sin_q31(phase_for(a, f));
    if (s != INT32_MAX) REQUIRE(sin_q31(phase_for(-a, f)) == -s);
    REQUIRE(cos_q31(phase_for(-a, f)) == cos_q31(phase_for(a, f)));
  }
  CHECK(phase_for(-1, 1) == UINT64_MAX);
}

TEST_CASE("golden hash of Q15/Q31 sin/cos bits over a fixed phase set") {
  Fnv1a64 h;
  SplitMix64 rng(0x601de2);
  std::vector<uint64_t> freqs;
  for (int i = 0; i < 64; ++i) freqs.push_back(rng.next() >> (i % 48));  // spans fast to very slow rotations
  const int64_t positions[] = {0, 1, 2, 3, 1 << 10, 1 << 16, 1000000, 2147483647, -1, -4096};
  for (uint64_t f : freqs) {
    for (int64_t p : positions) {
      const uint64_t phase = phase_for(p, f);
      h.add_i32(sin_q31(phase));
      h.add_i32(cos_q31(phase));
      h.add_i16(sin_q15(phase));
      h.add_i16(cos_q15(phase));
    }
  }
  for (int i = 0; i < 4096; ++i) {
    const uint64_t phase = rng.next();
    h.add_i32(sin_q31(phase));
    h.add_i16(cos_q15(phase));
  }
  CHECK(h.value() == 0x79d9c3fe2d64d5e5ull);
}
