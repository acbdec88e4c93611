// SSE4.1 and AVX2 paths of the SIMD primitives (simd.hpp), bit-identical to simd_scalar.cpp.
// The file is built with the project's baseline flags; only the functions marked ORDINAL_SSE41 /
// ORDINAL_AVX2 may use those instructions (target attributes), so nothing else in the binary, inline
// functions from shared headers included, ever needs a newer CPU. No FMA: AVX2 here is mul then add.
// The integer rotations keep their SSE4.1 form under AVX2: RoPE vectors are short, 4 pairs at a time
// already run at load/store speed.
#include "kernels/simd.hpp"
#include "numerics/strict_float.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstring>

#define ORDINAL_SSE41 __attribute__((target("sse4.1")))
#define ORDINAL_AVX2 __attribute__((target("avx2")))

namespace ordinal::kernels {

namespace {

// ---------------------------------------------------------------- SSE4.1 ----

ORDINAL_SSE41 float dot_f32_sse41(const float* a, const float* b, size_t n) {
  __m128 p0 = _mm_setzero_ps(), p1 = _mm_setzero_ps();  // lanes 0-3 and 4-7
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    p0 = _mm_add_ps(p0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
    p1 = _mm_add_ps(p1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
  }
  const __m128 t = _mm_add_ps(p0, p1);                  // t[l] = p[l] + p[l+4]
  const __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));  // t0 + t2, t1 + t3
  float sum = _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 0x55)));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

ORDINAL_SSE41 void axpy_f32_sse41(float* y, float a, const float* x, size_t n) {
  const __m128 va = _mm_set1_ps(a);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    _mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(y + i), _mm_mul_ps(va, _mm_loadu_ps(x + i))));
  }
  scalar::axpy_f32(y + i, a, x + i, n - i);
}

ORDINAL_SSE41 void rotate_f32_split_sse41(float* a, float* b, const float* c, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 va = _mm_loadu_ps(a + i), vb = _mm_loadu_ps(b + i);
    const __m128 vc = _mm_loadu_ps(c + i), vs = _mm_loadu_ps(s + i);
    _mm_storeu_ps(a + i, _mm_sub_ps(_mm_mul_ps(va, vc), _mm_mul_ps(vb, vs)));
    _mm_storeu_ps(b + i, _mm_add_ps(_mm_mul_ps(va, vs), _mm_mul_ps(vb, vc)));
  }
  scalar::rotate_f32_split(a + i, b + i, c + i, s + i, n - i);
}

// [a0 b0 a1 b1] * [c0 c0 c1 c1] -/+ [b0 a0 b1 a1] * [s0 s0 s1 s1]: addsub gives a c - b s in even lanes
// and b c + a s (= a s + b c, addition commutes exactly) in odd lanes.
ORDINAL_SSE41 inline __m128 rotate2_f32_interleaved(__m128 v, __m128 c2, __m128 s2) {
  const __m128 swapped = _mm_shuffle_ps(v, v, _MM_SHUFFLE(2, 3, 0, 1));
  return _mm_addsub_ps(_mm_mul_ps(v, c2), _mm_mul_ps(swapped, s2));
}

ORDINAL_SSE41 void rotate_f32_interleaved_sse41(float* v, const float* c, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 vc = _mm_loadu_ps(c + i), vs = _mm_loadu_ps(s + i);
    _mm_storeu_ps(v + 2 * i, rotate2_f32_interleaved(_mm_loadu_ps(v + 2 * i), _mm_unpacklo_ps(vc, vc),
                                                     _mm_unpacklo_ps(vs, vs)));
    _mm_storeu_ps(v + 2 * i + 4, rotate2_f32_interleaved(_mm_loadu_ps(v + 2 * i + 4), _mm_unpackhi_ps(vc, vc),
                                                         _mm_unpackhi_ps(vs, vs)));
  }
  scalar::rotate_f32_interleaved(v + 2 * i, c + i, s + i, n - i);
}

