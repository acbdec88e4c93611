// AVX2 (+F16C) path of the group-wise integer GEMM: bit-identical to group_gemm.cpp's definition.
// Per block of 32: one vpmaddubsw (unsigned x signed bytes, pairs into int16 without saturation: int4 codes
// are 0..15 against |x| <= 127; int8 weights enter as |w| <= 128 against x signed by w, 2 * 128 * 127 < 2^15)
// and one vpmaddwd by ones into eight int32. Eight blocks' vectors are then reduced together to the eight
// exact block sums (hadd tree), converted to float (exact) and combined in eight float lanes, the lanes of
// the canonical combination. Built with baseline flags; only ORDINAL_AVX2 functions use AVX2/F16C.
#include "kernels/group_gemm.hpp"
#include "numerics/strict_float.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuinfo.h>
#include <immintrin.h>

#include <cstring>

#define ORDINAL_AVX2 __attribute__((target("avx2,f16c")))

namespace ordinal::kernels::group {

namespace {

// Eight int32 vectors -> one vector of their eight horizontal sums, in order.
ORDINAL_AVX2 inline __m256i hsum8(const __m256i* s) {
  const __m256i h01 = _mm256_hadd_epi32(s[0], s[1]);
  const __m256i h23 = _mm256_hadd_epi32(s[2], s[3]);
  const __m256i h45 = _mm256_hadd_epi32(s[4], s[5]);
  const __m256i h67 = _mm256_hadd_epi32(s[6], s[7]);
  const __m256i a = _mm256_hadd_epi32(h01, h23);  // [s0..s3 low halves | s0..s3 high halves]
  const __m256i b = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

ORDINAL_AVX2 inline __m256i block_int8(const uint8_t* w, const int8_t* x, __m256i ones) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(xv, wv));
  return _mm256_madd_epi16(p, ones);
}

// Unsigned codes u of one int4 block (flip = 0x88 turns signed nibbles into u = s + 8) against the
// activations in nibble order: low nibbles (even elements) in the low 128 bits, high nibbles above.
ORDINAL_AVX2 inline __m256i block_int4(const uint8_t* w, const int8_t* xn, __m128i flip, __m256i low4,
                                       __m256i ones) {
  const __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)), flip);
  const __m256i u =
      _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1), low4);
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xn));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, xv), ones);
}

ORDINAL_AVX2 float row_dot_avx2(const GroupMatrixView& w, size_t row, const GroupActivationsView& x,
                                size_t token) {
  const size_t nb = x.blocks();
  const size_t per_group = w.group / kBlock;
  const size_t groups = w.groups_per_row();
  const uint8_t* wr = w.data + row * w.row_bytes;
  const uint8_t* sr = w.scales + 2 * row * groups;
  const uint8_t* zr = w.zeros ? w.zeros + row * groups : nullptr;
  const float* xs = x.scales + token * nb;
  const int32_t* xsum = x.sums + token * nb;
  const bool int8 = w.codes == GroupCodes::kInt8;
  const int8_t* xq = (int8 ? x.q : x.q_nibble) + token * x.cols;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m128i flip = _mm_set1_epi8(w.codes == GroupCodes::kInt4 ? static_cast<char>(0x88) : 0);
  const size_t block_bytes = int8 ? kBlock : kBlock / 2;
  __m256 acc = _mm256_setzero_ps();
  for (size_t j0 = 0; j0 < nb; j0 += 8) {
    const size_t n = nb - j0 < 8 ? nb - j0 : 8;
    __m256i s[8];
    if (int8) {
      for (size_t k = 0; k < n; ++k)
        s[k] = block_int8(wr + (j0 + k) * block_bytes, xq + (j0 + k) * kBlock, ones);
    } else {
      for (size_t k = 0; k < n; ++k)
        s[k] = block_int4(wr + (j0 + k) * block_bytes, xq + (j0 + k) * kBlock, flip, low4, ones);
    }
    for (size_t k = n; k < 8; ++k) s[k] = _mm256_setzero_si256();
    __m256i isum = hsum8(s);
    __m128i halves;
    __m256 dx;
    if (n == 8 && per_group == 1) {
      halves = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sr + 2 * j0));
      dx = _mm256_loadu_ps(xs + j0);
      if (!int8) {
        const __m256i xsv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xsum + j0));
        const __m256i z =
            zr ? _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(zr + j0)))
               : _mm256_set1_epi32(8);
        isum = _mm256_sub_epi32(isum, _mm256_mullo_epi32(z, xsv));
      }
    } else {
      // A partial chunk or groups wider than a block: gather into zero-filled lanes (absent lanes add +0).
      alignas(32) uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      alignas(32) float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      alignas(32) int32_t zs[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t k = 0; k < n; ++k) {
        const size_t j = j0 + k;
        std::memcpy(&h[k], sr + 2 * (j / per_group), 2);
        d[k] = xs[j];
        if (!int8) zs[k] = (zr ? int32_t{zr[j / per_group]} : 8) * xsum[j];
      }
      halves = _mm_load_si128(reinterpret_cast<const __m128i*>(h));
      dx = _mm256_load_ps(d);
      if (!int8) isum = _mm256_sub_epi32(isum, _mm256_load_si256(reinterpret_cast<const __m256i*>(zs)));
    }
    const __m256 dv = _mm256_mul_ps(_mm256_cvtph_ps(halves), dx);
    acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), dv));
  }
  // reduce_lanes: (l0 + l4, l1 + l5, l2 + l6, l3 + l7), then (a0 + a2) + (a1 + a3).
  const __m128 a = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
  return _mm_cvtss_f32(_mm_add_ss(b, _mm_shuffle_ps(b, b, 0x55)));
}

}  // namespace

RowDot avx2_row_dot() {
  // F16C widens the scales; every AVX2 CPU we know has it, but it is a separate feature bit.
  static const bool f16c = cpuinfo_initialize() && cpuinfo_has_x86_f16c() && cpuinfo_has_x86_avx2();
  return f16c ? row_dot_avx2 : nullptr;
}

}  // namespace ordinal::kernels::group

#else

namespace ordinal::kernels::group {
RowDot avx2_row_dot() {
  return nullptr;
}
}  // namespace ordinal::kernels::group

#endif
