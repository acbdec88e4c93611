// NEON dense kernels (dense_gemm.hpp). aarch64: fused multiply-add, f16 rows widened by fcvtl as they are
// loaded, GEMM tiles of 4 rows x 4 tokens. ARMv7 (this file alone gets -mfpu=neon there, and runs
// only where cpuinfo reports NEON): f32 rows only, multiply then add (VFPv3 NEON has no fused form), 4 rows x
// 2 tokens (16 q registers); f16 rows take the scalar kernel (base NEON has no half conversion), chosen in
// dense_gemm_dispatch.cpp. ARMv7 NEON flushes float denormals to zero: a product below 2^-126 counts as 0,
// far below the rounding of a dot product of weights.
// No header with inline functions is included (as in simd_neon.cpp): on ARMv7 none may get a NEON copy here
// that the linker could pick for a caller on a CPU without NEON.
#include <cstddef>
#include <cstdint>

#include "kernels/dense_gemm.hpp"

#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

namespace ordinal::kernels {

namespace {

struct NeonPolicy {
  using V = float32x4_t;
  static constexpr size_t kLanes = 4;
#if defined(__aarch64__)
  static constexpr int kTokens = 4;  // 4 x 4: 16 accumulators + 4 x + 1 w of 32 registers
#else
  static constexpr int kTokens = 2;  // 4 x 2: 8 accumulators + 2 x + 1 w of 16 q registers
#endif
  static V zero() {
    return vdupq_n_f32(0.0f);
  }
  static V load(const float* p) {
    return vld1q_f32(p);
  }
  static V load_w(const float* p) {
    return vld1q_f32(p);
  }
#if defined(__aarch64__)
  static V load_w(const uint16_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
  }
  static V madd(V acc, V w, V x) {
    return vfmaq_f32(acc, w, x);
  }
#else
  static V madd(V acc, V w, V x) {
    return vaddq_f32(acc, vmulq_f32(w, x));
  }
#endif
  static V add(V a, V b) {
    return vaddq_f32(a, b);
  }
  // (l0+l2, l1+l3), then their sum.
  static float sum(V v) {
    const float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(s, 0) + vget_lane_f32(s, 1);
  }
  static void sum4(V a, V b, V c, V d, float* out) {
    out[0] = sum(a), out[1] = sum(b), out[2] = sum(c), out[3] = sum(d);
  }
#if defined(__aarch64__)
  static float widen(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
  }
#endif
};

#include "kernels/dense_gemm_tiles.inc"

#if defined(__aarch64__)
const DenseGemmKernels kNeon = {"neon", &dense_rows<NeonPolicy, float>, &dense_rows<NeonPolicy, uint16_t>};
#else
const DenseGemmKernels kNeon = {"neon", &dense_rows<NeonPolicy, float>, nullptr};
#endif

}  // namespace

const DenseGemmKernels* dense_gemm_neon() {
  return &kNeon;
}

}  // namespace ordinal::kernels

#else
namespace ordinal::kernels {
const DenseGemmKernels* dense_gemm_neon() {
  return nullptr;
}
}  // namespace ordinal::kernels
#endif
