// RoPE with exact turn-fraction angles: error bounds vs long double for f32/int16/int8 data, layouts,
// partial rotary, composition R(a)R(b) = R(a+b) with negative deltas, shift invariance of q.k up to 2^30,
// the float32 reference drifting at p = 1e6, and golden hashes of the integer kernels.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "numeric_reference.hpp"
#include "numerics/hash64.hpp"
#include "numerics/prng.hpp"
#include "positional/rope_fixed.hpp"

using namespace ordinal::positional;
using ordinal::numerics::Fnv1a64;
using ordinal::numerics::SplitMix64;

namespace {

std::vector<uint64_t> base10000_freqs(int rotary_dims) {
  std::vector<uint64_t> f(rotary_dims / 2);
  for (int j = 0; j < rotary_dims / 2; ++j) f[j] = ordinal::test::theta_turns_u64(10000.0L, j, rotary_dims);
  return f;
}

RopeShape make_shape(int head_dim, int rotary_dims, RopeLayout layout, const std::vector<uint64_t>& freqs) {
  RopeShape s;
  s.head_dim = head_dim;
  s.rotary_dims = rotary_dims;
  s.layout = layout;
  s.freqs = freqs.data();
  return s;
}

// Exact rotation of the given input (long double), using the exact phase of each pair.
template <typename T>
std::vector<long double> exact_rotation(const std::vector<T>& x, int n_heads, const RopeShape& s,
                                        int64_t pos) {
  std::vector<long double> y(x.begin(), x.end());
  for (int h = 0; h < n_heads; ++h) {
    for (int j = 0; j < s.rotary_dims / 2; ++j) {
      const uint64_t phase = phase_for(pos, s.freqs[j]);
      const long double c = ordinal::test::cos_of_phase(phase), sn = ordinal::test::sin_of_phase(phase);
      const int ia = h * s.head_dim + rope_pair_first(s, j), ib = h * s.head_dim + rope_pair_second(s, j);
      const long double a = x[ia], b = x[ib];
      y[ia] = a * c - b * sn;
      y[ib] = a * sn + b * c;
    }
  }
  return y;
}

// Per-component bound of the form base + (|a| + |b|) * k for the pair the component belongs to.
template <typename T>
long double pair_l1(const std::vector<T>& x, const RopeShape& s, int h, int j) {
  return std::fabs(static_cast<long double>(x[h * s.head_dim + rope_pair_first(s, j)])) +
         std::fabs(static_cast<long double>(x[h * s.head_dim + rope_pair_second(s, j)]));
}

std::vector<int16_t> random_int16(SplitMix64& rng, int n, int magnitude) {
  std::vector<int16_t> v(n);
  for (auto& e : v) e = static_cast<int16_t>(rng.between(-magnitude, magnitude));
  return v;
}

}  // namespace

TEST_CASE("invalid shapes are reported, not aborted on") {
  std::vector<uint64_t> f = base10000_freqs(64);
  std::vector<float> x(64);
  CHECK(rope_rotate_f32(x.data(), 1, make_shape(64, 63, RopeLayout::kInterleaved, f), 3, RopePrecision::kQ31)
            .code() == ordinal::ErrorCode::kInvalidArgument);
  CHECK(!rope_rotate_f32(x.data(), 1, make_shape(64, 66, RopeLayout::kInterleaved, f), 3, RopePrecision::kQ31)
             .ok());
  CHECK(!rope_rotate_f32(x.data(), 0, make_shape(64, 64, RopeLayout::kInterleaved, f), 3, RopePrecision::kQ31)
             .ok());
  RopeShape no_freqs = make_shape(64, 64, RopeLayout::kInterleaved, f);
  no_freqs.freqs = nullptr;
  CHECK(!rope_rotate_f32(x.data(), 1, no_freqs, 3, RopePrecision::kQ31).ok());
  std::vector<int16_t> xi(64);
  CHECK(!rope_rotate_int16(xi.data(), 1, make_shape(64, 64, RopeLayout::kInterleaved, f), 3,
                           RopePrecision::kF32)
             .ok());
  CHECK(
      rope_rotate_int16(xi.data(), 1, make_shape(64, 64, RopeLayout::kInterleaved, f), 3, RopePrecision::kQ31)
          .ok());
}

