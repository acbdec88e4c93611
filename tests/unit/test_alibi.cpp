// ALiBi: committed Q1.63 factors, Q0.32 slopes vs exact 2^(-r) and vs BLOOM's float32 construction,
// exact integer biases with a single float conversion, and a golden hash.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "numeric_reference.hpp"
#include "numerics/hash64.hpp"
#include "numerics/prng.hpp"
#include "positional/alibi.hpp"

using namespace ordinal::positional;

namespace {

// The paper's reference get_slopes, in long double.
std::vector<long double> paper_slopes(int n) {
  auto power_of_2 = [](int m) {
    std::vector<long double> s;
    const long double start = std::exp2(-std::exp2(-(std::log2(static_cast<long double>(m)) - 3)));
    for (int i = 0; i < m; ++i) s.push_back(std::pow(start, static_cast<long double>(i + 1)));
    return s;
  };
  int closest = 1;
  while (closest * 2 <= n) closest *= 2;
  std::vector<long double> s = power_of_2(closest);
  if (closest != n) {
    const std::vector<long double> extra = power_of_2(2 * closest);
    for (int j = 0; j < n - closest; ++j) s.push_back(extra[2 * j]);
  }
  return s;
}

// BLOOM build_alibi_tensor in float32 (torch.pow of a float32 base).
std::vector<float> bloom_slopes_f32(int n) {
  int closest = 1;
  while (closest * 2 <= n) closest *= 2;
  const float base =
      static_cast<float>(std::exp2(-std::exp2(-(std::log2(static_cast<double>(closest)) - 3))));
  std::vector<float> s;
  for (int i = 1; i <= closest; ++i) s.push_back(std::pow(base, static_cast<float>(i)));
  if (closest != n) {
    const float extra = static_cast<float>(std::exp2(-std::exp2(-(std::log2(2.0 * closest) - 3))));
    for (int i = 1; i < 1 + 2 * (n - closest); i += 2) s.push_back(std::pow(extra, static_cast<float>(i)));
  }
  return s;
}

}  // namespace

TEST_CASE("committed 2^(-2^-i) factors: exactly rounded, and each squares to the previous one") {
  const uint64_t* t = alibi_root_table_q63();
  // libm exp2l on x86 (64-bit mantissa) is itself ~1 ulp = 0.5 Q63 unit off; quad (aarch64) is exact.
  const long double tolerance = std::numeric_limits<long double>::digits >= 113 ? 0.5L + 1e-6L
                                : ordinal::test::kExtendedLongDouble            ? 1.25L
                                                                                : 4096.0L;
  for (int i = 0; i < alibi_root_table_size(); ++i) {
    const long double exact = std::ldexp(std::exp2(-std::ldexp(1.0L, -(i + 1))), 63);
    CHECK(std::fabs(static_cast<long double>(t[i]) - exact) <= tolerance);
  }
  // Integer self-consistency, independent of libm: c_i^2 = c_{i-1} (c_0 = 1/2) within rounding.
  auto square_q63 = [](uint64_t a) {  // floor(a^2 / 2^63) and whether the remainder is >= 2^62
    const uint64_t lo = a & 0xffffffffu, hi = a >> 32;
    const uint64_t ll = lo * lo, lh = lo * hi, hh = hi * hi;
    const uint64_t mid = (ll >> 32) + 2 * (lh & 0xffffffffu);
    const uint64_t low = (ll & 0xffffffffu) | (mid << 32);
    const uint64_t high = hh + 2 * (lh >> 32) + (mid >> 32);
    return (high << 1) | (low >> 63);
  };
  uint64_t previous = uint64_t{1} << 62;  // 1/2 in Q1.63
  for (int i = 0; i < alibi_root_table_size(); ++i) {
    const int64_t diff = static_cast<int64_t>(square_q63(t[i]) - previous);
    CHECK(diff >= -2);  // |c^2 - c_prev| <= 2c * 0.5 ulp + 0.5 ulp(prev) + truncation
    CHECK(diff <= 2);
    previous = t[i];
  }
}

TEST_CASE("power-of-two head counts up to 8 give exact powers of two") {
  for (int n : {1, 2, 4, 8}) {
    std::vector<uint32_t> s(n);
    REQUIRE(alibi_slopes_q32(n, s.data()).ok());
    for (int h = 0; h < n; ++h) {
      const int exponent = 8 * (h + 1) / n;
      CHECK(s[h] == (uint32_t{1} << (32 - exponent)));
    }
  }
  std::vector<uint32_t> s16(16);
  REQUIRE(alibi_slopes_q32(16, s16.data()).ok());
  CHECK(s16[1] == (uint32_t{1} << 31));  // 2^-1
  CHECK(s16[0] == 3037000500u);          // round(2^-0.5 * 2^32): not a power of two
}

TEST_CASE("non-power-of-two head counts interleave the 2n' sequence (paper reference, n = 12)") {
  std::vector<uint32_t> s(12);
  REQUIRE(alibi_slopes_q32(12, s.data()).ok());
  for (int h = 0; h < 8; ++h) CHECK(s[h] == (uint32_t{1} << (31 - h)));
  const long double extra[4] = {std::exp2(-0.5L), std::exp2(-1.5L), std::exp2(-2.5L), std::exp2(-3.5L)};
  for (int j = 0; j < 4; ++j)
    CHECK(std::fabs(std::ldexp(static_cast<long double>(s[8 + j]), -32) - extra[j]) <= 0x1p-33L);
}

