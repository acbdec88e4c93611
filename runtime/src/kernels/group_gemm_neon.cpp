// NEON paths of the group-wise integer GEMM, bit-identical to group_gemm.cpp's definition.
// Block sums: vmull/vmlal of signed bytes into int16 lanes (int4: four products of |u x| <= 15 * 127 per
// lane; int8: two products of <= 128 * 127 per lane, two accumulators), then pairwise widening to int32 -
// exact. aarch64 also does the float combination in NEON (two float32x4 = the eight canonical lanes; f16
// scales widened exactly by vcvt_f32_f16). ARMv7 NEON flushes float denormals to zero, so armv7 stops at the
// integer sums and leaves the combination to the scalar code (path "neon-int"). Built with -mfpu=neon on
// armv7 (runtime/CMakeLists.txt); used only where cpuinfo finds NEON.
#include "kernels/group_gemm.hpp"
#include "numerics/strict_float.hpp"

#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

#include <cstring>

namespace ordinal::kernels::group {

namespace {

inline int32x4_t block_int8(const uint8_t* w, const int8_t* x) {
  const int8x16_t w0 = vld1q_s8(reinterpret_cast<const int8_t*>(w));
  const int8x16_t w1 = vld1q_s8(reinterpret_cast<const int8_t*>(w) + 16);
  const int8x16_t x0 = vld1q_s8(x);
  const int8x16_t x1 = vld1q_s8(x + 16);
  int16x8_t p0 = vmull_s8(vget_low_s8(w0), vget_low_s8(x0));
  p0 = vmlal_s8(p0, vget_high_s8(w0), vget_high_s8(x0));
  int16x8_t p1 = vmull_s8(vget_low_s8(w1), vget_low_s8(x1));
  p1 = vmlal_s8(p1, vget_high_s8(w1), vget_high_s8(x1));
  return vpadalq_s16(vpaddlq_s16(p0), p1);
}

// Unsigned codes u (signed nibbles flipped by 0x88: u = s + 8) against activations in nibble order.
inline int32x4_t block_int4(const uint8_t* w, const int8_t* xn, uint8x16_t flip) {
  const uint8x16_t b = veorq_u8(vld1q_u8(w), flip);
  const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0x0F)));
  const int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(b, 4));
  const int8x16_t x0 = vld1q_s8(xn);
  const int8x16_t x1 = vld1q_s8(xn + 16);
  int16x8_t p = vmull_s8(vget_low_s8(lo), vget_low_s8(x0));
  p = vmlal_s8(p, vget_high_s8(lo), vget_high_s8(x0));
  p = vmlal_s8(p, vget_low_s8(hi), vget_low_s8(x1));
  p = vmlal_s8(p, vget_high_s8(hi), vget_high_s8(x1));
  return vpaddlq_s16(p);
}

inline int32_t hsum(int32x4_t v) {
  const int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
  return vget_lane_s32(vpadd_s32(s, s), 0);
}

inline int32x4_t block(const GroupMatrixView& w, const uint8_t* wr, const int8_t* xq, size_t j,
                       uint8x16_t flip) {
  return w.codes == GroupCodes::kInt8 ? block_int8(wr + j * kBlock, xq + j * kBlock)
                                      : block_int4(wr + j * (kBlock / 2), xq + j * kBlock, flip);
}

void row_sums_neon(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                   int32_t* isum) {
  const size_t nb = x.blocks();
  const size_t per_group = w.group / kBlock;
  const uint8_t* wr = w.data + row * w.row_bytes;
  const bool int8 = w.codes == GroupCodes::kInt8;
  const int8_t* xq = (int8 ? x.q : x.q_nibble) + token * x.cols;
  const int32_t* xsum = x.sums + token * nb;
  const uint8_t* zr = w.zeros ? w.zeros + row * w.groups_per_row() : nullptr;
  const uint8x16_t flip = vdupq_n_u8(w.codes == GroupCodes::kInt4 ? 0x88 : 0);
  for (size_t j = 0; j < nb; ++j) {
    const int32_t s = hsum(block(w, wr, xq, j, flip));
    isum[j] = int8 ? s : s - (zr ? int32_t{zr[j / per_group]} : 8) * xsum[j];
  }
}

#if defined(__aarch64__)
float row_dot_neon(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token) {
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
  const uint8x16_t flip = vdupq_n_u8(w.codes == GroupCodes::kInt4 ? 0x88 : 0);
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);  // canonical lanes 0-3 and 4-7
  for (size_t j0 = 0; j0 < nb; j0 += 8) {
    const size_t n = nb - j0 < 8 ? nb - j0 : 8;
    int32x4_t s[8];
    for (size_t k = 0; k < n; ++k) s[k] = block(w, wr, xq, j0 + k, flip);
    for (size_t k = n; k < 8; ++k) s[k] = vdupq_n_s32(0);
    int32x4_t lo = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
    int32x4_t hi = vpaddq_s32(vpaddq_s32(s[4], s[5]), vpaddq_s32(s[6], s[7]));
    // Scales, activation scales and zero-point offsets; absent lanes stay zero (they add +0 to a lane).
    uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t zs[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (n == 8 && per_group == 1) {
      std::memcpy(h, sr + 2 * j0, sizeof h);
    } else {
      for (size_t k = 0; k < n; ++k) std::memcpy(&h[k], sr + 2 * ((j0 + k) / per_group), 2);
    }
    for (size_t k = 0; k < n; ++k) d[k] = xs[j0 + k];
    if (!int8) {
      for (size_t k = 0; k < n; ++k) zs[k] = (zr ? int32_t{zr[(j0 + k) / per_group]} : 8) * xsum[j0 + k];
      lo = vsubq_s32(lo, vld1q_s32(zs));
      hi = vsubq_s32(hi, vld1q_s32(zs + 4));
    }
    const float32x4_t d0 = vmulq_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))), vld1q_f32(d));
    const float32x4_t d1 = vmulq_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + 4))), vld1q_f32(d + 4));
    acc0 = vaddq_f32(acc0, vmulq_f32(vcvtq_f32_s32(lo), d0));
    acc1 = vaddq_f32(acc1, vmulq_f32(vcvtq_f32_s32(hi), d1));
  }
  // reduce_lanes: a = lanes 0-3 + lanes 4-7; (a0 + a2) + (a1 + a3).
  const float32x4_t a = vaddq_f32(acc0, acc1);
  const float32x2_t b = vadd_f32(vget_low_f32(a), vget_high_f32(a));
  return vget_lane_f32(b, 0) + vget_lane_f32(b, 1);
}
#endif

}  // namespace

RowSums neon_row_sums() {
  return row_sums_neon;
}

RowDot neon_row_dot() {
#if defined(__aarch64__)
  return row_dot_neon;
#else
  return nullptr;
#endif
}

}  // namespace ordinal::kernels::group

#else

namespace ordinal::kernels::group {
RowSums neon_row_sums() {
  return nullptr;
}
RowDot neon_row_dot() {
  return nullptr;
}
}  // namespace ordinal::kernels::group

#endif