TEST_CASE("f32 data: Q31/Q15/F32 sin/cos meet their per-component bounds at large positions") {
  const int head_dim = 128, n_heads = 3;
  std::vector<uint64_t> f = base10000_freqs(head_dim);
  SplitMix64 rng(21);
  const int64_t positions[] = {0, 1, 1 << 10, 1 << 16, 1000000, 2147483647, -77777};
  struct Case {
    RopePrecision p;
    long double k;
  } cases[] = {{RopePrecision::kQ31, 0x1p-24L + 0x1p-23L},
               {RopePrecision::kQ15, 0x1p-15L + 0x1p-23L},
               {RopePrecision::kF32, 1.2e-7L + 0x1p-23L}};
  for (const Case& c : cases) {
    long double worst_ratio = 0;
    for (RopeLayout layout : {RopeLayout::kInterleaved, RopeLayout::kSplitHalf}) {
      const RopeShape s = make_shape(head_dim, head_dim, layout, f);
      for (int64_t p : positions) {
        std::vector<float> x(head_dim * n_heads);
        for (auto& e : x) e = static_cast<float>(rng.uniform01() * 8 - 4);
        const std::vector<long double> expected = exact_rotation(x, n_heads, s, p);
        std::vector<float> y = x;
        REQUIRE(rope_rotate_f32(y.data(), n_heads, s, p, c.p).ok());
        for (int h = 0; h < n_heads; ++h) {
          for (int j = 0; j < head_dim / 2; ++j) {
            const long double bound = pair_l1(x, s, h, j) * c.k;
            for (int idx : {rope_pair_first(s, j), rope_pair_second(s, j)}) {
              const long double err = std::fabs(y[h * head_dim + idx] - expected[h * head_dim + idx]);
              REQUIRE(err <= bound);
              worst_ratio = std::max(worst_ratio, err / pair_l1(x, s, h, j));
            }
          }
        }
      }
    }
    MESSAGE("precision " << static_cast<int>(c.p)
                         << ": max err / (|a|+|b|) = " << static_cast<double>(worst_ratio));
  }
}

TEST_CASE(
    "the float32 reference (angle = pos * freq in float) is off by > 1e-3 at p = 1e6; fixed point is not") {
  const int d = 128;
  std::vector<uint64_t> f = base10000_freqs(d);
  std::vector<float> freqs_f(d / 2);
  for (int j = 0; j < d / 2; ++j)
    freqs_f[j] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * j) / d);  // llama2.c
  const RopeShape s = make_shape(d, d, RopeLayout::kInterleaved, f);
  std::vector<float> x(d);
  for (int j = 0; j < d / 2; ++j) {  // unit pairs (1, 0): the rotated pair is (cos, sin) of the angle
    x[2 * j] = 1.0f;
    x[2 * j + 1] = 0.0f;
  }
  const int64_t p = 1000000;
  std::vector<float> ref = x, fixed = x;
  rope_rotate_f32_reference(ref.data(), 1, d, d, RopeLayout::kInterleaved, freqs_f.data(), p);
  REQUIRE(rope_rotate_f32(fixed.data(), 1, s, p, RopePrecision::kQ31).ok());
  long double ref_err = 0, fixed_err = 0;
  for (int j = 0; j < d / 2; ++j) {
    const long double theta = ordinal::test::theta_radians(10000.0L, j, d);
    const long double c = ordinal::test::cos_of_position(p, theta),
                      sn = ordinal::test::sin_of_position(p, theta);
    ref_err = std::max({ref_err, std::fabs(ref[2 * j] - c), std::fabs(ref[2 * j + 1] - sn)});
    fixed_err = std::max({fixed_err, std::fabs(fixed[2 * j] - c), std::fabs(fixed[2 * j + 1] - sn)});
  }
  MESSAGE("p=1e6: float32 reference max error " << static_cast<double>(ref_err) << ", Q31 fixed "
                                                << static_cast<double>(fixed_err));
  CHECK(ref_err > 1e-3L);
  if (ordinal::test::kExtendedLongDouble) CHECK(fixed_err <= 0x1p-24L + 0x1p-24L);  // trig + float rounding
}

