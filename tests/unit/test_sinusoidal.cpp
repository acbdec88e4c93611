// Sinusoidal absolute positions: f32 and fixed-point paths vs long double at large positions, both layouts,
// add-into semantics, and a golden hash of the Q15 rows.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "numeric_reference.hpp"
#include "numerics/hash64.hpp"
#include "numerics/prng.hpp"
#include "positional/sinusoidal.hpp"

using namespace ordinal::positional;

namespace {
std::vector<uint64_t> freqs_for(int d, long double base) {
  std::vector<uint64_t> f(d / 2);
  for (int i = 0; i < d / 2; ++i) f[i] = ordinal::test::theta_turns_u64(base, i, d);
  return f;
}
}  // namespace

TEST_CASE("sinusoidal f32 and fixed paths vs long double at positions up to 2^31-1") {
  const int d = 128;
  const std::vector<uint64_t> f = freqs_for(d, 10000.0L);
  const int64_t positions[] = {0, 1, 17, 1 << 10, 1 << 16, 1000000, 2147483647};
  long double worst_f32 = 0, worst_q31 = 0, worst_q15 = 0;
  for (int64_t p : positions) {
    std::vector<float> a(d, 0.0f), q31(d, 0.0f), q15(d, 0.0f);
    REQUIRE(add_sinusoidal_f32(a.data(), d, p, 10000.0).ok());
    REQUIRE(add_sinusoidal_fixed(q31.data(), d, p, f.data(), RopePrecision::kQ31).ok());
    REQUIRE(add_sinusoidal_fixed(q15.data(), d, p, f.data(), RopePrecision::kQ15).ok());
    for (int i = 0; i < d / 2; ++i) {
      const long double w = ordinal::test::theta_radians(10000.0L, i, d);
      const long double s = ordinal::test::sin_of_position(p, w), c = ordinal::test::cos_of_position(p, w);
      // Fixed path vs the exact phase it was given (valid on every target).
      const uint64_t phase = phase_for(p, f[i]);
      REQUIRE(std::fabs(q31[2 * i] - ordinal::test::sin_of_phase(phase)) <= 0x1p-24L + 0x1p-25L);
      REQUIRE(std::fabs(q31[2 * i + 1] - ordinal::test::cos_of_phase(phase)) <= 0x1p-24L + 0x1p-25L);
      REQUIRE(std::fabs(q15[2 * i] - ordinal::test::sin_of_phase(phase)) <= 0x1p-15L);
      if (ordinal::test::kExtendedLongDouble) {
        worst_q31 = std::max({worst_q31, std::fabs(q31[2 * i] - s), std::fabs(q31[2 * i + 1] - c)});
        worst_q15 = std::max({worst_q15, std::fabs(q15[2 * i] - s), std::fabs(q15[2 * i + 1] - c)});
        worst_f32 = std::max({worst_f32, std::fabs(a[2 * i] - s), std::fabs(a[2 * i + 1] - c)});
        const long double f32_bound = std::fabs(static_cast<long double>(p)) * 0x1p-52L + 0x1p-24L;
        REQUIRE(std::fabs(a[2 * i] - s) <= f32_bound);
        REQUIRE(std::fabs(a[2 * i + 1] - c) <= f32_bound);
      }
    }
  }
  if (ordinal::test::kExtendedLongDouble) {
    MESSAGE("max error vs exact PE: f32 " << static_cast<double>(worst_f32) << ", Q31 "
                                          << static_cast<double>(worst_q31) << ", Q15 "
                                          << static_cast<double>(worst_q15));
    CHECK(worst_q31 <= 0x1p-24L + 0x1p-25L + 1e-9L);  // + frequency rounding (<= 3.7e-10 at 2^31)
  }
}

TEST_CASE("sinusoidal adds into x, and the concatenated layout is the interleaved one permuted") {
  const int d = 64;
  const std::vector<uint64_t> f = freqs_for(d, 10000.0L);
  std::vector<float> x(d), inter(d), concat(d);
  ordinal::numerics::SplitMix64 rng(3);
  for (auto& e : x) e = static_cast<float>(rng.uniform01());
  std::vector<float> zero(d, 0.0f);
  REQUIRE(add_sinusoidal_fixed(zero.data(), d, 999, f.data(), RopePrecision::kQ31).ok());
  inter = x;
  concat = x;
  REQUIRE(add_sinusoidal_fixed(inter.data(), d, 999, f.data(), RopePrecision::kQ31).ok());
  REQUIRE(add_sinusoidal_fixed(concat.data(), d, 999, f.data(), RopePrecision::kQ31,
                               SinusoidalLayout::kConcatenated)
              .ok());
  for (int i = 0; i < d; ++i) REQUIRE(inter[i] == x[i] + zero[i]);
  for (int i = 0; i < d / 2; ++i) {
    REQUIRE(concat[i] == x[i] + zero[2 * i]);
    REQUIRE(concat[i + d / 2] == x[i + d / 2] + zero[2 * i + 1]);
  }
  CHECK(zero[0] != 0.0f);  // the PE row is non-trivial, so the equalities above are not vacuous
  CHECK(zero[1] != 0.0f);
}

TEST_CASE("invalid arguments are reported") {
  std::vector<float> x(8);
  std::vector<uint64_t> f(4, 1);
  CHECK(!add_sinusoidal_f32(x.data(), 7, 0, 10000.0).ok());
  CHECK(!add_sinusoidal_f32(x.data(), 8, 0, 1.0).ok());
  CHECK(!add_sinusoidal_fixed(x.data(), 8, 0, nullptr, RopePrecision::kQ31).ok());
  CHECK(!add_sinusoidal_fixed(nullptr, 8, 0, f.data(), RopePrecision::kQ31).ok());
}

TEST_CASE("golden hash of Q15 sinusoidal rows") {
  ordinal::numerics::SplitMix64 rng(0x51a0);
  std::vector<uint64_t> f(48);
  for (int i = 0; i < 48; ++i) f[i] = rng.next() >> (i / 2);
  ordinal::numerics::Fnv1a64 h;
  std::vector<int16_t> row(96);
  for (int64_t p : {0, 1, 2, 100, 4095, 65536, 1000000, 2147483647}) {
    for (SinusoidalLayout layout : {SinusoidalLayout::kInterleaved, SinusoidalLayout::kConcatenated}) {
      REQUIRE(sinusoidal_row_q15(row.data(), 96, p, f.data(), layout).ok());
      for (int16_t v : row) h.add_i16(v);
    }
  }
  CHECK(h.value() == 0x8d3a1f96e8de9821ull);
}
