// fp16 <-> fp32: exhaustive over every half, and round-to-nearest-even checked against an independent
// reference that picks the nearest half by value (computed with ldexp in double).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "numerics/half.hpp"
#include "numerics/prng.hpp"

using ordinal::numerics::float_to_half;
using ordinal::numerics::half_to_float;

namespace {

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float float_of(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Value of a finite half from its fields, without using the code under test.
double half_value_reference(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  const double magnitude =
      exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

// Nearest half by value with ties to the even encoding; 0x7c00 (inf) acts as the value 2^16 for rounding,
// which is IEEE's overflow rule. Only for finite f.
uint16_t nearest_half_reference(float f) {
  const double target = std::fabs(static_cast<double>(f));
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  auto value = [](uint16_t h) { return h == 0x7c00 ? 65536.0 : half_value_reference(h); };
  uint16_t lo = 0, hi = 0x7c00;  // positive half bit patterns are ordered by value
  if (target >= 65536.0) return sign | 0x7c00;
  while (hi - lo > 1) {
    const uint16_t mid = static_cast<uint16_t>((lo + hi) / 2);
    if (value(mid) <= target)
      lo = mid;
    else
      hi = mid;
  }
  const double dlo = target - value(lo), dhi = value(hi) - target;
  uint16_t pick = (dlo < dhi) ? lo : (dhi < dlo ? hi : ((lo & 1) == 0 ? lo : hi));
  return sign | pick;
}

}  // namespace

TEST_CASE("half_to_float is exact for all 65536 halves") {
  int checked = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    const int exponent = (h >> 10) & 0x1f;
    if (exponent == 0x1f) {
      if ((h & 0x3ff) == 0) {
        CHECK(std::isinf(f));
        CHECK(std::signbit(f) == ((h & 0x8000) != 0));
      } else {
        CHECK(std::isnan(f));
        CHECK(((bits_of(f) >> 13) & 0x3ff) == (h & 0x3ff));  // payload kept
      }
      continue;
    }
    REQUIRE(static_cast<double>(f) == half_value_reference(static_cast<uint16_t>(h)));
    CHECK(std::signbit(f) == ((h & 0x8000) != 0));  // -0 stays -0
    ++checked;
  }
  CHECK(checked == 2 * 31 * 1024);
}

TEST_CASE("halves_to_floats gives half_to_float's bits on the fast and the element-wise path") {
  using ordinal::numerics::halves_to_floats;
  // Every half that takes the fast path (normals and +-0) in one span, then spans that each mix one
  // special half (subnormal, inf, NaN) into normals, stored and accumulated.
  std::vector<uint16_t> fast;
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint32_t e = h & 0x7c00u, m = h & 0x3ffu;
    if (e != 0x7c00u && !(e == 0 && m != 0)) fast.push_back(static_cast<uint16_t>(h));
  }
  REQUIRE(fast.size() == 2 * (30 * 1024 + 1));
  std::vector<float> out(fast.size(), -1.0f);
  halves_to_floats(fast.data(), fast.size(), out.data(), false);
  for (size_t i = 0; i < fast.size(); ++i) REQUIRE(bits_of(out[i]) == bits_of(half_to_float(fast[i])));

  const uint16_t specials[] = {0x0001, 0x83ff, 0x0200, 0x7c00, 0xfc00, 0x7e01, 0xfd55};
  for (uint16_t special : specials) {
    std::vector<uint16_t> span = {0x3c00, 0xbc00, 0x0000, special, 0x7bff, 0x0400, 0x8000, 0x3555};
    std::vector<float> stored(span.size(), 0.0f), added(span.size(), 0.25f);
    halves_to_floats(span.data(), span.size(), stored.data(), false);
    halves_to_floats(span.data(), span.size(), added.data(), true);
    for (size_t i = 0; i < span.size(); ++i) {
      const float v = half_to_float(span[i]);
      if (std::isnan(v)) {
        CHECK(std::isnan(stored[i]));
        CHECK(std::isnan(added[i]));
        CHECK(bits_of(stored[i]) == bits_of(v));
        continue;
      }
      CHECK(bits_of(stored[i]) == bits_of(v));
      CHECK(bits_of(added[i]) == bits_of(0.25f + v));
    }
  }
  // Accumulating on the fast path: one float addition per element.
  std::vector<float> acc(fast.size(), 1.5f);
  halves_to_floats(fast.data(), fast.size(), acc.data(), true);
  for (size_t i = 0; i < fast.size(); i += 97)
    CHECK(bits_of(acc[i]) == bits_of(1.5f + half_to_float(fast[i])));
}