// round(x / 2^15) half to even for |x| < 2^31 - 2^15 (int32 lanes), as in simd_neon.cpp.
ORDINAL_SSE41 inline __m128i round_q15(__m128i x) {
  const __m128i odd = _mm_and_si128(_mm_srai_epi32(x, 15), _mm_set1_epi32(1));
  return _mm_srai_epi32(_mm_add_epi32(_mm_add_epi32(x, _mm_set1_epi32(0x3fff)), odd), 15);
}

// Four pairs as int32 lanes -> rounded a', b' (int32 lanes, not yet saturated).
ORDINAL_SSE41 inline void rotate4_q15(__m128i a, __m128i b, __m128i c, __m128i s, __m128i* x, __m128i* y) {
  *x = round_q15(_mm_sub_epi32(_mm_mullo_epi32(a, c), _mm_mullo_epi32(b, s)));
  *y = round_q15(_mm_add_epi32(_mm_mullo_epi32(a, s), _mm_mullo_epi32(b, c)));
}

ORDINAL_SSE41 inline __m128i load4_i16(const int16_t* p) {
  return _mm_cvtepi16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

ORDINAL_SSE41 inline __m128i load4_i8(const int8_t* p) {
  int32_t bytes;
  std::memcpy(&bytes, p, 4);
  return _mm_cvtepi8_epi32(_mm_cvtsi32_si128(bytes));
}

ORDINAL_SSE41 inline void store4_i8(int8_t* p, __m128i v) {
  const int32_t bytes = _mm_cvtsi128_si32(v);
  std::memcpy(p, &bytes, 4);
}

// int16 lanes -> [-127, 127] (the rounded values are far inside int16, saturation cannot differ).
ORDINAL_SSE41 inline __m128i clamp_i8_symmetric(__m128i v16) {
  return _mm_max_epi16(_mm_min_epi16(v16, _mm_set1_epi16(127)), _mm_set1_epi16(-127));
}

ORDINAL_SSE41 void rotate_i16_q15_split_sse41(int16_t* a, int16_t* b, const int16_t* c, const int16_t* s,
                                              size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128i x, y;
    rotate4_q15(load4_i16(a + i), load4_i16(b + i), load4_i16(c + i), load4_i16(s + i), &x, &y);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(a + i), _mm_packs_epi32(x, x));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(b + i), _mm_packs_epi32(y, y));
  }
  scalar::rotate_i16_q15_split(a + i, b + i, c + i, s + i, n - i);
}

// Four interleaved int16 pairs: 32-bit lane k holds a_k in its low and b_k in its high half.
ORDINAL_SSE41 inline __m128i rotate4_q15_interleaved(__m128i pairs, __m128i c, __m128i s) {
  const __m128i a = _mm_srai_epi32(_mm_slli_epi32(pairs, 16), 16), b = _mm_srai_epi32(pairs, 16);
  __m128i x, y;
  rotate4_q15(a, b, c, s, &x, &y);
  const __m128i x16 = _mm_packs_epi32(x, x), y16 = _mm_packs_epi32(y, y);  // saturate to int16
  return _mm_unpacklo_epi16(x16, y16);                                     // a'0 b'0 a'1 b'1 ...
}

ORDINAL_SSE41 void rotate_i16_q15_interleaved_sse41(int16_t* v, const int16_t* c, const int16_t* s,
                                                    size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128i* p = reinterpret_cast<__m128i*>(v + 2 * i);
    _mm_storeu_si128(p, rotate4_q15_interleaved(_mm_loadu_si128(p), load4_i16(c + i), load4_i16(s + i)));
  }
  scalar::rotate_i16_q15_interleaved(v + 2 * i, c + i, s + i, n - i);
}

ORDINAL_SSE41 void rotate_i8_split_sse41(int8_t* a, int8_t* b, const int16_t* c, const int16_t* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128i x, y;
    rotate4_q15(load4_i8(a + i), load4_i8(b + i), load4_i16(c + i), load4_i16(s + i), &x, &y);
    const __m128i x8 = clamp_i8_symmetric(_mm_packs_epi32(x, x)),
                  y8 = clamp_i8_symmetric(_mm_packs_epi32(y, y));
    store4_i8(a + i, _mm_packs_epi16(x8, x8));
    store4_i8(b + i, _mm_packs_epi16(y8, y8));
  }
  scalar::rotate_i8_split(a + i, b + i, c + i, s + i, n - i);
}