TEST_CASE("partial rotary leaves the tail untouched; split-half equals a permuted interleaved rotation") {
  const int head_dim = 96, rot = 32, n_heads = 2;
  std::vector<uint64_t> f = base10000_freqs(rot);
  SplitMix64 rng(5);
  std::vector<int16_t> x = random_int16(rng, head_dim * n_heads, 20000);
  std::vector<int16_t> y = x;
  REQUIRE(
      rope_rotate_int16(y.data(), n_heads, make_shape(head_dim, rot, RopeLayout::kSplitHalf, f), 12345).ok());
  for (int h = 0; h < n_heads; ++h)
    for (int i = rot; i < head_dim; ++i) REQUIRE(y[h * head_dim + i] == x[h * head_dim + i]);
  bool changed = false;
  for (int i = 0; i < rot; ++i) changed |= y[i] != x[i];
  CHECK(changed);
  // Permute split-half -> interleaved, rotate, permute back: identical bits.
  std::vector<int16_t> z(x.size());
  for (int h = 0; h < n_heads; ++h) {
    for (int i = 0; i < head_dim; ++i) z[h * head_dim + i] = x[h * head_dim + i];
    for (int j = 0; j < rot / 2; ++j) {
      z[h * head_dim + 2 * j] = x[h * head_dim + j];
      z[h * head_dim + 2 * j + 1] = x[h * head_dim + j + rot / 2];
    }
  }
  REQUIRE(rope_rotate_int16(z.data(), n_heads, make_shape(head_dim, rot, RopeLayout::kInterleaved, f), 12345)
              .ok());
  for (int h = 0; h < n_heads; ++h) {
    for (int j = 0; j < rot / 2; ++j) {
      REQUIRE(z[h * head_dim + 2 * j] == y[h * head_dim + j]);
      REQUIRE(z[h * head_dim + 2 * j + 1] == y[h * head_dim + j + rot / 2]);
    }
  }
}

TEST_CASE("int16 (Q12) data: error <= 0.5 + (|a|+|b|) 2^-15 LSB (Q15) and 0.5 + (|a|+|b|) 2^-24 (Q31)") {
  const int head_dim = 64, n_heads = 4;
  std::vector<uint64_t> f = base10000_freqs(head_dim);
  SplitMix64 rng(17);
  long double worst15 = 0, worst31 = 0;
  for (int trial = 0; trial < 300; ++trial) {
    static const int64_t kFixed[] = {0, 1, 1 << 10, 1 << 16, 1000000, 2147483647};
    const int64_t p = trial < 6 ? kFixed[trial] : rng.between(-(int64_t{1} << 40), int64_t{1} << 40);
    // Magnitudes up to 23170 keep every rotated pair inside int16 (no saturation in this test).
    std::vector<int16_t> x = random_int16(rng, head_dim * n_heads, 23170);
    for (RopeLayout layout : {RopeLayout::kInterleaved, RopeLayout::kSplitHalf}) {
      const RopeShape s = make_shape(head_dim, head_dim, layout, f);
      const std::vector<long double> expected = exact_rotation(x, n_heads, s, p);
      for (RopePrecision prec : {RopePrecision::kQ15, RopePrecision::kQ31}) {
        std::vector<int16_t> y = x;
        REQUIRE(rope_rotate_int16(y.data(), n_heads, s, p, prec).ok());
        const long double k = prec == RopePrecision::kQ15 ? 0x1p-15L : 0x1p-24L;
        for (int h = 0; h < n_heads; ++h) {
          for (int j = 0; j < head_dim / 2; ++j) {
            for (int idx : {rope_pair_first(s, j), rope_pair_second(s, j)}) {
              const long double err = std::fabs(y[h * head_dim + idx] - expected[h * head_dim + idx]);
              REQUIRE(err <= 0.5L + pair_l1(x, s, h, j) * k);
              (prec == RopePrecision::kQ15 ? worst15 : worst31) =
                  std::max(prec == RopePrecision::kQ15 ? worst15 : worst31, err);
            }
          }
        }
      }
    }
  }
  MESSAGE("int16 max error: Q15 sin/cos " << static_cast<double>(worst15) << " LSB, Q31 "
                                          << static_cast<double>(worst31) << " LSB");
  CHECK(worst31 <= 0.5L + 2 * 23170 * 0x1p-24L);
}

