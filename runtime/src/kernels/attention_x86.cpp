// AVX2 attention kernels (attention.hpp), bit-identical to the scalar definition in attention.cpp.
// Built with the baseline flags; only ORDINAL_AVX2 functions use AVX2 (target attribute). No FMA.
//
// Scores: eight keys at a time, each key's eight lane sums in one register over the head's 8-wide blocks;
// the canonical reduction tree (t[l] = p[l] + p[l+4], then (t0 + t2) + (t1 + t3)) is done for the eight
// keys together by a half swap and a 4x4 transpose, so it costs about three shuffles per key instead of a
// horizontal reduction per key. Values: 16 dimensions x 4 interleaved key sums per pass.
// Head dims that are not a multiple of 8 take the scalar definition.
#include "kernels/attention.hpp"
#include "numerics/strict_float.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstring>

#include "kv_cache.hpp"

#define ORDINAL_AVX2 __attribute__((target("avx2")))

namespace ordinal::kernels {

namespace {

// Eight keys' lane sums a0..a7 -> their eight canonical dot products, key j in lane j.
ORDINAL_AVX2 inline __m256 reduce8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5,
                                   __m256 a6, __m256 a7) {
  // b_j = [T_j | T_{j+4}] with T_k[l] = p_k[l] + p_k[l+4] (low half plus high half of key k's lanes).
  const __m256 b0 = _mm256_add_ps(_mm256_permute2f128_ps(a0, a4, 0x20), _mm256_permute2f128_ps(a0, a4, 0x31));
  const __m256 b1 = _mm256_add_ps(_mm256_permute2f128_ps(a1, a5, 0x20), _mm256_permute2f128_ps(a1, a5, 0x31));
  const __m256 b2 = _mm256_add_ps(_mm256_permute2f128_ps(a2, a6, 0x20), _mm256_permute2f128_ps(a2, a6, 0x31));
  const __m256 b3 = _mm256_add_ps(_mm256_permute2f128_ps(a3, a7, 0x20), _mm256_permute2f128_ps(a3, a7, 0x31));
  // Transpose the 4x4 blocks: d_l holds T_k[l] for the keys k of each half.
  const __m256 u0 = _mm256_unpacklo_ps(b0, b1), u1 = _mm256_unpackhi_ps(b0, b1);
  const __m256 u2 = _mm256_unpacklo_ps(b2, b3), u3 = _mm256_unpackhi_ps(b2, b3);
  const __m256 d0 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(u0), _mm256_castps_pd(u2)));
  const __m256 d1 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(u0), _mm256_castps_pd(u2)));
  const __m256 d2 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(u1), _mm256_castps_pd(u3)));
  const __m256 d3 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(u1), _mm256_castps_pd(u3)));
  return _mm256_add_ps(_mm256_add_ps(d0, d2), _mm256_add_ps(d1, d3));  // (t0 + t2) + (t1 + t3)
}

ORDINAL_AVX2 inline __m256 load_k(const float* k) {
  return _mm256_loadu_ps(k);
}
ORDINAL_AVX2 inline __m256 load_k(const int8_t* k) {
  int64_t codes;
  std::memcpy(&codes, k, sizeof codes);
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(codes)));
}

// The canonical dots of q with the eight key vectors k[0..7] (hd a multiple of 8).
template <typename K>
ORDINAL_AVX2 inline __m256 dots_of_8(const float* q, const K* const* k, size_t hd) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < hd; i += 8) {
    const __m256 qv = _mm256_loadu_ps(q + i);
    a0 = _mm256_add_ps(a0, _mm256_mul_ps(qv, load_k(k[0] + i)));
    a1 = _mm256_add_ps(a1, _mm256_mul_ps(qv, load_k(k[1] + i)));
    a2 = _mm256_add_ps(a2, _mm256_mul_ps(qv, load_k(k[2] + i)));
    a3 = _mm256_add_ps(a3, _mm256_mul_ps(qv, load_k(k[3] + i)));
    a4 = _mm256_add_ps(a4, _mm256_mul_ps(qv, load_k(k[4] + i)));
    a5 = _mm256_add_ps(a5, _mm256_mul_ps(qv, load_k(k[5] + i)));
    a6 = _mm256_add_ps(a6, _mm256_mul_ps(qv, load_k(k[6] + i)));
    a7 = _mm256_add_ps(a7, _mm256_mul_ps(qv, load_k(k[7] + i)));
  }
  return reduce8(a0, a1, a2, a3, a4, a5, a6, a7);
}

