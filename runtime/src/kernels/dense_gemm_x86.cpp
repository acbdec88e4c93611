// x86 dense kernels (dense_gemm.hpp): AVX2 with FMA and F16C (f16 rows widened by vcvtph2ps as they are
// loaded), and SSE4.1 (multiply then add; f16 widened one half at a time). Each is compiled in its own target
// region; the rest of the binary keeps the baseline ISA and only runs these after the CPU check in
// dense_gemm_dispatch.cpp.
#include <cstddef>
#include <cstdint>

#include "kernels/dense_gemm.hpp"
#include "numerics/half.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace ordinal::kernels {

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif
namespace {
namespace avx2 {

struct Policy {
  using V = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr int kTokens = 3;  // 4 rows x 3 tokens: 12 accumulators + 3 x + 1 w = 16 ymm registers
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load_w(const float* p) { return _mm256_loadu_ps(p); }
  static V load_w(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V madd(V acc, V w, V x) { return _mm256_fmadd_ps(w, x, acc); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  // ((l0+l1) + (l2+l3)) + ((l4+l5) + (l6+l7)): the order hadd gives, so that sum4 reduces four
  // accumulators in 3 hadds and one add with the same bits.
  static float sum(V v) {
    const __m256 h = _mm256_hadd_ps(v, v);  // l0+l1, l2+l3, .. | l4+l5, l6+l7, ..
    const __m256 q = _mm256_hadd_ps(h, h);  // (l0+l1)+(l2+l3) | (l4+l5)+(l6+l7)
    return _mm_cvtss_f32(_mm_add_ss(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1)));
  }
  static void sum4(V a, V b, V c, V d, float* out) {
    const __m256 q = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1)));
  }
  static float widen(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }
};

#include "kernels/dense_gemm_tiles.inc"

}  // namespace avx2
}  // namespace
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sse4.1")
#endif
namespace {
namespace sse41 {

// Halves are widened by the portable routine (numerics/half.hpp; no F16C here): f16 on SSE4.1-only CPUs
// reads half the bytes of f32 but converts at scalar speed.
inline float widen_half(uint16_t h) {
  return numerics::half_to_float(h);
}

struct Policy {
  using V = __m128;
  static constexpr size_t kLanes = 4;
  static constexpr int kTokens = 2;  // 4 x 2: 8 accumulators + 2 x + 1 w, + a temporary (no AVX operands)
  static V zero() { return _mm_setzero_ps(); }
  static V load(const float* p) { return _mm_loadu_ps(p); }
  static V load_w(const float* p) { return _mm_loadu_ps(p); }
  static V load_w(const uint16_t* p) {
    return _mm_set_ps(widen_half(p[3]), widen_half(p[2]), widen_half(p[1]), widen_half(p[0]));
  }
  static V madd(V acc, V w, V x) { return _mm_add_ps(acc, _mm_mul_ps(w, x)); }
  static V add(V a, V b) { return _mm_add_ps(a, b); }
  static float sum(V s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55)));
  }
  static void sum4(V a, V b, V c, V d, float* out) {
    out[0] = sum(a), out[1] = sum(b), out[2] = sum(c), out[3] = sum(d);
  }
  static float widen(uint16_t h) { return widen_half(h); }
};

#include "kernels/dense_gemm_tiles.inc"

}  // namespace sse41
}  // namespace
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace {
const DenseGemmKernels kAvx2Fma = {"avx2-fma", &avx2::dense_rows<avx2::Policy, float>,
                                   &avx2::dense_rows<avx2::Policy, uint16_t>};
const DenseGemmKernels kSse41 = {"sse4.1", &sse41::dense_rows<sse41::Policy, float>,
                                 &sse41::dense_rows<sse41::Policy, uint16_t>};
}  // namespace

const DenseGemmKernels* dense_gemm_avx2_fma() {
  return &kAvx2Fma;
}
const DenseGemmKernels* dense_gemm_sse41() {
  return &kSse41;
}

}  // namespace ordinal::kernels

#else
namespace ordinal::kernels {
const DenseGemmKernels* dense_gemm_avx2_fma() {
  return nullptr;
}
const DenseGemmKernels* dense_gemm_sse41() {
  return nullptr;
}
}  // namespace ordinal::kernels
#endif