TEST_CASE("int16 saturates instead of wrapping") {
  std::vector<uint64_t> f = {uint64_t{1} << 61};  // 1/8 turn per step: 45 degrees
  const RopeShape s = make_shape(2, 2, RopeLayout::kInterleaved, f);
  int16_t x[2] = {32767, 32767};  // rotated by 45 degrees: (0, 46340) exceeds int16
  REQUIRE(rope_rotate_int16(x, 1, s, 1).ok());
  CHECK(x[1] == 32767);
  CHECK(std::abs(x[0]) <= 1);
  int8_t q[2] = {127, 127};
  REQUIRE(rope_rotate_int8(q, 1, s, 1).ok());
  CHECK(q[1] == 127);
  CHECK(q[0] == 0);
}

TEST_CASE("int16 composition: R(b)R(a)x vs R(a+b)x within (2+sqrt2)(0.5 + |pair|_1 2^-15), negative deltas") {
  const int head_dim = 64;
  std::vector<uint64_t> f = base10000_freqs(head_dim);
  SplitMix64 rng(33);
  long double worst = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t a = rng.between(0, int64_t{1} << 31);
    const int64_t b = trial % 2 ? -rng.between(1, a + 1) : rng.between(-(int64_t{1} << 31), int64_t{1} << 31);
    for (RopeLayout layout : {RopeLayout::kInterleaved, RopeLayout::kSplitHalf}) {
      const RopeShape s = make_shape(head_dim, head_dim, layout, f);
      // Q12 key vector with |x| <= 4.0 (16384): pairs cannot saturate.
      std::vector<int16_t> x = random_int16(rng, head_dim, 16384);
      std::vector<int16_t> composed = x, direct = x;
      REQUIRE(rope_rotate_int16(composed.data(), 1, s, a).ok());
      REQUIRE(rope_rotate_int16(composed.data(), 1, s, b).ok());  // b < 0: context shift of a cached key
      REQUIRE(rope_rotate_int16(direct.data(), 1, s, a + b).ok());
      for (int j = 0; j < head_dim / 2; ++j) {
        const long double bound =
            (2 + std::sqrt(2.0L)) * (0.5L + 2 * 0x1p-15L * pair_l1(x, s, 0, j) + 0x1p-15L);
        for (int idx : {rope_pair_first(s, j), rope_pair_second(s, j)}) {
          const long double diff = std::fabs(static_cast<long double>(composed[idx]) - direct[idx]);
          REQUIRE(diff <= bound);
          worst = std::max(worst, diff);
        }
      }
    }
  }
  MESSAGE("int16 composition max |R(b)R(a)x - R(a+b)x| = " << static_cast<double>(worst) << " LSB");
  CHECK(worst <= 6);
}