// dots[t] for t < keys: the canonical q . k_t (hd a multiple of 8).
template <typename K>
ORDINAL_AVX2 inline void dots8(const float* q, const K* k, size_t stride, size_t keys, size_t hd,
                               float* dots) {
  size_t t0 = 0;
  const K* rows[8];
  for (; t0 + 8 <= keys; t0 += 8) {
    for (size_t j = 0; j < 8; ++j) rows[j] = k + (t0 + j) * stride;
    _mm256_storeu_ps(dots + t0, dots_of_8(q, rows, hd));
  }
  if (t0 < keys) {  // the last 1..7 keys; the missing rows repeat the last key and are not stored
    const size_t n = keys - t0;
    for (size_t j = 0; j < 8; ++j) rows[j] = k + (t0 + (j < n ? j : n - 1)) * stride;
    float tmp[8];
    _mm256_storeu_ps(tmp, dots_of_8(q, rows, hd));
    std::memcpy(dots + t0, tmp, n * sizeof(float));
  }
}

// softmax_exp on eight lanes (same operations as attention.cpp).
ORDINAL_AVX2 inline __m256 exp8(__m256 x) {
  const __m256 valid = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_GE_OQ);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  const __m256 n =
      _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), magic), magic);
  __m256 r = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(0.693359375f)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(n, _mm256_set1_ps(-2.12194440e-4f)));
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y =
      _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_add_epi32(_mm256_castps_si256(y), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23));
  const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(bits), valid);
  return _mm256_blendv_ps(e, x, nan);
}

ORDINAL_AVX2 void softmax_row_avx2(float* x, size_t n) {
  size_t i = 0;
  float m = x[0];
  if (n >= 8) {
    __m256 mv = _mm256_set1_ps(x[0]);
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      mv = _mm256_blendv_ps(mv, v, _mm256_cmp_ps(v, mv, _CMP_GT_OQ));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, mv);
    for (int l = 0; l < 8; ++l) m = lanes[l] > m ? lanes[l] : m;
  }
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  const __m256 mv = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));
  float sum = _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 0x55)));
  for (size_t j = i; j < n; ++j) {
    x[j] = softmax_exp(x[j] - m);
    sum = sum + x[j];
  }
  const __m256 sv = _mm256_set1_ps(sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_div_ps(_mm256_loadu_ps(x + i), sv));
  for (; i < n; ++i) x[i] = x[i] / sum;
}

ORDINAL_AVX2 inline __m256 load_v(const float* v) {
  return _mm256_loadu_ps(v);
}
ORDINAL_AVX2 inline __m256 load_v(const int8_t* v) {
  return load_k(v);
}

// out[d] = (a0 + a1) + (a2 + a3), a_j summing fl(w_t * v_t[d]) over t = j mod 4 (hd a multiple of 8).
template <typename V>
ORDINAL_AVX2 inline void weighted_sum8(const float* w, const V* v, size_t stride, size_t keys, size_t hd,
                                       float* out) {
  size_t d = 0;
  for (; d + 16 <= hd; d += 16) {
    __m256 a[4][2];
    for (int j = 0; j < 4; ++j) a[j][0] = a[j][1] = _mm256_setzero_ps();
    const V* vt = v + d;
    size_t t = 0;
    for (; t + 4 <= keys; t += 4, vt += 4 * stride) {
      for (int j = 0; j < 4; ++j) {
        const __m256 wt = _mm256_set1_ps(w[t + j]);
        a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(wt, load_v(vt + j * stride)));
        a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(wt, load_v(vt + j * stride + 8)));
      }
    }
    for (int j = 0; t < keys; ++t, ++j, vt += stride) {
      const __m256 wt = _mm256_set1_ps(w[t]);
      a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(wt, load_v(vt)));
      a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(wt, load_v(vt + 8)));
    }
    for (int h = 0; h < 2; ++h) {
      _mm256_storeu_ps(out + d + 8 * h,
                       _mm256_add_ps(_mm256_add_ps(a[0][h], a[1][h]), _mm256_add_ps(a[2][h], a[3][h])));
    }
  }
  if (d < hd) {  // one last block of 8 (all of a head_dim 8 head)
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const V* vt = v + d;
    size_t t = 0;
    for (; t + 4 <= keys; t += 4, vt += 4 * stride) {
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(w[t]), load_v(vt)));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_set1_ps(w[t + 1]), load_v(vt + stride)));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_set1_ps(w[t + 2]), load_v(vt + 2 * stride)));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_set1_ps(w[t + 3]), load_v(vt + 3 * stride)));
    }
    if (t < keys) a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(w[t]), load_v(vt)));
    if (t + 1 < keys) a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_set1_ps(w[t + 1]), load_v(vt + stride)));
    if (t + 2 < keys)
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_set1_ps(w[t + 2]), load_v(vt + 2 * stride)));
    _mm256_storeu_ps(out + d, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  }
}