TEST_CASE("Q0.32 slopes are the rounded exact values for n = 1..256 and larger counts; BLOOM float agrees") {
  long double worst_lsb = 0, worst_bloom_rel = 0;
  std::vector<int> counts;
  for (int n = 1; n <= 256; ++n) counts.push_back(n);
  for (int n : {300, 1000, 1024, 4097, 65535, 1 << 20}) counts.push_back(n);
  for (int n : counts) {
    std::vector<uint32_t> s(n);
    REQUIRE(alibi_slopes_q32(n, s.data()).ok());
    const std::vector<long double> ref = paper_slopes(n);
    const int step = n > 4096 ? 61 : 1;  // sample the huge head counts (keeps the test fast)
    for (int h = 0; h < n; h += step) {
      int64_t num, den;
      alibi_slope_exponent(n, h, &num, &den);
      const long double exact = std::exp2(-static_cast<long double>(num) / den);
      REQUIRE(std::fabs(exact - ref[h]) <= (ordinal::test::kExtendedLongDouble ? 1e-13L : 1e-9L) * exact);
      const long double lsb = std::fabs(static_cast<long double>(s[h]) - std::ldexp(exact, 32));
      worst_lsb = std::max(worst_lsb, lsb);
      REQUIRE(lsb <= (ordinal::test::kExtendedLongDouble ? 0.5L + 1e-6L : 0.51L));
      REQUIRE(s[h] >= (uint32_t{1} << 24));  // >= 2^-8
    }
    if (n <= 4096) {
      const std::vector<float> bloom = bloom_slopes_f32(n);
      for (int h = 0; h < n; ++h) {
        const long double rel =
            std::fabs(bloom[h] - std::ldexp(static_cast<long double>(s[h]), -32)) / bloom[h];
        worst_bloom_rel = std::max(worst_bloom_rel, rel);
      }
    }
  }
  MESSAGE("max |slope_q32 - exact| = " << static_cast<double>(worst_lsb)
                                       << " LSB; max rel. diff vs BLOOM float32 = "
                                       << static_cast<double>(worst_bloom_rel));
  CHECK(!alibi_slopes_q32(0, nullptr).ok());
  std::vector<uint32_t> dummy(1);
  CHECK(!alibi_slopes_q32(kMaxAlibiHeads + 1, dummy.data()).ok());
}

TEST_CASE("biases are exact integer products with one float conversion") {
  std::vector<uint32_t> s(12);
  REQUIRE(alibi_slopes_q32(12, s.data()).ok());
  ordinal::numerics::SplitMix64 rng(8);
  for (int t = 0; t < 20000; ++t) {
    const uint32_t slope = s[rng.below(12)];
    const int64_t i = rng.between(0, int64_t{1} << 31), j = rng.between(0, int64_t{1} << 31);
    const int64_t sym = alibi_bias_q32(slope, i, j, AlibiForm::kSymmetric);
    const int64_t causal = alibi_bias_q32(slope, i, j, AlibiForm::kCausal);
    const int64_t d = std::min<int64_t>(std::llabs(i - j), (int64_t{1} << 31) - 1);
    REQUIRE(sym == -static_cast<int64_t>(slope) * d);
    REQUIRE(causal == (i >= j ? sym : -sym));
    // Single rounding of the exact value -slope * d / 2^32.
    const float expected = static_cast<float>(std::ldexp(static_cast<long double>(sym), -32));
    REQUIRE(alibi_bias_f32(slope, i, j, AlibiForm::kSymmetric) == expected);
  }
  CHECK(alibi_bias_q32(1u << 31, 10, 10, AlibiForm::kSymmetric) == 0);
  CHECK(alibi_bias_f32(1u << 31, 10, 7, AlibiForm::kCausal) == -1.5f);
  CHECK(alibi_bias_f32(1u << 31, 7, 10, AlibiForm::kSymmetric) == -1.5f);
  CHECK(alibi_bias_f32(1u << 31, 7, 10, AlibiForm::kCausal) == 1.5f);
  // Extreme positions saturate the distance instead of overflowing.
  CHECK(alibi_bias_q32(UINT32_MAX, INT64_MAX, INT64_MIN, AlibiForm::kSymmetric) ==
        -static_cast<int64_t>(UINT32_MAX) * ((int64_t{1} << 31) - 1));
  std::vector<float> row(5, 1.0f), add(5, 1.0f);
  alibi_bias_row(s[3], 100, 98, 5, AlibiForm::kCausal, row.data());
  alibi_add_bias_row(s[3], 100, 98, 5, AlibiForm::kCausal, add.data());
  for (int k = 0; k < 5; ++k) {
    CHECK(row[k] == alibi_bias_f32(s[3], 100, 98 + k, AlibiForm::kCausal));
    CHECK(add[k] == 1.0f + row[k]);
  }
}

TEST_CASE("golden hash of slopes and integer biases") {
  ordinal::numerics::Fnv1a64 h;
  for (int n : {1, 3, 5, 8, 12, 16, 20, 32, 40, 64, 96, 128}) {
    std::vector<uint32_t> s(n);
    REQUIRE(alibi_slopes_q32(n, s.data()).ok());
    for (uint32_t v : s) {
      h.add_u32(v);
      for (int64_t i : {0, 5, 4096, 2147483647}) {
        for (int64_t j : {0, 3, 4000, 1000000}) {
          h.add_i64(alibi_bias_q32(v, i, j, AlibiForm::kSymmetric));
          h.add_i64(alibi_bias_q32(v, i, j, AlibiForm::kCausal));
        }
      }
    }
  }
  CHECK(h.value() == 0x2a004bdaffa5ee89ull);
}