ORDINAL_SSE41 void rotate_i8_interleaved_sse41(int8_t* v, const int16_t* c, const int16_t* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128i* p = reinterpret_cast<__m128i*>(v + 2 * i);
    const __m128i pairs16 = _mm_cvtepi8_epi16(_mm_loadl_epi64(p));  // a0 b0 a1 b1 ... as int16
    const __m128i r16 =
        clamp_i8_symmetric(rotate4_q15_interleaved(pairs16, load4_i16(c + i), load4_i16(s + i)));
    _mm_storel_epi64(p, _mm_packs_epi16(r16, r16));
  }
  scalar::rotate_i8_interleaved(v + 2 * i, c + i, s + i, n - i);
}

ORDINAL_SSE41 inline void put4(float* out, __m128i codes, __m128 scale, bool accumulate) {
  __m128 v = _mm_mul_ps(_mm_cvtepi32_ps(codes), scale);
  if (accumulate) v = _mm_add_ps(_mm_loadu_ps(out), v);
  _mm_storeu_ps(out, v);
}

// 16 codes per load: one 16-byte load widened four bytes at a time (a 4-byte load per 4 codes is slower
// than the compiler's own SSE2 vectorization of the scalar loop).
ORDINAL_SSE41 void dequant_i8_sse41(const int8_t* q, float scale, float* out, size_t n, bool accumulate) {
  const __m128 vs = _mm_set1_ps(scale);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
    put4(out + i, _mm_cvtepi8_epi32(v), vs, accumulate);
    put4(out + i + 4, _mm_cvtepi8_epi32(_mm_srli_si128(v, 4)), vs, accumulate);
    put4(out + i + 8, _mm_cvtepi8_epi32(_mm_srli_si128(v, 8)), vs, accumulate);
    put4(out + i + 12, _mm_cvtepi8_epi32(_mm_srli_si128(v, 12)), vs, accumulate);
  }
  scalar::dequant_i8(q + i, scale, out + i, n - i, accumulate);
}

ORDINAL_SSE41 void dequant_i8_scales_sse41(const int8_t* q, const float* scales, float* out, size_t n,
                                           bool accumulate) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
    for (int k = 0; k < 4; ++k) {
      const __m128i codes = _mm_cvtepi8_epi32(k == 0   ? v
                                              : k == 1 ? _mm_srli_si128(v, 4)
                                              : k == 2 ? _mm_srli_si128(v, 8)
                                                       : _mm_srli_si128(v, 12));
      put4(out + i + 4 * k, codes, _mm_loadu_ps(scales + i + 4 * k), accumulate);
    }
  }
  scalar::dequant_i8_scales(q + i, scales + i, out + i, n - i, accumulate);
}

ORDINAL_SSE41 void dequant_i4_sse41(const uint8_t* packed, uint8_t flip, int32_t zero, float scale,
                                    float* out, size_t n, bool accumulate) {
  const __m128 vs = _mm_set1_ps(scale);
  const __m128i vflip = _mm_set1_epi32(flip), vzero = _mm_set1_epi32(zero), mask = _mm_set1_epi32(0x0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int32_t word;
    std::memcpy(&word, packed + i / 2, 4);
    const __m128i bytes = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(word));
    const __m128i lo = _mm_sub_epi32(_mm_xor_si128(_mm_and_si128(bytes, mask), vflip), vzero);
    const __m128i hi = _mm_sub_epi32(_mm_xor_si128(_mm_srli_epi32(bytes, 4), vflip), vzero);
    put4(out + i, _mm_unpacklo_epi32(lo, hi), vs, accumulate);  // elements 0..3: lo0 hi0 lo1 hi1
    put4(out + i + 4, _mm_unpackhi_epi32(lo, hi), vs, accumulate);
  }
  scalar::dequant_i4(packed + i / 2, flip, zero, scale, out + i, n - i, accumulate);
}

