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
#include "kernels/softmax_exp_avx2.hpp"

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
  __m256 qv = _mm256_loadu_ps(q);  // the first block's products start the lane sums (attention.hpp)
  __m256 a0 = _mm256_mul_ps(qv, load_k(k[0])), a1 = _mm256_mul_ps(qv, load_k(k[1]));
  __m256 a2 = _mm256_mul_ps(qv, load_k(k[2])), a3 = _mm256_mul_ps(qv, load_k(k[3]));
  __m256 a4 = _mm256_mul_ps(qv, load_k(k[4])), a5 = _mm256_mul_ps(qv, load_k(k[5]));
  __m256 a6 = _mm256_mul_ps(qv, load_k(k[6])), a7 = _mm256_mul_ps(qv, load_k(k[7]));
  for (size_t i = 8; i < hd; i += 8) {
    qv = _mm256_loadu_ps(q + i);
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

// How raw dots become scores: f32 divides by norm (then scales); int8 multiplies by the per-key factor
// fl(kscale_t * logit) that the caller left in the scores row.
struct ScoreF32 {
  float norm, scale;
  ORDINAL_AVX2 __m256 apply(__m256 d, const float*) const {
    d = _mm256_div_ps(d, _mm256_set1_ps(norm));
    return scale != 1.0f ? _mm256_mul_ps(d, _mm256_set1_ps(scale)) : d;
  }
};
struct ScoreI8 {
  ORDINAL_AVX2 __m256 apply(__m256 d, const float* factor) const {
    return _mm256_mul_ps(d, _mm256_loadu_ps(factor));
  }
};

ORDINAL_AVX2 inline float take_max(float a, float m) {
  return a > m ? a : m;
}

// Scores of all keys into s (finished and biased), returning their maximum. hd a multiple of 8.
template <typename K, typename Score>
ORDINAL_AVX2 float score_keys(const float* q, const K* k, size_t stride, size_t keys, size_t hd,
                              const Score& score, const float* bias, float* s) {
  __m256 mv = _mm256_set1_ps(-__builtin_inff());
  const K* rows[8];
  size_t t0 = 0;
  for (; t0 + 8 <= keys; t0 += 8) {
    for (size_t j = 0; j < 8; ++j) rows[j] = k + (t0 + j) * stride;
    __m256 d = score.apply(dots_of_8(q, rows, hd), s + t0);
    if (bias) d = _mm256_add_ps(d, _mm256_loadu_ps(bias + t0));
    _mm256_storeu_ps(s + t0, d);
    mv = _mm256_max_ps(d, mv);  // a NaN score is skipped here and still poisons its head through exp
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, mv);
  float m = lanes[0];
  for (int l = 1; l < 8; ++l) m = take_max(lanes[l], m);
  if (t0 < keys) {  // the last 1..7 keys; the missing rows repeat the last key and are dropped
    const size_t n = keys - t0;
    float factor[8];
    for (size_t j = 0; j < 8; ++j) {
      rows[j] = k + (t0 + (j < n ? j : n - 1)) * stride;
      factor[j] = s[t0 + (j < n ? j : n - 1)];
    }
    _mm256_storeu_ps(lanes, score.apply(dots_of_8(q, rows, hd), factor));
    for (size_t j = 0; j < n; ++j) {
      s[t0 + j] = bias ? lanes[j] + bias[t0 + j] : lanes[j];
      m = take_max(s[t0 + j], m);
    }
  }
  return m;
}

// x[t] = exp(x[t] - m); returns the canonical sum.
ORDINAL_AVX2 float exp_row(float* x, size_t n, float m) {
  const __m256 mv = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {  // two blocks per iteration: two independent polynomial chains in flight
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), mv));
    _mm256_storeu_ps(x + i, e0);
    _mm256_storeu_ps(x + i + 8, e1);
    acc = _mm256_add_ps(_mm256_add_ps(acc, e0), e1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));
  float sum = _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 0x55)));
  if (i < n) {  // the last 1..7 scores: exponentials on one padded vector, then added in order
    float tail[8] = {m, m, m, m, m, m, m, m};
    std::memcpy(tail, x + i, (n - i) * sizeof(float));
    _mm256_storeu_ps(tail, exp8(_mm256_sub_ps(_mm256_loadu_ps(tail), mv)));
    for (size_t j = 0; i < n; ++i, ++j) {
      x[i] = tail[j];
      sum = sum + x[i];
    }
  }
  return sum;
}

ORDINAL_AVX2 inline __m256 load_v(const float* v) {
  return _mm256_loadu_ps(v);
}
ORDINAL_AVX2 inline __m256 load_v(const int8_t* v) {
  return load_k(v);
}

// out[d] = ((a0 + a1) + (a2 + a3)) / sum, a_j summing fl(w_t * v_t[d]) over t = j mod 4 (hd a multiple of 8).
template <typename V>
ORDINAL_AVX2 inline void weighted_sum8(const float* w, const V* v, size_t stride, size_t keys, size_t hd,
                                       float sum, float* out) {
  const __m256 sv = _mm256_set1_ps(sum);
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
      const __m256 total = _mm256_add_ps(_mm256_add_ps(a[0][h], a[1][h]), _mm256_add_ps(a[2][h], a[3][h]));
      _mm256_storeu_ps(out + d + 8 * h, _mm256_div_ps(total, sv));
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
    _mm256_storeu_ps(out + d, _mm256_div_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), sv));
  }
}

ORDINAL_AVX2 void attention_f32_avx2(const AttentionArgs& a, const AttentionF32& c) {
  const size_t hd = a.head_dim;
  if (hd % 8 != 0 || a.keys == 0) return scalar::attention_f32(a, c);
  const ScoreF32 score{c.norm, c.logit_scale};
  for (size_t g = 0; g < a.group; ++g) {
    float* s = a.scores + g * a.scores_stride;
    const float* bias = a.bias ? a.bias + g * a.bias_stride : nullptr;
    const float m = score_keys(a.q + g * hd, c.k, a.kv_stride, a.keys, hd, score, bias, s);
    const float sum = exp_row(s, a.keys, m);
    weighted_sum8(s, c.v, a.kv_stride, a.keys, hd, sum, a.out + g * hd);
  }
}

ORDINAL_AVX2 void attention_i8_avx2(const AttentionArgs& a, const AttentionI8& c) {
  const size_t hd = a.head_dim;
  if (hd % 8 != 0 || a.keys == 0) return scalar::attention_i8(a, c);
  for (size_t g = 0; g < a.group; ++g) {
    float* s = a.scores + g * a.scores_stride;
    const float* bias = a.bias ? a.bias + g * a.bias_stride : nullptr;
    for (size_t t = 0; t < a.keys; ++t)
      s[t] = detail::kv_scale_to_float(c.k_scales[t * c.scale_stride]) * c.logit;
    const float m = score_keys(a.q + g * hd, c.k, a.kv_stride, a.keys, hd, ScoreI8{}, bias, s);
    const float sum = exp_row(s, a.keys, m);
    for (size_t t = 0; t < a.keys; ++t)
      s[t] = s[t] * detail::kv_scale_to_float(c.v_scales[t * c.scale_stride]);
    weighted_sum8(s, c.v, a.kv_stride, a.keys, hd, sum, a.out + g * hd);
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
