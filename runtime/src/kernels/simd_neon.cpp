// NEON paths of the SIMD primitives (simd.hpp), bit-identical to simd_scalar.cpp.
// aarch64: every primitive. ARMv7 (this file alone is built with -mfpu=neon and only runs when cpuinfo
// reports NEON): the integer ones; its float entries are the scalar functions, because ARMv7 Advanced
// SIMD flushes denormals to zero and could not give IEEE results.
// Only arm_neon.h and simd.hpp are included: no inline function from a shared header gets a NEON copy
// here that the linker could pick for a caller on a CPU without NEON.
#include "kernels/simd.hpp"
#include "numerics/strict_float.hpp"  // vmulq + vaddq must stay two roundings (GCC would fuse them)

#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>

namespace ordinal::kernels {

namespace {

// round(x / 2^15) half to even, for |x| < 2^31 - 2^15: floor((x + 2^14 - 1 + (floor(x / 2^15) & 1)) / 2^15).
inline int32x4_t round_q15(int32x4_t x) {
  const int32x4_t odd = vandq_s32(vshrq_n_s32(x, 15), vdupq_n_s32(1));
  return vshrq_n_s32(vaddq_s32(vaddq_s32(x, vdupq_n_s32(0x3fff)), odd), 15);
}

// Rotates 8 pairs held as int16 lanes; returns a' and b' rounded and saturated to int16.
inline void rotate8_q15(int16x8_t a, int16x8_t b, int16x8_t c, int16x8_t s, int16x8_t* a_out,
                        int16x8_t* b_out) {
  const int16x4_t al = vget_low_s16(a), ah = vget_high_s16(a), bl = vget_low_s16(b), bh = vget_high_s16(b);
  const int16x4_t cl = vget_low_s16(c), ch = vget_high_s16(c), sl = vget_low_s16(s), sh = vget_high_s16(s);
  // Products are exact in int32 and so are the sums (|a c| + |b s| < 2^31 - 2^15, simd.hpp).
  const int32x4_t xl = vmlsl_s16(vmull_s16(al, cl), bl, sl), xh = vmlsl_s16(vmull_s16(ah, ch), bh, sh);
  const int32x4_t yl = vmlal_s16(vmull_s16(al, sl), bl, cl), yh = vmlal_s16(vmull_s16(ah, sh), bh, ch);
  *a_out = vcombine_s16(vqmovn_s32(round_q15(xl)), vqmovn_s32(round_q15(xh)));
  *b_out = vcombine_s16(vqmovn_s32(round_q15(yl)), vqmovn_s32(round_q15(yh)));
}

inline int8x8_t saturate_symmetric_i8(int16x8_t v) {
  return vmovn_s16(vmaxq_s16(vminq_s16(v, vdupq_n_s16(127)), vdupq_n_s16(-127)));
}

void rotate_i16_q15_split(int16_t* a, int16_t* b, const int16_t* c, const int16_t* s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int16x8_t x, y;
    rotate8_q15(vld1q_s16(a + i), vld1q_s16(b + i), vld1q_s16(c + i), vld1q_s16(s + i), &x, &y);
    vst1q_s16(a + i, x);
    vst1q_s16(b + i, y);
  }
  scalar::rotate_i16_q15_split(a + i, b + i, c + i, s + i, n - i);
}

void rotate_i16_q15_interleaved(int16_t* v, const int16_t* c, const int16_t* s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int16x8x2_t p = vld2q_s16(v + 2 * i);
    rotate8_q15(p.val[0], p.val[1], vld1q_s16(c + i), vld1q_s16(s + i), &p.val[0], &p.val[1]);
    vst2q_s16(v + 2 * i, p);
  }
  scalar::rotate_i16_q15_interleaved(v + 2 * i, c + i, s + i, n - i);
}