// ------------------------------------------------------------------ AVX2 ----

ORDINAL_AVX2 float dot_f32_avx2(const float* a, const float* b, size_t n) {
  __m256 p = _mm256_setzero_ps();  // lanes 0-7
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    p = _mm256_add_ps(p, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  const __m128 t = _mm_add_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1));
  const __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));
  float sum = _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 0x55)));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

ORDINAL_AVX2 void axpy_f32_avx2(float* y, float a, const float* x, size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(va, _mm256_loadu_ps(x + i))));
  }
  axpy_f32_sse41(y + i, a, x + i, n - i);
}

ORDINAL_AVX2 void rotate_f32_split_avx2(float* a, float* b, const float* c, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
    const __m256 vc = _mm256_loadu_ps(c + i), vs = _mm256_loadu_ps(s + i);
    _mm256_storeu_ps(a + i, _mm256_sub_ps(_mm256_mul_ps(va, vc), _mm256_mul_ps(vb, vs)));
    _mm256_storeu_ps(b + i, _mm256_add_ps(_mm256_mul_ps(va, vs), _mm256_mul_ps(vb, vc)));
  }
  rotate_f32_split_sse41(a + i, b + i, c + i, s + i, n - i);
}

ORDINAL_AVX2 void rotate_f32_interleaved_avx2(float* v, const float* c, const float* s, size_t n) {
  const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256 c2 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(c + i)), dup);
    const __m256 s2 = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(s + i)), dup);
    const __m256 pairs = _mm256_loadu_ps(v + 2 * i);
    const __m256 swapped = _mm256_permute_ps(pairs, _MM_SHUFFLE(2, 3, 0, 1));
    _mm256_storeu_ps(v + 2 * i, _mm256_addsub_ps(_mm256_mul_ps(pairs, c2), _mm256_mul_ps(swapped, s2)));
  }
  scalar::rotate_f32_interleaved(v + 2 * i, c + i, s + i, n - i);
}

ORDINAL_AVX2 inline void put8(float* out, __m256i codes, __m256 scale, bool accumulate) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(codes), scale);
  if (accumulate) v = _mm256_add_ps(_mm256_loadu_ps(out), v);
  _mm256_storeu_ps(out, v);
}

ORDINAL_AVX2 void dequant_i8_avx2(const int8_t* q, float scale, float* out, size_t n, bool accumulate) {
  const __m256 vs = _mm256_set1_ps(scale);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    put8(out + i, _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i))), vs,
         accumulate);
  }
  scalar::dequant_i8(q + i, scale, out + i, n - i, accumulate);
}

ORDINAL_AVX2 void dequant_i8_scales_avx2(const int8_t* q, const float* scales, float* out, size_t n,
                                         bool accumulate) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    put8(out + i, _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i))),
         _mm256_loadu_ps(scales + i), accumulate);
  }
  scalar::dequant_i8_scales(q + i, scales + i, out + i, n - i, accumulate);
}

ORDINAL_AVX2 void dequant_i4_avx2(const uint8_t* packed, uint8_t flip, int32_t zero, float scale, float* out,
                                  size_t n, bool accumulate) {
  const __m256 vs = _mm256_set1_ps(scale);
  const __m256i vflip = _mm256_set1_epi32(flip), vzero = _mm256_set1_epi32(zero);
  const __m256i mask = _mm256_set1_epi32(0x0f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i bytes =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed + i / 2)));
    const __m256i lo = _mm256_sub_epi32(_mm256_xor_si256(_mm256_and_si256(bytes, mask), vflip), vzero);
    const __m256i hi = _mm256_sub_epi32(_mm256_xor_si256(_mm256_srli_epi32(bytes, 4), vflip), vzero);
    // Unpacks work within 128-bit halves: [e0..3 | e8..11] and [e4..7 | e12..15]; reorder the halves.
    const __m256i ul = _mm256_unpacklo_epi32(lo, hi), uh = _mm256_unpackhi_epi32(lo, hi);
    put8(out + i, _mm256_permute2x128_si256(ul, uh, 0x20), vs, accumulate);
    put8(out + i + 8, _mm256_permute2x128_si256(ul, uh, 0x31), vs, accumulate);
  }
  dequant_i4_sse41(packed + i / 2, flip, zero, scale, out + i, n - i, accumulate);
}

