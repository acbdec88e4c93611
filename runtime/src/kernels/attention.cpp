// The scalar definition of the attention kernels (attention.hpp) and the per-ISA choice.
#include "kernels/attention.hpp"

#include <cstring>

#include "kv_cache.hpp"
#include "numerics/strict_float.hpp"  // no FMA contraction: these loops define the bits every path matches

namespace ordinal::kernels {

namespace {

// softmax_exp's constants; attention_x86.cpp / attention_neon.cpp use the same values.
constexpr float kExpLowest = -87.0f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
constexpr float kLn2Hi = 0.693359375f;      // 9 significant bits: n * kLn2Hi is exact for |n| <= 127
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpP0 = 1.9875691500e-4f, kExpP1 = 1.3981999507e-3f, kExpP2 = 8.3334519073e-3f,
                kExpP3 = 4.1665795894e-2f, kExpP4 = 1.6666665459e-1f, kExpP5 = 5.0000001201e-1f;

// The canonical dot order of vector_ops.hpp, inlined; the first block's products start the lane sums.
template <typename K>
inline float canonical_dot(const float* q, const K* k, size_t n) {
  float p[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  size_t i = 0;
  if (n >= 8) {
    for (size_t l = 0; l < 8; ++l) p[l] = q[l] * static_cast<float>(k[l]);
    i = 8;
  }
  for (; i + 8 <= n; i += 8) {
    for (size_t l = 0; l < 8; ++l) p[l] = p[l] + q[i + l] * static_cast<float>(k[i + l]);
  }
  const float t0 = p[0] + p[4], t1 = p[1] + p[5], t2 = p[2] + p[6], t3 = p[3] + p[7];
  float s = (t0 + t2) + (t1 + t3);
  for (; i < n; ++i) s = s + q[i] * static_cast<float>(k[i]);
  return s;
}

// out[d] over the four interleaved partial sums; term(t, d) is one key's rounded contribution. Keys outer,
// dimensions inner (a key's vector is read once, in order), 32 dimensions at a time.
template <typename Term>
inline void weighted_sum(size_t keys, size_t hd, float sum, float* out, Term term) {
  constexpr size_t kChunk = 32;
  for (size_t d0 = 0; d0 < hd; d0 += kChunk) {
    const size_t w = hd - d0 < kChunk ? hd - d0 : kChunk;
    float a[4][kChunk] = {};
    for (size_t t = 0; t < keys; ++t) {
      float* at = a[t & 3];
      for (size_t d = 0; d < w; ++d) at[d] = at[d] + term(t, d0 + d);
    }
    for (size_t d = 0; d < w; ++d) out[d0 + d] = ((a[0][d] + a[1][d]) + (a[2][d] + a[3][d])) / sum;
  }
}

}  // namespace

float softmax_exp(float x) {
  if (!(x >= kExpLowest)) return x != x ? x : 0.0f;
  const float n = (x * kLog2e + kRoundMagic) - kRoundMagic;
  float r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float p = kExpP0;
  p = p * r + kExpP1;
  p = p * r + kExpP2;
  p = p * r + kExpP3;
  p = p * r + kExpP4;
  p = p * r + kExpP5;
  const float y = (p * (r * r) + r) + 1.0f;
  // y in [0.70, 1.42] and n >= -126 with y >= 1 when n = -126 (x >= -87): y * 2^n is a normal float.
  uint32_t bits;
  std::memcpy(&bits, &y, sizeof bits);
  bits += static_cast<uint32_t>(static_cast<int32_t>(n)) << 23;
  float e;
  std::memcpy(&e, &bits, sizeof e);
  return e;
}

namespace scalar {

float softmax_row(float* x, size_t n) {
  float m = x[0];
  for (size_t i = 1; i < n; ++i) m = x[i] > m ? x[i] : m;
  float p[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t l = 0; l < 8; ++l) {
      x[i + l] = softmax_exp(x[i + l] - m);
      p[l] = p[l] + x[i + l];
    }
  }
  const float t0 = p[0] + p[4], t1 = p[1] + p[5], t2 = p[2] + p[6], t3 = p[3] + p[7];
  float sum = (t0 + t2) + (t1 + t3);
  for (; i < n; ++i) {
    x[i] = softmax_exp(x[i] - m);
    sum = sum + x[i];
  }
  return sum;
}

void attention_f32(const AttentionArgs& a, const AttentionF32& c) {
  const size_t hd = a.head_dim, stride = a.kv_stride;
  for (size_t g = 0; g < a.heads; ++g) {
    const float* q = a.q + g * hd;
    const float* kh = c.k + g / a.group * hd;
    const float* vh = c.v + g / a.group * hd;
    float* s = a.scores + g * a.scores_stride;
    for (size_t t = 0; t < a.keys; ++t) {
      s[t] = canonical_dot(q, kh + t * stride, hd) * c.logit;
    }
    if (a.bias) {
      const float* b = a.bias + g * a.bias_stride;
      for (size_t t = 0; t < a.keys; ++t) s[t] = s[t] + b[t];
    }
    const float sum = softmax_row(s, a.keys);
    weighted_sum(a.keys, hd, sum, a.out + g * hd,
                 [&](size_t t, size_t d) { return s[t] * vh[t * stride + d]; });
  }
}

void attention_i8(const AttentionArgs& a, const AttentionI8& c) {
  const size_t hd = a.head_dim, stride = a.kv_stride;
  for (size_t g = 0; g < a.heads; ++g) {
    const size_t kv = g / a.group;
    const float* q = a.q + g * hd;
    const int8_t* kh = c.k + kv * hd;
    const int8_t* vh = c.v + kv * hd;
    float* s = a.scores + g * a.scores_stride;
    for (size_t t = 0; t < a.keys; ++t) {
      const float ks = detail::kv_scale_to_float(c.k_scales[kv + t * c.scale_stride]) * c.logit;
      s[t] = canonical_dot(q, kh + t * stride, hd) * ks;
    }
    if (a.bias) {
      const float* b = a.bias + g * a.bias_stride;
      for (size_t t = 0; t < a.keys; ++t) s[t] = s[t] + b[t];
    }
    const float sum = softmax_row(s, a.keys);
    for (size_t t = 0; t < a.keys; ++t)
      s[t] = s[t] * detail::kv_scale_to_float(c.v_scales[kv + t * c.scale_stride]);
    weighted_sum(a.keys, hd, sum, a.out + g * hd,
                 [&](size_t t, size_t d) { return static_cast<float>(vh[t * stride + d]) * s[t]; });
  }
}

}  // namespace scalar

namespace {

const AttentionKernels kScalarAttention = {Isa::kScalar, scalar::attention_f32, scalar::attention_i8};

}  // namespace

const AttentionKernels& attention_kernels_for(Isa isa) {
  const AttentionKernels* k = nullptr;
  if (isa_supported(isa)) {
    if (isa == Isa::kAvx2) k = attention_avx2();
    if (isa == Isa::kNeon) k = attention_neon();
  }
  return k ? *k : kScalarAttention;
}

const AttentionKernels& attention_kernels() {
  static const AttentionKernels* table = &attention_kernels_for(active_isa());
  return *table;
}

}  // namespace ordinal::kernels
