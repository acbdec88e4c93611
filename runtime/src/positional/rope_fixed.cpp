#include "positional/rope_fixed.hpp"

#include <cmath>
#include <string>

#include "kernels/simd.hpp"
#include "numerics/fixed_point.hpp"
#include "numerics/strict_float.hpp"  // no FMA contraction in the definitions below

namespace ordinal::positional {

namespace {

// sin/cos are computed once per pair for a chunk of pairs and reused by every head.
constexpr int kPairChunk = 64;

template <typename T, typename RotatePair>
void for_each_pair(T* heads, int n_heads, const RopeShape& shape, int first_pair, int count,
                   RotatePair rotate) {
  for (int h = 0; h < n_heads; ++h) {
    T* v = heads + static_cast<int64_t>(h) * shape.head_dim;
    for (int k = 0; k < count; ++k) {
      const int j = first_pair + k;
      rotate(k, v[rope_pair_first(shape, j)], v[rope_pair_second(shape, j)]);
    }
  }
}

// Rotates pairs [first, first + count) of every head with the SIMD table's split/interleaved kernel.
template <typename T, typename C, typename SplitFn, typename InterleavedFn>
void rotate_chunk(T* heads, int n_heads, const RopeShape& shape, int first, int count, const C* c, const C* s,
                  SplitFn split, InterleavedFn interleaved) {
  const int half = shape.rotary_dims / 2;
  for (int h = 0; h < n_heads; ++h) {
    T* v = heads + static_cast<int64_t>(h) * shape.head_dim;
    if (shape.layout == RopeLayout::kInterleaved) {
      interleaved(v + 2 * first, c, s, static_cast<size_t>(count));
    } else {
      split(v + first, v + half + first, c, s, static_cast<size_t>(count));
    }
  }
}

double exact_angle_radians(uint64_t phase) {
  // Reinterpret as a signed turn fraction in [-1/2, 1/2) without an out-of-range conversion.
  const int64_t signed_phase =
      phase < numerics::kHalfTurn ? static_cast<int64_t>(phase) : -static_cast<int64_t>(~phase) - 1;
  return static_cast<double>(signed_phase) * (6.283185307179586476925286766559 / 18446744073709551616.0);
}

}  // namespace

Status validate_rope_shape(const RopeShape& shape) {
  if (shape.head_dim <= 0) return invalid_argument("rope: head_dim must be positive");
  if (shape.rotary_dims < 2 || shape.rotary_dims % 2 != 0 || shape.rotary_dims > shape.head_dim) {
    return invalid_argument("rope: rotary_dims " + std::to_string(shape.rotary_dims) +
                            " must be even and in [2, head_dim=" + std::to_string(shape.head_dim) + "]");
  }
  if (shape.freqs == nullptr) return invalid_argument("rope: frequencies are missing");
  return Status::Ok();
}

void rope_sincos_q15(const uint64_t* freqs, int pairs, int64_t pos, int16_t* cos_out, int16_t* sin_out) {
  for (int j = 0; j < pairs; ++j) numerics::sincos_q15(phase_for(pos, freqs[j]), &sin_out[j], &cos_out[j]);
}

void rope_sincos_q31(const uint64_t* freqs, int pairs, int64_t pos, int32_t* cos_out, int32_t* sin_out) {
  for (int j = 0; j < pairs; ++j) numerics::sincos_q31(phase_for(pos, freqs[j]), &sin_out[j], &cos_out[j]);
}

Status rope_rotate_f32(float* heads, int n_heads, const RopeShape& shape, int64_t pos,
                       RopePrecision precision) {
  ORDINAL_RETURN_IF_ERROR(validate_rope_shape(shape));
  if (heads == nullptr || n_heads <= 0) return invalid_argument("rope: no head vectors to rotate");
  rope_rotate_f32_unchecked(heads, n_heads, shape, pos, precision);
  return Status::Ok();
}

void rope_rotate_f32_unchecked(float* heads, int n_heads, const RopeShape& shape, int64_t pos,
                               RopePrecision precision) {
  const int pairs = shape.rotary_dims / 2;
  float c[kPairChunk], s[kPairChunk];
  for (int first = 0; first < pairs; first += kPairChunk) {
    const int count = pairs - first < kPairChunk ? pairs - first : kPairChunk;
    for (int k = 0; k < count; ++k) {
      const uint64_t phase = phase_for(pos, shape.freqs[first + k]);
      switch (precision) {
        case RopePrecision::kQ15: {
          int16_t sq, cq;
          numerics::sincos_q15(phase, &sq, &cq);
          c[k] = static_cast<float>(cq) * 0x1p-15f;  // exact
          s[k] = static_cast<float>(sq) * 0x1p-15f;
          break;
        }
        case RopePrecision::kQ31: {
          int32_t sq, cq;
          numerics::sincos_q31(phase, &sq, &cq);
          c[k] = static_cast<float>(cq) * 0x1p-31f;  // one rounding (int32 -> float), scaling exact
          s[k] = static_cast<float>(sq) * 0x1p-31f;
          break;
        }
        case RopePrecision::kF32: {
          const double angle = exact_angle_radians(phase);
          c[k] = static_cast<float>(std::cos(angle));
          s[k] = static_cast<float>(std::sin(angle));
          break;
        }
      }
    }
    const kernels::KernelTable& kt = kernels::active_kernels();
    rotate_chunk(heads, n_heads, shape, first, count, c, s, kt.rotate_f32_split, kt.rotate_f32_interleaved);
  }
}

Status rope_rotate_int16(int16_t* heads, int n_heads, const RopeShape& shape, int64_t pos,
                         RopePrecision precision) {
  ORDINAL_RETURN_IF_ERROR(validate_rope_shape(shape));
  if (heads == nullptr || n_heads <= 0) return invalid_argument("rope: no head vectors to rotate");
  if (precision == RopePrecision::kF32)
    return invalid_argument("rope: int16 data needs kQ15 or kQ31 sin/cos");
  const int pairs = shape.rotary_dims / 2;
  if (precision == RopePrecision::kQ15) {
    // Q15: the SIMD table's kernel (int32 products are exact for a Q15 rotation, simd.hpp).
    const kernels::KernelTable& kt = kernels::active_kernels();
    int16_t c[kPairChunk], s[kPairChunk];
    for (int first = 0; first < pairs; first += kPairChunk) {
      const int count = pairs - first < kPairChunk ? pairs - first : kPairChunk;
      for (int k = 0; k < count; ++k) {
        const uint64_t phase = phase_for(pos, shape.freqs[first + k]);
        c[k] = numerics::cos_q15(phase);
        s[k] = numerics::sin_q15(phase);
      }
      rotate_chunk(heads, n_heads, shape, first, count, c, s, kt.rotate_i16_q15_split,
                   kt.rotate_i16_q15_interleaved);
    }
    return Status::Ok();
  }
  int32_t c[kPairChunk], s[kPairChunk];
  for (int first = 0; first < pairs; first += kPairChunk) {
    const int count = pairs - first < kPairChunk ? pairs - first : kPairChunk;
    for (int k = 0; k < count; ++k)
      numerics::sincos_q31(phase_for(pos, shape.freqs[first + k]), &s[k], &c[k]);
    for_each_pair(heads, n_heads, shape, first, count, [&](int k, int16_t& a, int16_t& b) {
      // |a*c| <= 2^15 * 2^31, so the sums stay far inside int64.
      const int64_t a0 = a, b0 = b;
      a = numerics::saturate_int16(numerics::rounding_shift_right_half_even(a0 * c[k] - b0 * s[k], 31));
      b = numerics::saturate_int16(numerics::rounding_shift_right_half_even(a0 * s[k] + b0 * c[k], 31));
    });
  }
  return Status::Ok();
}

Status rope_rotate_int8(int8_t* heads, int n_heads, const RopeShape& shape, int64_t pos) {
  ORDINAL_RETURN_IF_ERROR(validate_rope_shape(shape));
  if (heads == nullptr || n_heads <= 0) return invalid_argument("rope: no head vectors to rotate");
  rope_rotate_int8_unchecked(heads, n_heads, shape, pos);
  return Status::Ok();
}

void rope_rotate_int8_unchecked(int8_t* heads, int n_heads, const RopeShape& shape, int64_t pos) {
  const int pairs = shape.rotary_dims / 2;
  const kernels::KernelTable& kt = kernels::active_kernels();
  int16_t c[kPairChunk], s[kPairChunk];
  for (int first = 0; first < pairs; first += kPairChunk) {
    const int count = pairs - first < kPairChunk ? pairs - first : kPairChunk;
    rope_sincos_q15(shape.freqs + first, count, pos, c, s);
    rotate_chunk(heads, n_heads, shape, first, count, c, s, kt.rotate_i8_split, kt.rotate_i8_interleaved);
  }
}

void rope_rotate_f32_reference(float* heads, int n_heads, int head_dim, int rotary_dims, RopeLayout layout,
                               const float* freqs_radians, int64_t pos) {
  RopeShape shape;
  shape.head_dim = head_dim;
  shape.rotary_dims = rotary_dims;
  shape.layout = layout;
  const int pairs = rotary_dims / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = heads + static_cast<int64_t>(h) * head_dim;
    for (int j = 0; j < pairs; ++j) {
      const float angle = static_cast<float>(pos) * freqs_radians[j];
      const float c = std::cos(angle), s = std::sin(angle);
      float& a = v[rope_pair_first(shape, j)];
      float& b = v[rope_pair_second(shape, j)];
      const float a0 = a, b0 = b;
      a = a0 * c - b0 * s;
      b = a0 * s + b0 * c;
    }
  }
}

}  // namespace ordinal::positional