// 32 columns at a time (four independent sums), every component applied to them before the next 32: x is
// read and written once, and the four chains hide the add latency.
ORDINAL_AVX2 inline __m256 widen_i8x8(const int8_t* q) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q))));
}

ORDINAL_AVX2 void axpy_i8_rows_avx2(float* x, size_t n, const int8_t* const* q, const float* c,
                                    const float* s, size_t rank) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256 a0 = _mm256_loadu_ps(x + i), a1 = _mm256_loadu_ps(x + i + 8);
    __m256 a2 = _mm256_loadu_ps(x + i + 16), a3 = _mm256_loadu_ps(x + i + 24);
    for (size_t r = 0; r < rank; ++r) {
      const __m256 vc = _mm256_set1_ps(c[r]), vs = _mm256_set1_ps(s[r]);
      const int8_t* qr = q[r] + i;
      a0 = _mm256_add_ps(a0, _mm256_mul_ps(vc, _mm256_mul_ps(widen_i8x8(qr), vs)));
      a1 = _mm256_add_ps(a1, _mm256_mul_ps(vc, _mm256_mul_ps(widen_i8x8(qr + 8), vs)));
      a2 = _mm256_add_ps(a2, _mm256_mul_ps(vc, _mm256_mul_ps(widen_i8x8(qr + 16), vs)));
      a3 = _mm256_add_ps(a3, _mm256_mul_ps(vc, _mm256_mul_ps(widen_i8x8(qr + 24), vs)));
    }
    _mm256_storeu_ps(x + i, a0);
    _mm256_storeu_ps(x + i + 8, a1);
    _mm256_storeu_ps(x + i + 16, a2);
    _mm256_storeu_ps(x + i + 24, a3);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 acc = _mm256_loadu_ps(x + i);
    for (size_t r = 0; r < rank; ++r) {
      acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(c[r]),
                                             _mm256_mul_ps(widen_i8x8(q[r] + i), _mm256_set1_ps(s[r]))));
    }
    _mm256_storeu_ps(x + i, acc);
  }
  for (size_t r = 0; r < rank; ++r) {  // the last n % 8 columns, components in the same order
    for (size_t k = i; k < n; ++k) x[k] = x[k] + c[r] * (static_cast<float>(q[r][k]) * s[r]);
  }
}

constexpr KernelTable kSse41Table = {
    Isa::kSse41,
    dot_f32_sse41,
    axpy_f32_sse41,
    rotate_f32_split_sse41,
    rotate_f32_interleaved_sse41,
    rotate_i16_q15_split_sse41,
    rotate_i16_q15_interleaved_sse41,
    rotate_i8_split_sse41,
    rotate_i8_interleaved_sse41,
    dequant_i8_sse41,
    dequant_i8_scales_sse41,
    dequant_i4_sse41,
    scalar::axpy_i8_rows,
};

constexpr KernelTable kAvx2Table = {
    Isa::kAvx2,
    dot_f32_avx2,
    axpy_f32_avx2,
    rotate_f32_split_avx2,
    rotate_f32_interleaved_avx2,
    rotate_i16_q15_split_sse41,
    rotate_i16_q15_interleaved_sse41,
    rotate_i8_split_sse41,
    rotate_i8_interleaved_sse41,
    dequant_i8_avx2,
    dequant_i8_scales_avx2,
    dequant_i4_avx2,
    axpy_i8_rows_avx2,
};

}  // namespace

const KernelTable* sse41_kernels() {
  return &kSse41Table;
}
const KernelTable* avx2_kernels() {
  return &kAvx2Table;
}

}  // namespace ordinal::kernels

#else  // not x86

namespace ordinal::kernels {
const KernelTable* sse41_kernels() {
  return nullptr;
}
const KernelTable* avx2_kernels() {
  return nullptr;
}
}  // namespace ordinal::kernels

#endif