TEST_CASE("shift invariance: q.k at (m, n) equals q.k at (m+s, n+s) for s up to 2^30") {
  const int d = 128;
  std::vector<uint64_t> f = base10000_freqs(d);
  std::vector<float> freqs_f(d / 2);
  for (int j = 0; j < d / 2; ++j) freqs_f[j] = 1.0f / std::pow(10000.0f, static_cast<float>(2 * j) / d);
  const RopeShape s = make_shape(d, d, RopeLayout::kSplitHalf, f);
  SplitMix64 rng(44);
  long double worst_f32 = 0, worst_ref = 0;
  long double worst_int = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> q(d), k(d);
    for (auto& e : q) e = static_cast<float>(rng.uniform01() * 2 - 1);
    for (auto& e : k) e = static_cast<float>(rng.uniform01() * 2 - 1);
    long double l1 = 0;  // sum over pairs of (|q_a|+|q_b|)(|k_a|+|k_b|): scale of the bound
    for (int j = 0; j < d / 2; ++j) l1 += pair_l1(q, s, 0, j) * pair_l1(k, s, 0, j);
    const int64_t m = rng.between(0, 4096), n = rng.between(0, 4096);
    const int64_t shift = trial == 0 ? (int64_t{1} << 30) : rng.between(1, int64_t{1} << 30);
    auto dot_at = [&](int64_t pm, int64_t pn, bool reference) {
      std::vector<float> qr = q, kr = k;
      if (reference) {
        rope_rotate_f32_reference(qr.data(), 1, d, d, RopeLayout::kSplitHalf, freqs_f.data(), pm);
        rope_rotate_f32_reference(kr.data(), 1, d, d, RopeLayout::kSplitHalf, freqs_f.data(), pn);
      } else {
        REQUIRE(rope_rotate_f32(qr.data(), 1, s, pm, RopePrecision::kQ31).ok());
        REQUIRE(rope_rotate_f32(kr.data(), 1, s, pn, RopePrecision::kQ31).ok());
      }
      long double acc = 0;
      for (int i = 0; i < d; ++i) acc += static_cast<long double>(qr[i]) * kr[i];
      return acc;
    };
    const long double e = std::fabs(dot_at(m, n, false) - dot_at(m + shift, n + shift, false));
    // Each rotated component is within (|a|+|b|)(2^-24 + 2^-23) of exact, for both positions: the
    // q.k difference is at most 4 * 3*2^-24 * l1 (first order).
    REQUIRE(e <= 12 * 0x1p-24L * l1);
    worst_f32 = std::max(worst_f32, e / l1);
    worst_ref = std::max(worst_ref, std::fabs(dot_at(m, n, true) - dot_at(m + shift, n + shift, true)) / l1);

    // int16 Q12: exact int64 dot products of the integer outputs.
    std::vector<int16_t> qi(d), ki(d);
    for (int i = 0; i < d; ++i) {
      qi[i] = static_cast<int16_t>(std::lround(q[i] * 4096));
      ki[i] = static_cast<int16_t>(std::lround(k[i] * 4096));
    }
    auto int_dot_at = [&](int64_t pm, int64_t pn) {
      std::vector<int16_t> qr = qi, kr = ki;
      REQUIRE(rope_rotate_int16(qr.data(), 1, s, pm).ok());
      REQUIRE(rope_rotate_int16(kr.data(), 1, s, pn).ok());
      int64_t acc = 0;
      for (int i = 0; i < d; ++i) acc += int64_t{qr[i]} * kr[i];
      return acc;
    };
    long double bound_int = 0;  // LSB^2; per component e <= 0.5 + |pair|_1 2^-15
    for (int j = 0; j < d / 2; ++j) {
      const long double eq = 0.5L + pair_l1(qi, s, 0, j) * 0x1p-15L,
                        ek = 0.5L + pair_l1(ki, s, 0, j) * 0x1p-15L;
      // Each computed dot is within sum_i |Rq_i| ek + |Rk_i| eq + eq ek of the exact (shift-invariant) one.
      bound_int += 2 * 2 * (pair_l1(qi, s, 0, j) * ek + pair_l1(ki, s, 0, j) * eq + eq * ek);
    }
    const long double ei =
        std::fabs(static_cast<long double>(int_dot_at(m, n) - int_dot_at(m + shift, n + shift)));
    REQUIRE(ei <= bound_int);
    worst_int = std::max(worst_int, ei / (4096.0L * 4096.0L));
  }
  MESSAGE("max |dq.k| / l1: Q31 f32 "
          << static_cast<double>(worst_f32) << ", float32 reference " << static_cast<double>(worst_ref)
          << "; int16 Q12 max |dq.k| = " << static_cast<double>(worst_int) << " (real units)");
  CHECK(worst_ref > 1e3L * worst_f32);  // the comparison is meaningful: the float path is not shift invariant
}

