// The attention kernel (kernels/attention.hpp): softmax_exp's error bound against double exp (and SwiGLU,
// which uses it), the kernels
// against a double-precision attention, every SIMD path bit for bit against the scalar definition, and
// the arithmetic contract spelled out independently here for a few cases.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/simd.hpp"
#include "kv_cache.hpp"
#include "numerics/strict_float.hpp"  // the contract test spells out unfused operations
#include "support/synthetic_model.hpp"

using namespace ordinal;
using namespace ordinal::kernels;

namespace {

// Distance in units of the last place of the float nearest `want` (want > 0, normal).
double ulps(float got, double want) {
  int e = 0;
  std::frexp(want, &e);                        // want = m 2^e, m in [0.5, 1)
  const double ulp = std::ldexp(1.0, e - 24);  // float spacing at want
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

struct Case {
  size_t keys, hd, group, kv, stride_extra;  // kv: KV heads in the call (<= 3), group * kv query heads
  bool bias;
  float logit_scale;
};

struct Buffers {
  std::vector<float> q, k, v, bias, scores, out, partials;
  std::vector<int8_t> k8, v8;
  std::vector<uint16_t> ks, vs;
  size_t stride = 0, scores_stride = 0;
};

Buffers make_buffers(const Case& c, uint64_t seed) {
  testing::TestRng rng(seed);
  Buffers b;
  const size_t heads = c.group * c.kv;
  b.stride = c.kv * c.hd + c.stride_extra;
  b.q = testing::random_values(rng, heads * c.hd, 2.0f);
  b.k = testing::random_values(rng, c.keys * b.stride, 2.0f);
  b.v = testing::random_values(rng, c.keys * b.stride, 1.0f);
  b.scores_stride = c.keys + 5;
  b.bias = testing::random_values(rng, heads * b.scores_stride, 3.0f);
  b.scores.assign(heads * b.scores_stride, 0.0f);
  b.out.assign(heads * c.hd, -1.0f);
  b.partials.assign(attention_partials_floats(heads, c.hd), -7.0f);
  b.k8.resize(b.k.size());
  b.v8.resize(b.v.size());
  for (size_t i = 0; i < b.k8.size(); ++i) {
    b.k8[i] = static_cast<int8_t>(static_cast<int>(rng.next() % 255) - 127);
    b.v8[i] = static_cast<int8_t>(static_cast<int>(rng.next() % 255) - 127);
  }
  for (size_t t = 0; t < c.keys * 3; ++t) {  // scale_stride 3: as a cache with three KV heads
    b.ks.push_back(detail::kv_scale_round_up(0.001f + rng.uniform() * 0.03f));
    b.vs.push_back(detail::kv_scale_round_up(0.001f + rng.uniform() * 0.01f));
  }
  return b;
}

AttentionArgs args_for(const Case& c, Buffers& b) {
  AttentionArgs a;
  a.keys = c.keys;
  a.head_dim = c.hd;
  a.heads = c.group * c.kv;
  a.group = c.group;
  a.kv_stride = b.stride;
  a.partials = b.partials.data();
  a.q = b.q.data();
  a.out = b.out.data();
  a.bias = c.bias ? b.bias.data() : nullptr;
  a.bias_stride = b.scores_stride;
  a.scores = b.scores.data();
  a.scores_stride = b.scores_stride;
  return a;
}

// Attention in double over the given (dequantized) keys/values and per-key score factors.
std::vector<double> reference(const Case& c, const Buffers& b, bool int8) {
  std::vector<double> out(c.group * c.kv * c.hd, 0.0);
  const double norm = std::sqrt(static_cast<double>(c.hd));
  for (size_t g = 0; g < c.group * c.kv; ++g) {
    const size_t kv = g / c.group;
    std::vector<double> s(c.keys);
    double m = -std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < c.keys; ++t) {
      double dot = 0;
      for (size_t d = 0; d < c.hd; ++d) {
        const double k = int8 ? b.k8[t * b.stride + kv * c.hd + d] *
                                    static_cast<double>(detail::kv_scale_to_float(b.ks[kv + t * 3]))
                              : b.k[t * b.stride + kv * c.hd + d];
        dot += static_cast<double>(b.q[g * c.hd + d]) * k;
      }
      s[t] = dot / norm * c.logit_scale + (c.bias ? b.bias[g * b.scores_stride + t] : 0.0);
      m = std::max(m, s[t]);
    }
    double sum = 0;
    for (double& x : s) sum += (x = std::exp(x - m));
    for (size_t t = 0; t < c.keys; ++t) {
      for (size_t d = 0; d < c.hd; ++d) {
        const double v = int8 ? b.v8[t * b.stride + kv * c.hd + d] *
                                    static_cast<double>(detail::kv_scale_to_float(b.vs[kv + t * 3]))
                              : b.v[t * b.stride + kv * c.hd + d];
        out[g * c.hd + d] += s[t] / sum * v;
      }
    }
  }
  return out;
}

// Keys beyond one 64-key tile, tails of 1..7 keys and of 1..3 in the value sums, head dims of one, two and
// several 8-blocks (and 12 and 4: the scalar definition), one to three KV heads per call with 1..3 queries.
const Case kCases[] = {
    {1, 8, 1, 1, 0, false, 1.0f},   {7, 8, 2, 2, 8, true, 1.0f},     {8, 8, 1, 3, 0, false, 1.0f},
    {13, 16, 2, 1, 16, true, 1.0f}, {64, 64, 1, 2, 0, false, 1.0f},  {100, 48, 3, 1, 48, true, 0.7f},
    {33, 24, 1, 3, 8, false, 1.0f}, {257, 64, 2, 2, 64, true, 1.0f}, {20, 12, 2, 2, 4, true, 1.3f},
    {5, 4, 1, 1, 0, false, 1.0f},   {300, 8, 2, 3, 24, false, 1.0f}, {130, 8, 2, 2, 0, true, 1.0f},
    {66, 16, 4, 1, 0, false, 1.0f},
};

}  // namespace

