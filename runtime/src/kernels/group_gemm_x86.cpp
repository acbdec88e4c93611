// x86-64 paths of the integer-weight GEMM (AVX2 + F16C, and AVX-512 VNNI on 256-bit vectors), bit-identical
// to group_gemm.cpp's definition.
//  int4: two blocks per 32-byte load; nibbles (signed ones flipped by 0x88 to u = s + 8) unpack into low and
//    high halves that meet the activations' int4 order (group_gemm.hpp); u8 x s8 products by vpmaddubsw
//    (pairs <= 2 * 15 * 127, the two halves' sum <= 7620 fits int16) and vpmaddwd by ones, or by vpdpbusd.
//  int8: codes widened to int16 against int16 activations, vpmaddwd (or vpdpwssd); |pair| <= 2^23.
// Decode and the per-token prefill tiles: eight blocks' int32 vectors are reduced together to the eight exact
// block sums (hadd tree), converted to float and combined in eight float lanes, the canonical lanes; decode
// of the f16 group formats runs a dedicated row loop (decode_rows). Prefill with the token-interleaved
// activations (prefill_rows): broadcast weight pairs / quads against 8 tokens per vector, one block's sums
// for 8 tokens per vector, no horizontal reduction. Integer sums are exact, so any summation order gives the
// same bits. Built with baseline flags: only the functions with target attributes use AVX2/F16C/AVX-512.
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
KATTR inline __m256i acc_int16(__m256i acc, __m256i w, __m256i x) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(w, x));
}
KATTR inline __m256i acc_u8s8(__m256i acc, __m256i u, __m256i x) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1)));
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
KATTR inline __m256i acc_int16(__m256i acc, __m256i w, __m256i x) {
  return _mm256_dpwssd_epi32(acc, w, x);
}
KATTR inline __m256i acc_u8s8(__m256i acc, __m256i u, __m256i x) {
  return _mm256_dpbusd_epi32(acc, u, x);
}
#include "kernels/group_gemm_x86_body.inc"

// Prefill of int8 codes on 512-bit vectors: prefill_rows<R, kInt8>'s arithmetic for two tiles of 8 tokens
// at once (tile m in the low 256 bits, m + 1 in the high; an odd last tile pairs with zero codes and
// scales). Each broadcast weight pair then feeds 16 tokens' multiply-adds instead of 8: the 256-bit loop
// issues a broadcast load per vpdpwssd, and those loads bound it (measured on Zen 4, 110M shape, one thread:
// a 64-token int8-g32 prefill 115.5 -> 97 ms; keeping the broadcasts in registers by shuffles instead was
// slower, 120 ms). Same sums, same float operations lane by lane: the same bits. (The maskz forms with
// every lane set are the plain operations: the plain intrinsics' undefined pass-through operand trips GCC
// 12's -Wmaybe-uninitialized.)
template <size_t R>
KATTR void prefill_rows_int8_x2(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                                size_t row_begin, size_t row_end, float* out, size_t out_stride) {
  const size_t nb = w.cols / kBlock;
  const size_t tiles = (x.batch + kTokenTile - 1) / kTokenTile;
  alignas(64) int16_t wb[R][kPrefillMaxCols];
  alignas(64) float ws[R][kPrefillMaxCols / kBlock + 8];
  for (size_t row0 = row_begin; row0 + R <= row_end; row0 += R) {
    for (size_t r = 0; r < R; ++r) {
      const size_t row = row0 + r;
      const uint8_t* wr = w.data + row * w.row_bytes;
      row_block_scales(w, row, nb, ws[r]);
      for (size_t i = 0; i < nb * kBlock; i += 16) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(wb[r] + i),
                           _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wr + i))));
      }
    }
    for (size_t m = 0; m < tiles; m += 2) {
      const bool two = m + 1 < tiles;
      alignas(64) float lanes[R][8][2 * kTokenTile];
      for (size_t r = 0; r < R; ++r)
        for (size_t k = 0; k < 8; ++k) _mm512_store_ps(lanes[r][k], _mm512_setzero_ps());
      for (size_t j = 0; j < nb; ++j) {
        const size_t ta = m * x.blocks + j, tb = (m + 1) * x.blocks + j;
        const int16_t* xa = x.q16x + ta * kTokenTile * kBlock;
        const int16_t* xb = two ? x.q16x + tb * kTokenTile * kBlock : nullptr;
        __m512i xv[16];
        for (size_t p = 0; p < 16; ++p) {
          const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa + 16 * p));
          const __m256i hi = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 16 * p))
                                 : _mm256_setzero_si256();
          xv[p] = _mm512_maskz_inserti64x4(0xFF, _mm512_castsi256_si512(lo), hi, 1);
        }
        const __m256 xs_lo = _mm256_loadu_ps(x.scales16x + ta * kTokenTile);
        const __m256 xs_hi = two ? _mm256_loadu_ps(x.scales16x + tb * kTokenTile) : _mm256_setzero_ps();
        const __m512 xs = _mm512_castpd_ps(  // insertf64x4: AVX-512F (insertf32x8 would need DQ)
            _mm512_maskz_insertf64x4(0xFF, _mm512_castpd256_pd512(_mm256_castps_pd(xs_lo)),
                                     _mm256_castps_pd(xs_hi), 1));
        for (size_t r = 0; r < R; ++r) {
          const int16_t* wj = wb[r] + j * kBlock;
          __m512i acc[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
#pragma GCC unroll 16
          for (size_t p = 0; p < 16; ++p) {
            int32_t pair;
            std::memcpy(&pair, wj + 2 * p, 4);
            acc[p % 2] = _mm512_dpwssd_epi32(acc[p % 2], _mm512_set1_epi32(pair), xv[p]);
          }
          const __m512i sum = _mm512_add_epi32(acc[0], acc[1]);
          const __m512 d = _mm512_mul_ps(_mm512_set1_ps(ws[r][j]), xs);
          float* l = lanes[r][j % 8];
          _mm512_store_ps(
              l, _mm512_add_ps(_mm512_load_ps(l), _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(0xFFFF, sum), d)));
        }
      }
      for (size_t h = 0; h < (two ? 2u : 1u); ++h) {
        const size_t first = (m + h) * kTokenTile;
        const size_t tokens = x.batch - first < kTokenTile ? x.batch - first : kTokenTile;
        for (size_t r = 0; r < R; ++r) {
          store_tile_row(lanes[r][0] + h * kTokenTile, 2 * kTokenTile, bias, row0 + r, first, tokens, out,
                         out_stride);
        }
      }
    }
  }
}
#undef KATTR
}  // namespace vnni