TEST_CASE("int8 data: scale kept, error <= 0.5 + (|a|+|b|) 2^-15 LSB when not saturated") {
  const int head_dim = 64, n_heads = 2;
  std::vector<uint64_t> f = base10000_freqs(head_dim);
  SplitMix64 rng(55);
  long double worst = 0;
  for (int trial = 0; trial < 500; ++trial) {
    const int64_t p = rng.between(-(int64_t{1} << 31), int64_t{1} << 31);
    std::vector<int8_t> x(head_dim * n_heads);
    for (auto& e : x) e = static_cast<int8_t>(rng.between(-89, 89));  // pair norm <= 126: never saturates
    const RopeShape s =
        make_shape(head_dim, head_dim, trial % 2 ? RopeLayout::kSplitHalf : RopeLayout::kInterleaved, f);
    const std::vector<long double> expected = exact_rotation(x, n_heads, s, p);
    std::vector<int8_t> y = x;
    REQUIRE(rope_rotate_int8(y.data(), n_heads, s, p).ok());
    for (int h = 0; h < n_heads; ++h) {
      for (int j = 0; j < head_dim / 2; ++j) {
        for (int idx : {rope_pair_first(s, j), rope_pair_second(s, j)}) {
          const long double err = std::fabs(y[h * head_dim + idx] - expected[h * head_dim + idx]);
          REQUIRE(err <= 0.5L + pair_l1(x, s, h, j) * 0x1p-15L);
          worst = std::max(worst, err);
        }
      }
    }
  }
  MESSAGE("int8 max error " << static_cast<double>(worst) << " LSB");
}

TEST_CASE("golden hashes: int16 (Q15 and Q31 sin/cos) and int8 RoPE of fixed inputs") {
  // Frequencies are integers from the PRNG, so this test does not depend on long double.
  SplitMix64 rng(0x90de11);
  std::vector<uint64_t> f(32);
  for (int j = 0; j < 32; ++j) f[j] = rng.next() >> (j + 1);
  const int64_t positions[] = {0, 1, 7, 1 << 10, 1 << 16, 1000000, 2147483647, -1, -65536};
  Fnv1a64 h16, h16q31, h8;
  for (RopeLayout layout : {RopeLayout::kInterleaved, RopeLayout::kSplitHalf}) {
    const RopeShape s = make_shape(80, 64, layout, f);
    for (int64_t p : positions) {
      std::vector<int16_t> x = random_int16(rng, 80 * 3, 32767);
      std::vector<int16_t> x31 = x;
      std::vector<int8_t> x8(80 * 3);
      for (auto& e : x8) e = static_cast<int8_t>(rng.between(-128, 127));
      REQUIRE(rope_rotate_int16(x.data(), 3, s, p, RopePrecision::kQ15).ok());
      REQUIRE(rope_rotate_int16(x31.data(), 3, s, p, RopePrecision::kQ31).ok());
      REQUIRE(rope_rotate_int8(x8.data(), 3, s, p).ok());
      for (int16_t v : x) h16.add_i16(v);
      for (int16_t v : x31) h16q31.add_i16(v);
      for (int8_t v : x8) h8.add_i8(v);
    }
  }
  CHECK(h16.value() == 0x6ddfcdf9a908f50aull);
  CHECK(h16q31.value() == 0xd4a053cbae169728ull);
  CHECK(h8.value() == 0x5f931f6d54bea979ull);
}
