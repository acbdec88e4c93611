// AVX2 activations (elementwise.hpp), bit-identical to their scalar definitions in elementwise.cpp. No FMA.
#include "kernels/elementwise.hpp"
#include "numerics/strict_float.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define ORDINAL_AVX2 __attribute__((target("avx2")))
#include "kernels/attention.hpp"
#include "kernels/softmax_exp_avx2.hpp"

namespace ordinal::kernels {

namespace {

ORDINAL_AVX2 void swiglu_avx2_impl(float* gate, const float* up, size_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_loadu_ps(gate + j);
    const __m256 z = exp8(_mm256_or_ps(v, sign));  // -|v|
    const __m256 num = _mm256_blendv_ps(_mm256_mul_ps(v, z), v, _mm256_cmp_ps(v, zero, _CMP_GE_OQ));
    const __m256 silu = _mm256_div_ps(num, _mm256_add_ps(one, z));
    _mm256_storeu_ps(gate + j, _mm256_mul_ps(silu, _mm256_loadu_ps(up + j)));
  }
  scalar::swiglu(gate + j, up + j, n - j);
}

}  // namespace

SwigluFn swiglu_avx2() {
  return swiglu_avx2_impl;
}

}  // namespace ordinal::kernels

#else

namespace ordinal::kernels {
SwigluFn swiglu_avx2() {
  return nullptr;
}
}  // namespace ordinal::kernels

#endif
