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

// How raw dots become scores: f32 multiplies by logit; int8 multiplies by the per-key factor
// fl(kscale_t * logit) that the caller left in the scores row.
struct ScoreF32 {
  float logit;
  ORDINAL_AVX2 __m256 apply(__m256 d, const float*) const { return _mm256_mul_ps(d, _mm256_set1_ps(logit)); }
};
struct ScoreI8 {
  ORDINAL_AVX2 __m256 apply(__m256 d, const float* factor) const {
    return _mm256_mul_ps(d, _mm256_loadu_ps(factor));
  }
};

ORDINAL_AVX2 inline float take_max(float a, float m) {
  return a > m ? a : m;
}

// Scores of keys [t_begin, t_end) into s (finished and biased), folding their maximum into *m. hd a multiple
// of 8; t_end - t_begin a multiple of 8 except for the call's last range.
template <typename K, typename Score>
ORDINAL_AVX2 void score_range(const float* q, const K* k, size_t stride, size_t t_begin, size_t t_end,
                              size_t hd, const Score& score, const float* bias, float* s, float* m) {
  __m256 mv = _mm256_set1_ps(*m);
  const K* rows[8];
  size_t t0 = t_begin;
  for (; t0 + 8 <= t_end; t0 += 8) {
    for (size_t j = 0; j < 8; ++j) rows[j] = k + (t0 + j) * stride;
    __m256 d = score.apply(dots_of_8(q, rows, hd), s + t0);
    if (bias) d = _mm256_add_ps(d, _mm256_loadu_ps(bias + t0));
    _mm256_storeu_ps(s + t0, d);
    mv = _mm256_max_ps(d, mv);  // a NaN score is skipped here and still poisons its head through exp
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, mv);
  float mx = lanes[0];
  for (int l = 1; l < 8; ++l) mx = take_max(lanes[l], mx);
  if (t0 < t_end) {  // the last 1..7 keys; the missing rows repeat the last key and are dropped
    const size_t n = t_end - t0;
    float factor[8];
    for (size_t j = 0; j < 8; ++j) {
      rows[j] = k + (t0 + (j < n ? j : n - 1)) * stride;
      factor[j] = s[t0 + (j < n ? j : n - 1)];
    }
    _mm256_storeu_ps(lanes, score.apply(dots_of_8(q, rows, hd), factor));
    for (size_t j = 0; j < n; ++j) {
      s[t0 + j] = bias ? lanes[j] + bias[t0 + j] : lanes[j];
      mx = take_max(s[t0 + j], mx);
    }
  }
  *m = mx;
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

// Adds keys [t_begin, t_end) to the four partial sums acc[j * hd + d] (a_j: keys t = j mod 4, in order) of
// fl(w_t * v_t[d]). t_begin a multiple of 4; hd a multiple of 8.
template <typename V>
ORDINAL_AVX2 void weighted_range(const float* w, const V* v, size_t stride, size_t t_begin, size_t t_end,
                                 size_t hd, float* acc) {
  size_t d = 0;
  for (; d + 16 <= hd; d += 16) {
    __m256 a[4][2];
    for (int j = 0; j < 4; ++j) {
      a[j][0] = _mm256_loadu_ps(acc + j * hd + d);
      a[j][1] = _mm256_loadu_ps(acc + j * hd + d + 8);
    }
    const V* vt = v + t_begin * stride + d;
    size_t t = t_begin;
    for (; t + 4 <= t_end; t += 4, vt += 4 * stride) {
      for (int j = 0; j < 4; ++j) {
        const __m256 wt = _mm256_set1_ps(w[t + j]);
        a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(wt, load_v(vt + j * stride)));
        a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(wt, load_v(vt + j * stride + 8)));
      }
    }
    for (int j = 0; t < t_end; ++t, ++j, vt += stride) {
      const __m256 wt = _mm256_set1_ps(w[t]);
      a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(wt, load_v(vt)));
      a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(wt, load_v(vt + 8)));
    }
    for (int j = 0; j < 4; ++j) {
      _mm256_storeu_ps(acc + j * hd + d, a[j][0]);
      _mm256_storeu_ps(acc + j * hd + d + 8, a[j][1]);
    }
  }
  if (d < hd) {  // one last block of 8 (all of a head_dim 8 head)
    __m256 a0 = _mm256_loadu_ps(acc + d), a1 = _mm256_loadu_ps(acc + hd + d);
    __m256 a2 = _mm256_loadu_ps(acc + 2 * hd + d), a3 = _mm256_loadu_ps(acc + 3 * hd + d);
    const V* vt = v + t_begin * stride + d;
    size_t t = t_begin;
    for (; t + 4 <= t_end; t += 4, vt += 4 * stride) {
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(w[t]), load_v(vt)));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_set1_ps(w[t + 1]), load_v(vt + stride)));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_set1_ps(w[t + 2]), load_v(vt + 2 * stride)));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(_mm256_set1_ps(w[t + 3]), load_v(vt + 3 * stride)));
    }
    if (t < t_end) a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(w[t]), load_v(vt)));
    if (t + 1 < t_end) a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_set1_ps(w[t + 1]), load_v(vt + stride)));
    if (t + 2 < t_end)
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(_mm256_set1_ps(w[t + 2]), load_v(vt + 2 * stride)));
    _mm256_storeu_ps(acc + d, a0);
    _mm256_storeu_ps(acc + hd + d, a1);
    _mm256_storeu_ps(acc + 2 * hd + d, a2);
    _mm256_storeu_ps(acc + 3 * hd + d, a3);
  }
}

