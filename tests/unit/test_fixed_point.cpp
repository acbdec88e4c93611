// Q-format helpers: rounding shifts against exact rational references, saturation, int4 packing layout.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "numerics/fixed_point.hpp"
#include "numerics/prng.hpp"

using namespace ordinal::numerics;

namespace {
// Reference rounding in long double (exact for |x| < 2^63 on x86 80-bit, and for the small |x| used on
// targets where long double is a double).
long double exact_ratio(int64_t x, int shift) {
  return std::ldexp(static_cast<long double>(x), -shift);
}
}  // namespace

TEST_CASE("floor_shift_right is floor division by a power of two") {
  CHECK(floor_shift_right(-1, 1) == -1);
  CHECK(floor_shift_right(-2, 1) == -1);
  CHECK(floor_shift_right(-3, 1) == -2);
  CHECK(floor_shift_right(INT64_MIN, 62) == -2);
  CHECK(floor_shift_right(INT64_MAX, 62) == 1);
  SplitMix64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const int64_t x = static_cast<int64_t>(rng.next() >> 12) - (int64_t{1} << 51);
    const int s = static_cast<int>(rng.below(40));
    REQUIRE(floor_shift_right(x, s) == static_cast<int64_t>(std::floor(exact_ratio(x, s))));
  }
}

TEST_CASE("rounding_shift_right_half_even: error <= 1/2 and ties go to even") {
  CHECK(rounding_shift_right_half_even(1, 1) == 0);    // 0.5 -> 0
  CHECK(rounding_shift_right_half_even(3, 1) == 2);    // 1.5 -> 2
  CHECK(rounding_shift_right_half_even(5, 1) == 2);    // 2.5 -> 2
  CHECK(rounding_shift_right_half_even(-1, 1) == 0);   // -0.5 -> 0
  CHECK(rounding_shift_right_half_even(-3, 1) == -2);  // -1.5 -> -2
  CHECK(rounding_shift_right_half_even(-5, 1) == -2);  // -2.5 -> -2
  CHECK(rounding_shift_right_half_even(-6, 2) == -2);  // -1.5 -> -2
  CHECK(rounding_shift_right_half_even(7, 0) == 7);
  SplitMix64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    const int64_t x = static_cast<int64_t>(rng.next() >> 12) - (int64_t{1} << 51);
    const int s = 1 + static_cast<int>(rng.below(30));
    const long double exact = exact_ratio(x, s);
    const int64_t r = rounding_shift_right_half_even(x, s);
    const long double err = std::fabs(static_cast<long double>(r) - exact);
    REQUIRE(err <= 0.5L);
    if (err == 0.5L) REQUIRE(r % 2 == 0);
  }
}

TEST_CASE("rounding_shift_right_half_away: error <= 1/2 and ties go away from zero") {
  CHECK(rounding_shift_right_half_away(1, 1) == 1);
  CHECK(rounding_shift_right_half_away(-1, 1) == -1);
  CHECK(rounding_shift_right_half_away(5, 1) == 3);
  CHECK(rounding_shift_right_half_away(-5, 1) == -3);
  CHECK(rounding_shift_right_half_away(-4, 2) == -1);
  SplitMix64 rng(13);
  for (int i = 0; i < 200000; ++i) {
    const int64_t x = static_cast<int64_t>(rng.next() >> 12) - (int64_t{1} << 51);
    const int s = 1 + static_cast<int>(rng.below(30));
    const long double exact = exact_ratio(x, s);
    const int64_t r = rounding_shift_right_half_away(x, s);
    const long double err = std::fabs(static_cast<long double>(r) - exact);
    REQUIRE(err <= 0.5L);
    if (err == 0.5L) REQUIRE(std::fabs(static_cast<long double>(r)) > std::fabs(exact));
  }
}

TEST_CASE("saturating casts clamp to the target range") {
  CHECK(saturate_int8(200) == 127);
  CHECK(saturate_int8(-200) == -128);
  CHECK(saturate_int8(-5) == -5);
  CHECK(saturate_int8_symmetric(-128) == -127);
  CHECK(saturate_int16(40000) == 32767);
  CHECK(saturate_int16(-40000) == -32768);
  CHECK(saturate_int32(int64_t{1} << 40) == INT32_MAX);
  CHECK(saturate_int32(-(int64_t{1} << 40)) == INT32_MIN);
  CHECK(saturate_int32(-123456789) == -123456789);
}

TEST_CASE("int4 packing: low nibble holds the even index, range [-8, 7]") {
  const int8_t values[5] = {-8, 7, -1, 3, 5};
  uint8_t packed[3] = {0xff, 0xff, 0xff};
  pack_int4(values, 5, packed);
  CHECK(packed[0] == 0x78);  // element 0 (-8 = 0x8) low, element 1 (7) high
  CHECK(packed[1] == 0x3f);  // -1 = 0xf low, 3 high
  CHECK(packed[2] == 0x05);  // odd tail: high nibble zero
  for (int i = 0; i < 5; ++i) CHECK(unpack_int4(packed, i) == values[i]);
  for (int n = 0; n < 16; ++n) {
    const int8_t v = int4_from_nibble(static_cast<uint8_t>(n));
    CHECK(v >= -8);
    CHECK(v <= 7);
    CHECK(nibble_from_int4(v) == n);
  }
  const int8_t out_of_range[2] = {-9, 8};
  pack_int4(out_of_range, 2, packed);
  CHECK(unpack_int4(packed, 0) == -8);
  CHECK(unpack_int4(packed, 1) == 7);
  const uint8_t u[3] = {15, 0, 9};
  pack_uint4(u, 3, packed);
  CHECK(packed[0] == 0x0f);
  CHECK(unpack_uint4(packed, 2) == 9);
}
