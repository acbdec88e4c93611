// NEON paths of the integer-weight GEMM, bit-identical to group_gemm.cpp's definition.
// Block sums: int4 by vmull/vmlal of bytes into int16 lanes (four products of |u x| <= 15 * 127 per lane)
// and pairwise widening; int8 weights widened to int16 and multiplied into int32 against int16 activations
// (vmull/vmlal_s16) - exact either way. aarch64 also does the float combination in NEON (two float32x4 =
// the eight canonical lanes). ARMv7 NEON flushes float denormals to zero, so armv7 stops at the integer
// sums and leaves the combination to the scalar code (path "neon-int"). Built with -mfpu=neon on armv7
// (runtime/CMakeLists.txt); used only where cpuinfo finds NEON.
#include "kernels/group_gemm.hpp"
#include "numerics/strict_float.hpp"

#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

#include <cstring>

namespace ordinal::kernels::group {

namespace {

// int8 weights against int16 activations: widening multiply-accumulate into int32 (|w x| <= 128 * 32767).
inline int32x4_t block_int8(const uint8_t* w, const int16_t* x) {
  const int8x16_t w0 = vld1q_s8(reinterpret_cast<const int8_t*>(w));
  const int8x16_t w1 = vld1q_s8(reinterpret_cast<const int8_t*>(w) + 16);
  const int16x8_t a = vmovl_s8(vget_low_s8(w0)), b = vmovl_s8(vget_high_s8(w0));
  const int16x8_t c = vmovl_s8(vget_low_s8(w1)), d = vmovl_s8(vget_high_s8(w1));
  int32x4_t acc = vmull_s16(vget_low_s16(a), vld1_s16(x));
  acc = vmlal_s16(acc, vget_high_s16(a), vld1_s16(x + 4));
  acc = vmlal_s16(acc, vget_low_s16(b), vld1_s16(x + 8));
  acc = vmlal_s16(acc, vget_high_s16(b), vld1_s16(x + 12));
  acc = vmlal_s16(acc, vget_low_s16(c), vld1_s16(x + 16));
  acc = vmlal_s16(acc, vget_high_s16(c), vld1_s16(x + 20));
  acc = vmlal_s16(acc, vget_low_s16(d), vld1_s16(x + 24));
  return vmlal_s16(acc, vget_high_s16(d), vld1_s16(x + 28));
}

// Unsigned codes u (signed nibbles flipped by 0x88: u = s + 8) against the even / odd int8 activations.
inline int32x4_t block_int4(const uint8_t* w, const int8_t* even, const int8_t* odd, uint8x16_t flip) {
  const uint8x16_t b = veorq_u8(vld1q_u8(w), flip);
  const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0x0F)));
  const int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(b, 4));
  const int8x16_t x0 = vld1q_s8(even);
  const int8x16_t x1 = vld1q_s8(odd);
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

// Exact sum of complete block j (int8: without zero point; int4: minus z * sum of the codes).
inline int32_t block_sum(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                         size_t j, uint8x16_t flip) {
  const uint8_t* wr = w.data + row * w.row_bytes;
  if (w.codes == GroupCodes::kInt8)
    return hsum(block_int8(wr + j * kBlock, x.q16 + token * x.stride + j * kBlock));
  const int8_t* xt = x.q8 + token * x.stride;
  const int32_t s = hsum(block_int4(wr + j * (kBlock / 2), xt + nibble_even_offset(j, x.blocks),
                                    xt + nibble_odd_offset(j, x.blocks), flip));
  const int32_t z = w.zeros ? int32_t{w.zeros[row * w.groups + j / w.blocks_per_group]} : 8;
  return s - z * x.sums8[token * x.blocks + j];
}

void row_sums_neon(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                   size_t j0, size_t j1, int32_t* isum) {
  const size_t full = w.cols / kBlock;
  const uint8x16_t flip = vdupq_n_u8(w.codes == GroupCodes::kInt4 ? 0x88 : 0);
  for (size_t j = j0; j < j1; ++j) {
    isum[j - j0] = j < full ? block_sum(w, row, x, token, j, flip) : block_sum_scalar(w, row, x, token, j);
  }
}

#if defined(__aarch64__)
// One token: block sums eight at a time into two int32x4, combined in the canonical lanes (two float32x4).
float row_dot_one(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token) {
  const size_t nb = w.blocks();
  const float* xs = token_scales(w, x, token);
  const uint8x16_t flip = vdupq_n_u8(w.codes == GroupCodes::kInt4 ? 0x88 : 0);
  const size_t full = w.cols / kBlock;
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);  // canonical lanes 0-3 and 4-7
  for (size_t j0 = 0; j0 < nb; j0 += 8) {
    const size_t n = nb - j0 < 8 ? nb - j0 : 8;
    int32_t s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float ws[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float d[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t k = 0; k < n; ++k) {
      const size_t j = j0 + k;
      s[k] = j < full ? block_sum(w, row, x, token, j, flip) : block_sum_scalar(w, row, x, token, j);
      ws[k] = weight_scale(w, row, j);
      d[k] = xs[j];
    }
    const float32x4_t d0 = vmulq_f32(vld1q_f32(ws), vld1q_f32(d));
    const float32x4_t d1 = vmulq_f32(vld1q_f32(ws + 4), vld1q_f32(d + 4));
    acc0 = vaddq_f32(acc0, vmulq_f32(vcvtq_f32_s32(vld1q_s32(s)), d0));
    acc1 = vaddq_f32(acc1, vmulq_f32(vcvtq_f32_s32(vld1q_s32(s + 4)), d1));
  }
  // reduce_lanes: a = lanes 0-3 + lanes 4-7; (a0 + a2) + (a1 + a3).
  const float32x4_t a = vaddq_f32(acc0, acc1);
  const float32x2_t b = vadd_f32(vget_low_f32(a), vget_high_f32(a));
  return vget_lane_f32(b, 0) + vget_lane_f32(b, 1);
}

void row_dot_neon(const GroupMatrixView& w, size_t row0, size_t rows, const GroupActivationsView& x,
                  size_t token0, size_t tokens, float* y) {
  for (size_t t = 0; t < tokens; ++t)
    for (size_t r = 0; r < rows; ++r) y[t * rows + r] = row_dot_one(w, row0 + r, x, token0 + t);
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