ORDINAL_AVX2 void add_bias(float* s, const float* b, size_t n) {
  size_t t = 0;
  for (; t + 8 <= n; t += 8)
    _mm256_storeu_ps(s + t, _mm256_add_ps(_mm256_loadu_ps(s + t), _mm256_loadu_ps(b + t)));
  for (; t < n; ++t) s[t] = s[t] + b[t];
}

ORDINAL_AVX2 void attention_f32_avx2(const AttentionArgs& a, const AttentionF32& c) {
  const size_t hd = a.head_dim;
  if (hd % 8 != 0 || a.keys == 0) return scalar::attention_f32(a, c);
  const __m256 norm = _mm256_set1_ps(c.norm), scale = _mm256_set1_ps(c.logit_scale);
  for (size_t g = 0; g < a.group; ++g) {
    float* s = a.scores + g * a.scores_stride;
    dots8(a.q + g * hd, c.k, a.kv_stride, a.keys, hd, s);
    size_t t = 0;
    for (; t + 8 <= a.keys; t += 8) {
      __m256 v = _mm256_div_ps(_mm256_loadu_ps(s + t), norm);
      if (c.logit_scale != 1.0f) v = _mm256_mul_ps(v, scale);
      _mm256_storeu_ps(s + t, v);
    }
    for (; t < a.keys; ++t) {
      s[t] = s[t] / c.norm;
      if (c.logit_scale != 1.0f) s[t] = s[t] * c.logit_scale;
    }
    if (a.bias) add_bias(s, a.bias + g * a.bias_stride, a.keys);
    softmax_row_avx2(s, a.keys);
    weighted_sum8(s, c.v, a.kv_stride, a.keys, hd, a.out + g * hd);
  }
}

ORDINAL_AVX2 void attention_i8_avx2(const AttentionArgs& a, const AttentionI8& c) {
  const size_t hd = a.head_dim;
  if (hd % 8 != 0 || a.keys == 0) return scalar::attention_i8(a, c);
  for (size_t g = 0; g < a.group; ++g) {
    float* s = a.scores + g * a.scores_stride;
    dots8(a.q + g * hd, c.k, a.kv_stride, a.keys, hd, s);
    for (size_t t = 0; t < a.keys; ++t) {
      s[t] = s[t] * (detail::kv_scale_to_float(c.k_scales[t * c.scale_stride]) * c.logit);
    }
    if (a.bias) add_bias(s, a.bias + g * a.bias_stride, a.keys);
    softmax_row_avx2(s, a.keys);
    for (size_t t = 0; t < a.keys; ++t)
      s[t] = s[t] * detail::kv_scale_to_float(c.v_scales[t * c.scale_stride]);
    weighted_sum8(s, c.v, a.kv_stride, a.keys, hd, a.out + g * hd);
  }
}

const AttentionKernels kAvx2Attention = {Isa::kAvx2, attention_f32_avx2, attention_i8_avx2};

}  // namespace

const AttentionKernels* attention_avx2() {
  return &kAvx2Attention;
}

}  // namespace ordinal::kernels

#else

namespace ordinal::kernels {
const AttentionKernels* attention_avx2() {
  return nullptr;
}
}  // namespace ordinal::kernels

#endif