void rotate_i8_split(int8_t* a, int8_t* b, const int16_t* c, const int16_t* s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int16x8_t x, y;
    rotate8_q15(vmovl_s8(vld1_s8(a + i)), vmovl_s8(vld1_s8(b + i)), vld1q_s16(c + i), vld1q_s16(s + i), &x,
                &y);
    vst1_s8(a + i, saturate_symmetric_i8(x));
    vst1_s8(b + i, saturate_symmetric_i8(y));
  }
  scalar::rotate_i8_split(a + i, b + i, c + i, s + i, n - i);
}

void rotate_i8_interleaved(int8_t* v, const int16_t* c, const int16_t* s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int8x8x2_t p = vld2_s8(v + 2 * i);
    int16x8_t x, y;
    rotate8_q15(vmovl_s8(p.val[0]), vmovl_s8(p.val[1]), vld1q_s16(c + i), vld1q_s16(s + i), &x, &y);
    int8x8x2_t r;
    r.val[0] = saturate_symmetric_i8(x);
    r.val[1] = saturate_symmetric_i8(y);
    vst2_s8(v + 2 * i, r);
  }
  scalar::rotate_i8_interleaved(v + 2 * i, c + i, s + i, n - i);
}

#if defined(__aarch64__)

float dot_f32(const float* a, const float* b, size_t n) {
  float32x4_t p0 = vdupq_n_f32(0.0f), p1 = vdupq_n_f32(0.0f);  // lanes 0-3 and 4-7
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    p0 = vaddq_f32(p0, vmulq_f32(vld1q_f32(a + i), vld1q_f32(b + i)));
    p1 = vaddq_f32(p1, vmulq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4)));
  }
  const float32x4_t t = vaddq_f32(p0, p1);                            // t[l] = p[l] + p[l+4]
  const float32x2_t u = vadd_f32(vget_low_f32(t), vget_high_f32(t));  // t0 + t2, t1 + t3
  float sum = vget_lane_f32(u, 0) + vget_lane_f32(u, 1);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy_f32(float* y, float a, const float* x, size_t n) {
  const float32x4_t va = vdupq_n_f32(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vmulq_f32(va, vld1q_f32(x + i))));
    vst1q_f32(y + i + 4, vaddq_f32(vld1q_f32(y + i + 4), vmulq_f32(va, vld1q_f32(x + i + 4))));
  }
  scalar::axpy_f32(y + i, a, x + i, n - i);
}

inline void rotate4_f32(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t s, float32x4_t* a_out,
                        float32x4_t* b_out) {
  *a_out = vsubq_f32(vmulq_f32(a, c), vmulq_f32(b, s));
  *b_out = vaddq_f32(vmulq_f32(a, s), vmulq_f32(b, c));
}

void rotate_f32_split(float* a, float* b, const float* c, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4_t x, y;
    rotate4_f32(vld1q_f32(a + i), vld1q_f32(b + i), vld1q_f32(c + i), vld1q_f32(s + i), &x, &y);
    vst1q_f32(a + i, x);
    vst1q_f32(b + i, y);
  }
  scalar::rotate_f32_split(a + i, b + i, c + i, s + i, n - i);
}

void rotate_f32_interleaved(float* v, const float* c, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    float32x4x2_t p = vld2q_f32(v + 2 * i);
    rotate4_f32(p.val[0], p.val[1], vld1q_f32(c + i), vld1q_f32(s + i), &p.val[0], &p.val[1]);
    vst2q_f32(v + 2 * i, p);
  }
  scalar::rotate_f32_interleaved(v + 2 * i, c + i, s + i, n - i);
}

// Stores or accumulates four dequantized values (int32 codes, exactly representable as float).
inline void put4(float* out, int32x4_t codes, float32x4_t scale, bool accumulate) {
  float32x4_t v = vmulq_f32(vcvtq_f32_s32(codes), scale);
  if (accumulate) v = vaddq_f32(vld1q_f32(out), v);
  vst1q_f32(out, v);
}