// Keys per tile: 64 keys' vectors of all the call's KV heads stay in L1 while every head visits them.
constexpr size_t kKeyTile = 64;

// The three passes over all heads of the call, key tile by key tile (attention.hpp states the arithmetic).
template <typename K, typename Score, typename Prepare, typename Weigh>
ORDINAL_AVX2 void attend(const AttentionArgs& a, const K* k, const K* v, const Score& score, Prepare prepare,
                         Weigh weigh) {
  const size_t hd = a.head_dim, heads = a.heads;
  float* m = a.partials;
  float* sums = a.partials + heads;
  float* acc = a.partials + 2 * heads;
  for (size_t h = 0; h < heads; ++h) {
    m[h] = -__builtin_inff();
    prepare(h, a.scores + h * a.scores_stride);
  }
  for (size_t t0 = 0; t0 < a.keys; t0 += kKeyTile) {
    const size_t t1 = a.keys - t0 < kKeyTile ? a.keys : t0 + kKeyTile;
    for (size_t h = 0; h < heads; ++h) {
      score_range(a.q + h * hd, k + h / a.group * hd, a.kv_stride, t0, t1, hd, score,
                  a.bias ? a.bias + h * a.bias_stride : nullptr, a.scores + h * a.scores_stride, m + h);
    }
  }
  for (size_t h = 0; h < heads; ++h) {
    float* s = a.scores + h * a.scores_stride;
    sums[h] = exp_row(s, a.keys, m[h]);
    weigh(h, s);
  }
  for (size_t i = 0; i < heads * 4 * hd; ++i) acc[i] = 0.0f;
  for (size_t t0 = 0; t0 < a.keys; t0 += kKeyTile) {
    const size_t t1 = a.keys - t0 < kKeyTile ? a.keys : t0 + kKeyTile;
    for (size_t h = 0; h < heads; ++h) {
      weighted_range(a.scores + h * a.scores_stride, v + h / a.group * hd, a.kv_stride, t0, t1, hd,
                     acc + h * 4 * hd);
    }
  }
  for (size_t h = 0; h < heads; ++h) {
    const float* ah = acc + h * 4 * hd;
    const __m256 sv = _mm256_set1_ps(sums[h]);
    for (size_t d = 0; d < hd; d += 8) {
      const __m256 total =
          _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(ah + d), _mm256_loadu_ps(ah + hd + d)),
                        _mm256_add_ps(_mm256_loadu_ps(ah + 2 * hd + d), _mm256_loadu_ps(ah + 3 * hd + d)));
      _mm256_storeu_ps(a.out + h * hd + d, _mm256_div_ps(total, sv));
    }
  }
}

struct NoPrepare {
  void operator()(size_t, float*) const {}
};

ORDINAL_AVX2 void attention_f32_avx2(const AttentionArgs& a, const AttentionF32& c) {
  if (a.head_dim % 8 != 0 || a.keys == 0) return scalar::attention_f32(a, c);
  attend(a, c.k, c.v, ScoreF32{c.logit}, NoPrepare{}, NoPrepare{});
}

ORDINAL_AVX2 void attention_i8_avx2(const AttentionArgs& a, const AttentionI8& c) {
  if (a.head_dim % 8 != 0 || a.keys == 0) return scalar::attention_i8(a, c);
  const size_t keys = a.keys;
  // Per head: the key factors fl(kscale_t * logit) go into the score row before the score pass reads
  // them; after the exponentials the weights become fl(e_t * vscale_t).
  auto key_factors = [&](size_t h, float* s) {
    const uint16_t* ks = c.k_scales + h / a.group;
    for (size_t t = 0; t < keys; ++t) s[t] = detail::kv_scale_to_float(ks[t * c.scale_stride]) * c.logit;
  };
  auto value_weights = [&](size_t h, float* s) {
    const uint16_t* vs = c.v_scales + h / a.group;
    for (size_t t = 0; t < keys; ++t) s[t] = s[t] * detail::kv_scale_to_float(vs[t * c.scale_stride]);
  };
  attend(a, c.k, c.v, ScoreI8{}, key_factors, value_weights);
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
