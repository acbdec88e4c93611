// x86-64 paths of the integer-weight GEMM (AVX2 + F16C, and AVX-512 VNNI on 256-bit vectors), bit-identical
// to group_gemm.cpp's definition.
//  int4: two blocks per 32-byte load; nibbles (signed ones flipped by 0x88 to u = s + 8) unpack into low and
//    high halves that meet the activations' int4 order (group_gemm.hpp); u8 x s8 products by vpmaddubsw
//    (pairs <= 2 * 15 * 127, the two halves' sum <= 7620 fits int16) and vpmaddwd by ones, or by vpdpbusd.
//  int8: codes widened to int16 against int16 activations, vpmaddwd (or vpdpwssd); |pair| <= 2^23.
// Eight blocks' int32 vectors are reduced together to the eight exact block sums (hadd tree), converted to
// float and combined in eight float lanes, the canonical lanes. Up to 2 (AVX2) or 4 (VNNI: 32 vector
// registers) tokens share every weight load. Built with baseline flags: only the functions with target
// attributes use AVX2/F16C/AVX-512.
#include "kernels/group_gemm.hpp"
#include "numerics/strict_float.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuinfo.h>
#include <immintrin.h>

#include <cstring>

#define ORDINAL_AVX2 __attribute__((target("avx2,f16c")))
#define ORDINAL_VNNI __attribute__((target("avx2,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))

namespace ordinal::kernels::group {

namespace {

namespace avx2 {
#define KATTR ORDINAL_AVX2
KATTR inline __m256i dot_u8s8(__m256i u, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
}
// Two u8 x s8 halves of an int4 block pair (each maddubs pair sum <= 3810, their sum fits int16).
KATTR inline __m256i dot_int4_pair(__m256i lo, __m256i xa, __m256i hi, __m256i xb) {
  const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xa), _mm256_maddubs_epi16(hi, xb));
  return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}
KATTR inline __m256i dot_int16(__m256i wa, __m256i xa, __m256i wb, __m256i xb) {
  return _mm256_add_epi32(_mm256_madd_epi16(wa, xa), _mm256_madd_epi16(wb, xb));
}
#include "kernels/group_gemm_x86_body.inc"
#undef KATTR
}  // namespace avx2

namespace vnni {
#define KATTR ORDINAL_VNNI
KATTR inline __m256i dot_u8s8(__m256i u, __m256i x) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, x);
}
KATTR inline __m256i dot_int4_pair(__m256i lo, __m256i xa, __m256i hi, __m256i xb) {
  return _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), lo, xa), hi, xb);
}
KATTR inline __m256i dot_int16(__m256i wa, __m256i xa, __m256i wb, __m256i xb) {
  return _mm256_dpwssd_epi32(_mm256_dpwssd_epi32(_mm256_setzero_si256(), wa, xa), wb, xb);
}
#include "kernels/group_gemm_x86_body.inc"
#undef KATTR
}  // namespace vnni

// Decode (one token): one row at a time - a single sequential stream from DRAM (four rows interleaved
// halved the achieved bandwidth: 6.5 against 12-14 GB/s for int8 at 2048x768); prefill: one row against 2
// (AVX2: 16 vector registers) or 4 (VNNI: 32) tokens, sharing each weight load.
template <size_t kRowTile, size_t kTokenTile,
          void (*Tile11)(const GroupMatrixView&, size_t, const GroupActivationsView&, size_t, float*),
          void (*TileR1)(const GroupMatrixView&, size_t, const GroupActivationsView&, size_t, float*),
          void (*Tile1T)(const GroupMatrixView&, size_t, const GroupActivationsView&, size_t, float*)>
void dispatch(const GroupMatrixView& w, size_t row0, size_t rows, const GroupActivationsView& x,
              size_t token0, size_t tokens, float* y) {
  float part[kMaxTile];
  for (size_t r = 0; r < rows;) {
    if (tokens == 1 && rows - r >= kRowTile) {
      float ry[kRowTile];
      TileR1(w, row0 + r, x, token0, ry);
      for (size_t i = 0; i < kRowTile; ++i) y[r + i] = ry[i];
      r += kRowTile;
      continue;
    }
    size_t t = 0;
    for (; t + kTokenTile <= tokens; t += kTokenTile) {
      Tile1T(w, row0 + r, x, token0 + t, part);
      for (size_t i = 0; i < kTokenTile; ++i) y[(t + i) * rows + r] = part[i];
    }
    for (; t < tokens; ++t) {
      Tile11(w, row0 + r, x, token0 + t, part);
      y[t * rows + r] = part[0];
    }
    ++r;
  }
}

void row_dot_avx2(const GroupMatrixView& w, size_t row0, size_t rows, const GroupActivationsView& x,
                  size_t token0, size_t tokens, float* y) {
  dispatch<1, 2, avx2::tile<1, 1>, avx2::tile<1, 1>, avx2::tile<1, 2>>(w, row0, rows, x, token0, tokens, y);
}

void row_dot_vnni(const GroupMatrixView& w, size_t row0, size_t rows, const GroupActivationsView& x,
                  size_t token0, size_t tokens, float* y) {
  dispatch<1, 4, vnni::tile<1, 1>, vnni::tile<1, 1>, vnni::tile<1, 4>>(w, row0, rows, x, token0, tokens, y);
}

}  // namespace

RowDot avx2_row_dot() {
  // F16C widens the scales; every AVX2 CPU we know has it, but it is a separate feature bit.
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_f16c();
  return ok ? row_dot_avx2 : nullptr;
}

RowDot avx512vnni_row_dot() {
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_f16c() &&
                         cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512vl() &&
                         cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512vnni();
  return ok ? row_dot_vnni : nullptr;
}

}  // namespace ordinal::kernels::group

#else

namespace ordinal::kernels::group {
RowDot avx2_row_dot() {
  return nullptr;
}
RowDot avx512vnni_row_dot() {
  return nullptr;
}
}  // namespace ordinal::kernels::group

#endif