inline void put16(float* out, int16x8_t lo, int16x8_t hi, float32x4_t scale, bool accumulate) {
  put4(out, vmovl_s16(vget_low_s16(lo)), scale, accumulate);
  put4(out + 4, vmovl_s16(vget_high_s16(lo)), scale, accumulate);
  put4(out + 8, vmovl_s16(vget_low_s16(hi)), scale, accumulate);
  put4(out + 12, vmovl_s16(vget_high_s16(hi)), scale, accumulate);
}

void dequant_i8(const int8_t* q, float scale, float* out, size_t n, bool accumulate) {
  const float32x4_t vs = vdupq_n_f32(scale);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t v = vld1q_s8(q + i);
    put16(out + i, vmovl_s8(vget_low_s8(v)), vmovl_s8(vget_high_s8(v)), vs, accumulate);
  }
  scalar::dequant_i8(q + i, scale, out + i, n - i, accumulate);
}

void dequant_i8_scales(const int8_t* q, const float* scales, float* out, size_t n, bool accumulate) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int16x8_t v = vmovl_s8(vld1_s8(q + i));
    put4(out + i, vmovl_s16(vget_low_s16(v)), vld1q_f32(scales + i), accumulate);
    put4(out + i + 4, vmovl_s16(vget_high_s16(v)), vld1q_f32(scales + i + 4), accumulate);
  }
  scalar::dequant_i8_scales(q + i, scales + i, out + i, n - i, accumulate);
}

void dequant_i4(const uint8_t* packed, uint8_t flip, int32_t zero, float scale, float* out, size_t n,
                bool accumulate) {
  const float32x4_t vs = vdupq_n_f32(scale);
  const uint8x8_t vflip = vdup_n_u8(flip), mask = vdup_n_u8(0x0f);
  const int16x8_t vzero = vdupq_n_s16(static_cast<int16_t>(zero));  // zero <= 255
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8x8_t bytes = vld1_u8(packed + i / 2);
    // Element 2k is the low nibble of byte k, 2k+1 the high one: zip restores element order.
    const uint8x8x2_t e = vzip_u8(veor_u8(vand_u8(bytes, mask), vflip), veor_u8(vshr_n_u8(bytes, 4), vflip));
    const int16x8_t lo = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(e.val[0])), vzero);
    const int16x8_t hi = vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(e.val[1])), vzero);
    put16(out + i, lo, hi, vs, accumulate);
  }
  scalar::dequant_i4(packed + i / 2, flip, zero, scale, out + i, n - i, accumulate);
}

constexpr KernelTable kNeonTable = {
    Isa::kNeon,
    dot_f32,
    axpy_f32,
    rotate_f32_split,
    rotate_f32_interleaved,
    rotate_i16_q15_split,
    rotate_i16_q15_interleaved,
    rotate_i8_split,
    rotate_i8_interleaved,
    dequant_i8,
    dequant_i8_scales,
    dequant_i4,
    scalar::axpy_i8_rows,
};

#else  // ARMv7: integer kernels only (see the top of this file)

constexpr KernelTable kNeonTable = {
    Isa::kNeon,
    scalar::dot_f32,
    scalar::axpy_f32,
    scalar::rotate_f32_split,
    scalar::rotate_f32_interleaved,
    rotate_i16_q15_split,
    rotate_i16_q15_interleaved,
    rotate_i8_split,
    rotate_i8_interleaved,
    scalar::dequant_i8,
    scalar::dequant_i8_scales,
    scalar::dequant_i4,
    scalar::axpy_i8_rows,
};

#endif

}  // namespace

const KernelTable* neon_kernels() {
  return &kNeonTable;
}

}  // namespace ordinal::kernels

#else  // no NEON in this build

namespace ordinal::kernels {
const KernelTable* neon_kernels() {
  return nullptr;
}
}  // namespace ordinal::kernels

#endif