TEST_CASE("softmax_exp: within 1 ulp of exp over [-87, 0]; 0, -inf, NaN and underflow") {
  double worst = 0;
  float worst_x = 0;
  // Every float in [-1, 0] with a stride, then the whole range [-87, -1] with a stride: ~10^7 points.
  auto check = [&](float x) {
    const double want = std::exp(static_cast<double>(x));
    const double u = ulps(softmax_exp(x), want);
    if (u > worst) {
      worst = u;
      worst_x = x;
    }
  };
  uint32_t lo, hi;
  float minus_one = -1.0f, minus_87 = -87.0f;
  std::memcpy(&lo, &minus_one, 4);
  std::memcpy(&hi, &minus_87, 4);
  for (uint32_t bits = 0x80000000u; bits <= lo; bits += 211) {
    float x;
    std::memcpy(&x, &bits, 4);
    check(x);
  }
  for (uint32_t bits = lo; bits <= hi; bits += 17) {
    float x;
    std::memcpy(&x, &bits, 4);
    check(x);
  }
  check(-87.0f);
  MESSAGE("softmax_exp: worst error " << worst << " ulp at x = " << worst_x);
  CHECK(worst <= 1.0);
  CHECK(worst > 0.0);  // the sweep really measures something
  CHECK(softmax_exp(0.0f) == 1.0f);
  CHECK(softmax_exp(-0.0f) == 1.0f);
  CHECK(softmax_exp(-87.5f) == 0.0f);
  CHECK(softmax_exp(-std::numeric_limits<float>::infinity()) == 0.0f);
  CHECK(std::isnan(softmax_exp(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("attention kernels: f32 and int8 caches against a double-precision attention") {
  for (const Case& c : kCases) {
    for (bool int8 : {false, true}) {
      Buffers b = make_buffers(c, c.keys * 31 + c.hd);
      AttentionArgs a = args_for(c, b);
      if (int8) {
        AttentionI8 k8{b.k8.data(), b.v8.data(), b.ks.data(),
                       b.vs.data(), 3,           c.logit_scale / std::sqrt(static_cast<float>(c.hd))};
        attention_i8(a, k8);
      } else {
        attention_f32(
            a, AttentionF32{b.k.data(), b.v.data(), c.logit_scale / std::sqrt(static_cast<float>(c.hd))});
      }
      const std::vector<double> want = reference(c, b, int8);
      double worst = 0, scale = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        worst = std::max(worst, std::fabs(b.out[i] - want[i]));
        scale = std::max(scale, std::fabs(want[i]));
      }
      // Values are O(1) (f32) or O(1) (int8: |code| <= 127 times scales <= 0.011): a few float roundings
      // per key and a sum of `keys` terms.
      CHECK_MESSAGE(worst <= 1e-5 * (1.0 + scale),
                    "keys " << c.keys << " hd " << c.hd << " int8 " << int8 << ": max error " << worst);
    }
  }
}

TEST_CASE("attention kernels: every SIMD path gives the scalar definition's bits") {
  for (int i = 0; i < kIsaCount; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (!isa_supported(isa)) continue;
    const AttentionKernels& k = attention_kernels_for(isa);
    for (const Case& c : kCases) {
      Buffers s = make_buffers(c, 99 + c.keys), v = make_buffers(c, 99 + c.keys);
      AttentionArgs as = args_for(c, s), av = args_for(c, v);
      const AttentionF32 fs{s.k.data(), s.v.data(), c.logit_scale / std::sqrt(static_cast<float>(c.hd))};
      const AttentionF32 fv{v.k.data(), v.v.data(), c.logit_scale / std::sqrt(static_cast<float>(c.hd))};
      scalar::attention_f32(as, fs);
      k.f32(av, fv);
      CHECK_MESSAGE(std::memcmp(s.out.data(), v.out.data(), s.out.size() * 4) == 0,
                    isa_name(isa) << " f32 keys " << c.keys << " hd " << c.hd);
      const float logit = c.logit_scale / std::sqrt(static_cast<float>(c.hd));
      scalar::attention_i8(as, AttentionI8{s.k8.data(), s.v8.data(), s.ks.data(), s.vs.data(), 3, logit});
      k.i8(av, AttentionI8{v.k8.data(), v.v8.data(), v.ks.data(), v.vs.data(), 3, logit});
      CHECK_MESSAGE(std::memcmp(s.out.data(), v.out.data(), s.out.size() * 4) == 0,
                    isa_name(isa) << " int8 keys " << c.keys << " hd " << c.hd);
    }
  }
}

TEST_CASE("attention contract: scores, softmax and the four interleaved value sums, written out") {
  // One head, head_dim 8, 6 keys, f32: the contract's operations one by one, compared bit for bit.
  const Case c{6, 8, 1, 1, 0, true, 1.0f};
  Buffers b = make_buffers(c, 5);
  AttentionArgs a = args_for(c, b);
  const float logit = 1.0f / std::sqrt(8.0f);
  attention_f32(a, AttentionF32{b.k.data(), b.v.data(), logit});
  float s[6];
  for (size_t t = 0; t < 6; ++t) {
    // head_dim 8: the one block's products are the lane sums, then the canonical tree.
    float p[8];
    for (size_t l = 0; l < 8; ++l) p[l] = b.q[l] * b.k[t * 8 + l];
    const float dot = ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
    s[t] = dot * logit + b.bias[t];
  }
  float m = s[0];
  for (float x : s) m = x > m ? x : m;
  float e[6], sum = 0.0f;
  for (size_t t = 0; t < 6; ++t) sum = sum + (e[t] = softmax_exp(s[t] - m));  // 6 < 8: all in the tail
  for (size_t d = 0; d < 8; ++d) {
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t t = 0; t < 6; ++t) acc[t % 4] = acc[t % 4] + e[t] * b.v[t * 8 + d];
    const float want = ((acc[0] + acc[1]) + (acc[2] + acc[3])) / sum;
    CHECK(std::memcmp(&want, &b.out[d], 4) == 0);
  }
}

TEST_CASE(
    "attention contract, int8 cache: widened codes, per-key score factors, weights times value scales") {
  // Two query heads over 11 keys of head_dim 16 with a three-head cache's scale stride, written out.
  const Case c{11, 16, 2, 1, 0, true, 0.8f};
  Buffers b = make_buffers(c, 21);
  AttentionArgs a = args_for(c, b);
  const float logit = c.logit_scale / std::sqrt(16.0f);
  attention_i8(a, AttentionI8{b.k8.data(), b.v8.data(), b.ks.data(), b.vs.data(), 3, logit});
  for (size_t g = 0; g < 2; ++g) {
    const float* q = b.q.data() + g * 16;
    float s[11];
    for (size_t t = 0; t < 11; ++t) {
      float p[8];
      for (size_t l = 0; l < 8; ++l) p[l] = q[l] * static_cast<float>(b.k8[t * 16 + l]);
      for (size_t l = 0; l < 8; ++l) p[l] = p[l] + q[8 + l] * static_cast<float>(b.k8[t * 16 + 8 + l]);
      const float dot = ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
      s[t] = dot * (detail::kv_scale_to_float(b.ks[t * 3]) * logit) + b.bias[g * b.scores_stride + t];
    }
    float m = s[0];
    for (float x : s) m = x > m ? x : m;
    float e[11], p8[8] = {};
    for (size_t t = 0; t < 8; ++t) p8[t] = p8[t] + (e[t] = softmax_exp(s[t] - m));
    float sum = ((p8[0] + p8[4]) + (p8[2] + p8[6])) + ((p8[1] + p8[5]) + (p8[3] + p8[7]));
    for (size_t t = 8; t < 11; ++t) sum = sum + (e[t] = softmax_exp(s[t] - m));
    for (size_t d = 0; d < 16; ++d) {
      float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (size_t t = 0; t < 11; ++t) {
        const float w = e[t] * detail::kv_scale_to_float(b.vs[t * 3]);
        acc[t % 4] = acc[t % 4] + static_cast<float>(b.v8[t * 16 + d]) * w;
      }
      const float want = ((acc[0] + acc[1]) + (acc[2] + acc[3])) / sum;
      CHECK(std::memcmp(&want, &b.out[g * 16 + d], 4) == 0);
    }
  }
}

TEST_CASE("swiglu on softmax_exp: within 4 ulp of v sigmoid(v) up, AVX2 bits equal the scalar definition") {
  testing::TestRng rng(77);
  const size_t n = 100003;
  std::vector<float> gate(n), up(n);
  for (size_t i = 0; i < n; ++i) {
    gate[i] = rng.symmetric(1.0f) * std::exp2(rng.symmetric(8.0f));  // magnitudes 2^-8 .. 2^8, both signs
    up[i] = rng.symmetric(2.0f);
  }
  gate[0] = 0.0f;
  gate[1] = -0.0f;
  gate[2] = 100.0f;
  gate[3] = -100.0f;
  std::vector<float> g1 = gate, g2 = gate;
  scalar::swiglu(g1.data(), up.data(), n);
  swiglu(g2.data(), up.data(), n);  // the active path
  CHECK(std::memcmp(g1.data(), g2.data(), n * sizeof(float)) == 0);
  if (SwigluFn avx2 = swiglu_avx2(); avx2 && isa_supported(Isa::kAvx2)) {
    std::vector<float> g3 = gate;
    avx2(g3.data(), up.data(), n);
    CHECK(std::memcmp(g1.data(), g3.data(), n * sizeof(float)) == 0);
  }
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = gate[i];
    const double want = v / (1.0 + std::exp(-v)) * up[i];
    if (want == 0.0 || std::fabs(want) < 1e-30) continue;
    const double u =
        std::signbit(g1[i]) == std::signbit(want) ? ulps(std::fabs(g1[i]), std::fabs(want)) : 1e9;
    worst = std::max(worst, u);
  }
  MESSAGE("swiglu: worst error " << worst << " ulp");
  CHECK(worst <= 4.0);
  CHECK(g1[2] == 100.0f * up[2]);
  CHECK(g1[3] == 0.0f);  // -100 sigmoid(-100) ~ -4e-42 underflows through e^-100 < e^-87 -> 0
}
