// Host-side RoPE/sinusoidal frequencies: rounding to nearest turn fraction, and linear / NTK-aware / YaRN
// scalings against independent re-implementations of HF transformers' formulas.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "quant/rope_frequencies.hpp"

using namespace ordinal::quant;

namespace {
constexpr long double kTwoPi = 6.28318530717958647692528676655900577L;
// Host-side frequencies are specified for a >= 64-bit long double (x86-64, aarch64); where long double is a
// double (armhf) they are only good to ~2^11 units, which this tolerance documents rather than hides.
constexpr uint64_t kUnits = std::numeric_limits<long double>::digits >= 64 ? 1 : 4096;

// RoPE settings of rotary_dims d, base 10000, with a context-extension scaling.
ordinal::detail::PositionalSettings scaled(int d, ordinal::detail::RopeScalingKind kind, double factor,
                                           uint32_t original_context = 0) {
  ordinal::detail::PositionalSettings s;
  s.scheme = ordinal::PositionalScheme::kRope;
  s.rotary_dims = static_cast<uint32_t>(d);
  s.base = 10000.0;
  s.scaling = kind;
  s.scaling_factor = static_cast<float>(factor);
  s.original_context = original_context;
  return s;
}
}  // namespace

TEST_CASE("theta_i = base^(-2i/d) rounded to the nearest 2^-64 turn") {
  auto f = rope_frequencies(128, 10000.0);
  REQUIRE(f.ok());
  REQUIRE(f->turns.size() == 64);
  // theta_0 = 1 rad: 2^64 / (2 pi) = 2935890503282001226.37..., from 60-digit decimal arithmetic.
  // long double carries ~64 bits, so the result is within 1 unit (0.5 rounding + representation error).
  CHECK(f->turns[0] - 2935890503282001226ull + kUnits <= 2 * kUnits);
  for (int i = 0; i < 64; ++i) {
    const long double exact = std::ldexp(std::pow(10000.0L, -2.0L * i / 128) / kTwoPi, 64);
    CHECK(std::fabs(static_cast<long double>(f->turns[i]) - exact) <= 1.0L);
    if (i > 0) CHECK(f->turns[i] < f->turns[i - 1]);
  }
  auto s = sinusoidal_frequencies(128, 10000.0);
  REQUIRE(s.ok());
  CHECK(s->turns == f->turns);
  CHECK(radians_to_turns(kTwoPi / 8) == (uint64_t{1} << 61));
  CHECK(radians_to_turns(kTwoPi) == 0);
  CHECK(radians_to_turns(-kTwoPi / 4) == 3 * (uint64_t{1} << 62));
  CHECK(std::fabs(turns_to_radians(f->turns[0]) - 1.0L) <= 1e-18L);
  CHECK(!rope_frequencies(63, 10000.0).ok());
  CHECK(!rope_frequencies(64, 1.0).ok());
}

TEST_CASE("linear interpolation divides every theta by the factor") {
  auto f = rope_frequencies(scaled(64, ordinal::detail::RopeScalingKind::kLinear, 8.0));
  auto plain = rope_frequencies(64, 10000.0);
  REQUIRE(f.ok());
  REQUIRE(plain.ok());
  CHECK(f->turns[0] - 366986312910250153ull + kUnits <=
        2 * kUnits);  // 2^64 / (16 pi) from decimal, within 1 unit
  for (int i = 0; i < 32; ++i)
    CHECK(std::fabs(f->theta_radians[i] * 8 / plain->theta_radians[i] - 1) <= 1e-18L);
  CHECK(f->attention_factor == 1.0);
}

TEST_CASE("NTK-aware: base * F^(d/(d-2)) keeps theta_0 and divides the lowest frequency by F") {
  const int d = 128;
  auto f = rope_frequencies(scaled(d, ordinal::detail::RopeScalingKind::kNTK, 4.0));
  auto plain = rope_frequencies(d, 10000.0);
  REQUIRE(f.ok());
  CHECK(f->turns[0] == plain->turns[0]);
  CHECK(std::fabs(f->theta_radians[d / 2 - 1] * 4 / plain->theta_radians[d / 2 - 1] - 1) <= 1e-15L);
  const long double base2 = 10000.0L * std::pow(4.0L, 128.0L / 126.0L);
  for (int i = 0; i < d / 2; ++i)
    CHECK(std::fabs(f->theta_radians[i] / std::pow(base2, -2.0L * i / d) - 1) <= 1e-15L);
}

TEST_CASE("YaRN matches a double re-implementation of HF _compute_yarn_parameters") {
  for (double factor : {2.0, 4.0, 16.0, 32.0}) {
    for (int d : {64, 128}) {
      auto f = rope_frequencies(scaled(d, ordinal::detail::RopeScalingKind::kYaRN, factor, 4096));
      REQUIRE(f.ok());
      // HF, transcribed in double.
      const double base = 10000.0, two_pi = 2 * 3.14159265358979323846;
      auto corr = [&](double rot) { return (d * std::log(4096.0 / (rot * two_pi))) / (2 * std::log(base)); };
      double low = std::max(std::floor(corr(32.0)), 0.0), high = std::min(std::ceil(corr(1.0)), d - 1.0);
      if (low == high) high += 0.001;
      int unchanged = 0, interpolated = 0;
      for (int i = 0; i < d / 2; ++i) {
        const double pos_freq = std::pow(base, 2.0 * i / d);
        const double extrapolation = 1.0 / pos_freq, interpolation = 1.0 / (factor * pos_freq);
        const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
        const double extrapolation_factor = 1 - ramp;
        const double inv = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor;
        CHECK(std::fabs(static_cast<double>(f->theta_radians[i]) / inv - 1) <= 1e-12);
        if (extrapolation_factor == 1) ++unchanged;
        if (extrapolation_factor == 0) ++interpolated;
      }
      CHECK(unchanged > 0);  // both ends of the ramp are exercised
      CHECK(interpolated > 0);
      CHECK(f->attention_factor == doctest::Approx(0.1 * std::log(factor) + 1.0).epsilon(1e-15));
    }
  }
  CHECK(!rope_frequencies(scaled(64, ordinal::detail::RopeScalingKind::kYaRN, 4.0)).ok());
}