// Without the token-interleaved activations, prefill takes one row against kTokens tokens: int4 rows unpack
// once for 4 tokens (measured ~8% faster than 2); int8's widened rows and int16 activations for 4 tokens
// spill AVX2's 16 registers, so 2 there. With them (prefill_rows), rows per step: AVX2 1 (int8) / 2 (int4),
// VNNI 4 (32 registers; measured on Zen 4 at 2048x768x16: 2 rows 1.35x slower, 6 or 8 no faster).
void gemm_rows_avx2(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                    size_t row_begin, size_t row_end, float* out, size_t out_stride) {
  if (w.codes == GroupCodes::kInt8) {
    avx2::gemm_rows<2, 1, 2>(w, x, bias, row_begin, row_end, out, out_stride);
  } else {
    avx2::gemm_rows<4, 1, 2>(w, x, bias, row_begin, row_end, out, out_stride);
  }
}

void gemm_rows_vnni(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                    size_t row_begin, size_t row_end, float* out, size_t out_stride) {
  if (w.codes == GroupCodes::kInt8 && x.batch > kTokenTile && x.q16x != nullptr && w.cols % kBlock == 0 &&
      w.cols <= vnni::kPrefillMaxCols) {
    constexpr size_t kRows = 4;
    const size_t whole = row_begin + (row_end - row_begin) / kRows * kRows;
    vnni::prefill_rows_int8_x2<kRows>(w, x, bias, row_begin, whole, out, out_stride);
    if (whole < row_end)
      vnni::prefill_rows<1, GroupCodes::kInt8>(w, x, bias, whole, row_end, out, out_stride);
    return;
  }
  vnni::gemm_rows<4, 4, 4>(w, x, bias, row_begin, row_end, out, out_stride);
}

}  // namespace

GemmRows avx2_gemm_rows() {
  // F16C widens the scales; every AVX2 CPU we know has it, but it is a separate feature bit.
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_f16c();
  return ok ? gemm_rows_avx2 : nullptr;
}

GemmRows avx512vnni_gemm_rows() {
  static const bool ok = cpuinfo_initialize() && cpuinfo_has_x86_avx2() && cpuinfo_has_x86_f16c() &&
                         cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512vl() &&
                         cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512vnni();
  return ok ? gemm_rows_vnni : nullptr;
}

}  // namespace ordinal::kernels::group

#else

namespace ordinal::kernels::group {
GemmRows avx2_gemm_rows() {
  return nullptr;
}
GemmRows avx512vnni_gemm_rows() {
  return nullptr;
}
}  // namespace ordinal::kernels::group

#endif