TEST_CASE("float_to_half round-trips every half and keeps NaN a NaN") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    const uint16_t back = float_to_half(f);
    if (std::isnan(f)) {
      CHECK((back & 0x7c00) == 0x7c00);
      CHECK((back & 0x3ff) != 0);
    } else {
      REQUIRE(back == h);
    }
  }
  // A signalling NaN whose payload lives only in the low 13 bits must not become infinity.
  CHECK(float_to_half(float_of(0x7f800001u)) == 0x7e00);
  CHECK(float_to_half(float_of(0xff800001u)) == 0xfe00);
}

TEST_CASE("float_to_half rounds to nearest even at every midpoint between adjacent halves") {
  // For each pair of adjacent positive halves, test the exact midpoint and its float neighbours.
  long ties = 0;
  for (uint16_t h = 0; h < 0x7c00; ++h) {
    const double a = half_value_reference(h);
    const double b = (h + 1 == 0x7c00) ? 65536.0 : half_value_reference(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((a + b) / 2);  // exact: midpoints need at most 12 bits
    REQUIRE(static_cast<double>(mid) == (a + b) / 2);
    const uint16_t expected_tie = (h & 1) == 0 ? h : static_cast<uint16_t>(h + 1);
    CHECK(float_to_half(mid) == expected_tie);
    CHECK(float_to_half(-mid) == (expected_tie | 0x8000));
    CHECK(float_to_half(std::nextafter(mid, 0.0f)) == h);
    CHECK(float_to_half(std::nextafter(mid, 1e30f)) == static_cast<uint16_t>(h + 1));
    ++ties;
  }
  CHECK(ties == 0x7c00);
  CHECK(float_to_half(65519.996f) == 0x7bff);
  CHECK(float_to_half(65520.0f) == 0x7c00);
  CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);  // tie to even zero
  CHECK(float_to_half(std::nextafter(std::ldexp(1.0f, -25), 1.0f)) == 0x0001);
  CHECK(float_to_half(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 * 2^-24 ties up to even 2
  CHECK(float_to_half(std::ldexp(5.0f, -25)) == 0x0002);  // 2.5 * 2^-24 ties down to even 2
}

TEST_CASE("float_to_half matches the value-nearest reference on random and structured floats") {
  ordinal::numerics::SplitMix64 rng(0x5eed0001);
  for (int i = 0; i < 400000; ++i) {
    const uint32_t b = static_cast<uint32_t>(rng.next());
    const float f = float_of(b);
    if (!std::isfinite(f)) continue;
    REQUIRE(float_to_half(f) == nearest_half_reference(f));
  }
  // Every float in the half range with a random mantissa, for every exponent (including subnormal halves).
  for (int e = -30; e <= 17; ++e) {
    for (int i = 0; i < 2000; ++i) {
      const float f = std::ldexp(1.0f + static_cast<float>(rng.below(1u << 23)) / 8388608.0f, e);
      REQUIRE(float_to_half(f) == nearest_half_reference(f));
    }
  }
}

// GCC >= 12 accepts _Float16 in C++ on x86-64 only (aarch64 C++ support arrived in GCC 13).
#if defined(__FLT16_MANT_DIG__) && defined(__x86_64__) && !defined(__clang__)
TEST_CASE("float_to_half agrees with the compiler's _Float16 conversion on a strided sweep of all floats") {
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 997) {
    const float f = float_of(static_cast<uint32_t>(b));
    if (std::isnan(f)) continue;
    const _Float16 h = static_cast<_Float16>(f);
    uint16_t expected;
    std::memcpy(&expected, &h, 2);
    REQUIRE(float_to_half(f) == expected);
  }
}
#endif
