// AVX2 activation quantizers (group_gemm.hpp: quantize_activations_int8 / _int16), the same bits as the
// scalar definition in group_gemm.cpp: max |x| is exact in any order, the scale comes from the one shared
// block_scale_from_amax, and each code is the same three roundings (x * inv, + 1.5 * 2^23, - 1.5 * 2^23)
// and clamp, lane by lane (no FMA: the target has none and the runtime builds with -ffp-contract=off).
// Whole blocks of 32 only; a partial last block takes the scalar code. Measured on the 110M int8-g32
// prefill: the scalar quantizers were 3.7 % (int16) and 3.0 % (int8, int4 decode) of the run time.
#include "kernels/group_gemm.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuinfo.h>
#include <immintrin.h>

#include <cfloat>
#include <cstring>

#define ORDINAL_AVX2_ONLY __attribute__((target("avx2")))

namespace ordinal::kernels::group {

namespace {

constexpr float kRound = 12582912.0f;  // 1.5 * 2^23, as in group_gemm.cpp

// Max |x| over 32 values and whether all are finite.
ORDINAL_AVX2_ONLY inline float block_amax32(const float* x, bool* finite) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 fmax = _mm256_set1_ps(FLT_MAX);
  __m256 a[4];
  int all_finite = 0xFF;
  for (int k = 0; k < 4; ++k) {
    a[k] = _mm256_and_ps(_mm256_loadu_ps(x + 8 * k), abs_mask);
    all_finite &= _mm256_movemask_ps(_mm256_cmp_ps(a[k], fmax, _CMP_LE_OQ));  // false for NaN and Inf
  }
  *finite = all_finite == 0xFF;
  __m256 m = _mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 0x55));
  return _mm_cvtss_f32(h);
}

// Codes of 32 values (sign restored from x): round half to even of x * inv, clamped to +-max_code.
ORDINAL_AVX2_ONLY inline void block_codes32(const float* x, float inv, float max_code, __m256i* c) {
  const __m256 vinv = _mm256_set1_ps(inv), round = _mm256_set1_ps(kRound);
  const __m256 hi = _mm256_set1_ps(max_code), lo = _mm256_set1_ps(-max_code);
  for (int k = 0; k < 4; ++k) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vinv);
    v = _mm256_sub_ps(_mm256_add_ps(v, round), round);
    v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
    c[k] = _mm256_cvtps_epi32(v);  // integral already: exact
  }
}

ORDINAL_AVX2_ONLY void quantize_int16_avx2(const float* x, size_t cols, int16_t* q, float* scales) {
  const size_t full = cols / kBlock;
  for (size_t j = 0; j < full; ++j) {
    const float* xb = x + j * kBlock;
    int16_t* qb = q + j * kBlock;
    bool finite;
    const float amax = block_amax32(xb, &finite);
    float inv = 0.0f;
    if (!block_scale_from_amax(amax, finite, static_cast<float>(kAct16Max), &scales[j], &inv)) {
      std::memset(qb, 0, kBlock * sizeof(int16_t));
      continue;
    }
    __m256i c[4];
    block_codes32(xb, inv, static_cast<float>(kAct16Max), c);
    // packs interleaves 128-bit halves: [c0 0-3, c1 0-3 | c0 4-7, c1 4-7]; 0xD8 puts them in order.
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qb),
                        _mm256_permute4x64_epi64(_mm256_packs_epi32(c[0], c[1]), 0xD8));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qb + 16),
                        _mm256_permute4x64_epi64(_mm256_packs_epi32(c[2], c[3]), 0xD8));
  }
  if (full * kBlock < cols) {
    const size_t done = full * kBlock;
    quantize_int16_scalar(x + done, cols - done, q + done, scales + full);
  }
}

ORDINAL_AVX2_ONLY void quantize_int8_avx2(const float* x, size_t cols, int8_t* q, float* scales,
                                          int32_t* sums) {
  const size_t blocks = (cols + kBlock - 1) / kBlock, full = cols / kBlock;
  // Within each 128-bit lane: the 8 even bytes, then the 8 odd ones.
  const __m256i even_odd = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6,
                                            8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (size_t j = 0; j < full; ++j) {
    const float* xb = x + j * kBlock;
    int8_t* even = q + nibble_even_offset(j, blocks);
    int8_t* odd = q + nibble_odd_offset(j, blocks);
    bool finite;
    const float amax = block_amax32(xb, &finite);
    float inv = 0.0f;
    if (!block_scale_from_amax(amax, finite, static_cast<float>(kAct8Max), &scales[j], &inv)) {
      std::memset(even, 0, kBlock / 2);
      std::memset(odd, 0, kBlock / 2);
      sums[j] = 0;
      continue;
    }
    __m256i c[4];
    block_codes32(xb, inv, static_cast<float>(kAct8Max), c);
    const __m256i s = _mm256_add_epi32(_mm256_add_epi32(c[0], c[1]), _mm256_add_epi32(c[2], c[3]));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
    sums[j] = _mm_cvtsi128_si32(t);
    // 32 codes in natural order, then per lane [evens | odds], then [evens 0-31 | odds 0-31].
    const __m256i w01 = _mm256_permute4x64_epi64(_mm256_packs_epi32(c[0], c[1]), 0xD8);
    const __m256i w23 = _mm256_permute4x64_epi64(_mm256_packs_epi32(c[2], c[3]), 0xD8);
    const __m256i b = _mm256_permute4x64_epi64(_mm256_packs_epi16(w01, w23), 0xD8);
    const __m256i split = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(b, even_odd), 0xD8);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(even), _mm256_castsi256_si128(split));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(odd), _mm256_extracti128_si256(split, 1));
  }
  if (full < blocks) {
    // The partial last block (zero-padded): the scalar definition on that block alone puts it in the same
    // unpaired-block place only when it is the first block, so run it on a copy and move its codes.
    const size_t done = full * kBlock, n = cols - done;
    int8_t codes[kBlock];
    quantize_int8_scalar(x + done, n, codes, scales + full, sums + full);
    // A one-block quantization stores [even (16) | odd (16)], the unpaired layout.
    std::memcpy(q + nibble_even_offset(full, blocks), codes, kBlock / 2);
    std::memcpy(q + nibble_odd_offset(full, blocks), codes + kBlock / 2, kBlock / 2);
  }
}

bool has_avx2() {
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx2();
  return ok;
}

}  // namespace

QuantizeInt8 avx2_quantize_int8() {
  return has_avx2() ? quantize_int8_avx2 : nullptr;
}

QuantizeInt16 avx2_quantize_int16() {
  return has_avx2() ? quantize_int16_avx2 : nullptr;
}

}  // namespace ordinal::kernels::group

#else

namespace ordinal::kernels::group {
QuantizeInt8 avx2_quantize_int8() {
  return nullptr;
}
QuantizeInt16 avx2_quantize_int16() {
  return nullptr;
}
}  // namespace ordinal::kernels::group

#endif
