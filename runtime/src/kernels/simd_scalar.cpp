// Portable definitions of the SIMD primitives (simd.hpp): the semantics every other path reproduces.
#include "kernels/simd.hpp"
#include "kernels/vector_ops.hpp"
#include "numerics/fixed_point.hpp"
#include "numerics/strict_float.hpp"  // before any definition: no FMA contraction of a*b+c

namespace ordinal::kernels::scalar {

namespace {

// Q15 rotation of one integer pair: exact int64 products, round half to even by 2^15.
inline void rotate_q15(int64_t a, int64_t b, int64_t c, int64_t s, int64_t* a_out, int64_t* b_out) {
  *a_out = numerics::rounding_shift_right_half_even(a * c - b * s, 15);
  *b_out = numerics::rounding_shift_right_half_even(a * s + b * c, 15);
}

inline void rotate_pair_i16(int16_t& a, int16_t& b, int16_t c, int16_t s) {
  int64_t x, y;
  rotate_q15(a, b, c, s, &x, &y);
  a = numerics::saturate_int16(x);
  b = numerics::saturate_int16(y);
}

inline void rotate_pair_i8(int8_t& a, int8_t& b, int16_t c, int16_t s) {
  int64_t x, y;
  rotate_q15(a, b, c, s, &x, &y);
  a = numerics::saturate_int8_symmetric(x);
  b = numerics::saturate_int8_symmetric(y);
}

inline void put(float* out, size_t i, float v, bool accumulate) {
  if (accumulate) {
    out[i] += v;
  } else {
    out[i] = v;
  }
}

}  // namespace

float dot_f32(const float* a, const float* b, size_t n) {
  float p[kDotLanes] = {};
  size_t i = 0;
  for (; i + kDotLanes <= n; i += kDotLanes) {
    for (size_t l = 0; l < kDotLanes; ++l) p[l] += a[i + l] * b[i + l];
  }
  const float t0 = p[0] + p[4], t1 = p[1] + p[5], t2 = p[2] + p[6], t3 = p[3] + p[7];
  float s = (t0 + t2) + (t1 + t3);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_f32(float* y, float a, const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void rotate_f32_split(float* a, float* b, const float* c, const float* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float a0 = a[i], b0 = b[i];
    a[i] = a0 * c[i] - b0 * s[i];
    b[i] = a0 * s[i] + b0 * c[i];
  }
}

void rotate_f32_interleaved(float* v, const float* c, const float* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float a0 = v[2 * i], b0 = v[2 * i + 1];
    v[2 * i] = a0 * c[i] - b0 * s[i];
    v[2 * i + 1] = a0 * s[i] + b0 * c[i];
  }
}

void rotate_i16_q15_split(int16_t* a, int16_t* b, const int16_t* c, const int16_t* s, size_t n) {
  for (size_t i = 0; i < n; ++i) rotate_pair_i16(a[i], b[i], c[i], s[i]);
}

void rotate_i16_q15_interleaved(int16_t* v, const int16_t* c, const int16_t* s, size_t n) {
  for (size_t i = 0; i < n; ++i) rotate_pair_i16(v[2 * i], v[2 * i + 1], c[i], s[i]);
}

void rotate_i8_split(int8_t* a, int8_t* b, const int16_t* c, const int16_t* s, size_t n) {
  for (size_t i = 0; i < n; ++i) rotate_pair_i8(a[i], b[i], c[i], s[i]);
}

void rotate_i8_interleaved(int8_t* v, const int16_t* c, const int16_t* s, size_t n) {
  for (size_t i = 0; i < n; ++i) rotate_pair_i8(v[2 * i], v[2 * i + 1], c[i], s[i]);
}

void dequant_i8(const int8_t* q, float scale, float* out, size_t n, bool accumulate) {
  for (size_t i = 0; i < n; ++i) put(out, i, static_cast<float>(q[i]) * scale, accumulate);
}

void dequant_i8_scales(const int8_t* q, const float* scales, float* out, size_t n, bool accumulate) {
  for (size_t i = 0; i < n; ++i) put(out, i, static_cast<float>(q[i]) * scales[i], accumulate);
}

void dequant_i4(const uint8_t* packed, uint8_t flip, int32_t zero, float scale, float* out, size_t n,
                bool accumulate) {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t byte = packed[i / 2];
    const uint8_t nibble = (i % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
    const int32_t code = static_cast<int32_t>(nibble ^ flip) - zero;
    put(out, i, static_cast<float>(code) * scale, accumulate);
  }
}

void axpy_i8_rows(float* x, size_t n, const int8_t* const* q, const float* c, const float* s, size_t rank) {
  for (size_t r = 0; r < rank; ++r) {
    for (size_t i = 0; i < n; ++i) x[i] = x[i] + c[r] * (static_cast<float>(q[r][i]) * s[r]);
  }
}

const KernelTable& table() {
  static constexpr KernelTable kTable = {
      Isa::kScalar,
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
      axpy_i8_rows,
  };
  return kTable;
}

}  // namespace ordinal::kernels::scalar
