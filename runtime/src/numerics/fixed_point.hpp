// Q-format helpers shared by every integer kernel: rounding shifts, saturating casts and int4 packing.
// Written with explicit arithmetic only (no right shift of negative values, no left shift of negative
// values, no signed overflow, no out-of-range unsigned->signed conversion), so the results are defined
// by C++17 itself and identical on x86-64, aarch64 and armhf.
#pragma once

#include <cstdint>

namespace ordinal::numerics {

// Q15 one (1.0) does not fit int16; kernels saturate it to kQ15Max. Q31 likewise.
constexpr int32_t kQ15One = 1 << 15;
constexpr int16_t kQ15Max = INT16_MAX;
constexpr int64_t kQ31One = int64_t{1} << 31;
constexpr int32_t kQ31Max = INT32_MAX;

// floor(x / 2^shift) for shift in [0, 62]; exact for every int64 x.
constexpr int64_t floor_shift_right(int64_t x, int shift) {
  if (x >= 0) return static_cast<int64_t>(static_cast<uint64_t>(x) >> shift);
  // -(x + 1) >= 0 never overflows; floor(x / 2^s) = -(floor((-x - 1) / 2^s)) - 1 for x < 0.
  return -static_cast<int64_t>(static_cast<uint64_t>(-(x + 1)) >> shift) - 1;
}

// round(x / 2^shift), ties to even; shift in [0, 62]; |error| <= 1/2 in units of the result; exact for
// every int64 x (unbiased: repeated rounding does not drift).
constexpr int64_t rounding_shift_right_half_even(int64_t x, int shift) {
  if (shift == 0) return x;
  const int64_t quotient = floor_shift_right(x, shift);
  // Low bits of the two's-complement pattern are x mod 2^shift in [0, 2^shift), the floor remainder.
  const uint64_t remainder = static_cast<uint64_t>(x) & ((uint64_t{1} << shift) - 1u);
  const uint64_t half = uint64_t{1} << (shift - 1);
  const bool round_up = remainder > half || (remainder == half && (quotient & 1) != 0);
  return round_up ? quotient + 1 : quotient;
}

// round(x / 2^shift), ties away from zero; shift in [0, 62]; |error| <= 1/2 in units of the result;
// requires |x| < 2^63 - 2^(shift-1) (any x with |x| <= 2^62 is fine).
constexpr int64_t rounding_shift_right_half_away(int64_t x, int shift) {
  if (shift == 0) return x;
  const uint64_t half = uint64_t{1} << (shift - 1);
  if (x >= 0) return static_cast<int64_t>((static_cast<uint64_t>(x) + half) >> shift);
  return -static_cast<int64_t>((static_cast<uint64_t>(-x) + half) >> shift);
}

// Saturating casts: exact inside the target range, clamp outside (no rounding involved).
constexpr int8_t saturate_int8(int64_t x) {
  return static_cast<int8_t>(x < INT8_MIN ? INT8_MIN : (x > INT8_MAX ? INT8_MAX : x));
}
// Symmetric int8 range [-127, 127]: negation never overflows, so rotations/sign flips stay in range.
constexpr int8_t saturate_int8_symmetric(int64_t x) {
  return static_cast<int8_t>(x < -127 ? -127 : (x > 127 ? 127 : x));
}
constexpr int16_t saturate_int16(int64_t x) {
  return static_cast<int16_t>(x < INT16_MIN ? INT16_MIN : (x > INT16_MAX ? INT16_MAX : x));
}
constexpr int32_t saturate_int32(int64_t x) {
  return static_cast<int32_t>(x < INT32_MIN ? INT32_MIN : (x > INT32_MAX ? INT32_MAX : x));
}

// ---- int4: two values per byte, element 2k in the low nibble, element 2k+1 in the high nibble ----
constexpr int kInt4Min = -8;
constexpr int kInt4Max = 7;

// Signed nibble (two's complement, 4 bits) -> [-8, 7], exact; (n ^ 8) - 8 sign-extends without shifts.
constexpr int8_t int4_from_nibble(uint8_t nibble) {
  return static_cast<int8_t>(((nibble & 0x0f) ^ 8) - 8);
}
constexpr uint8_t nibble_from_int4(int8_t value) {
  return static_cast<uint8_t>(value) & 0x0f;
}

// Element `index` of a packed signed int4 array.
constexpr int8_t unpack_int4(const uint8_t* packed, int64_t index) {
  const uint8_t byte = packed[index / 2];
  return int4_from_nibble((index % 2 == 0) ? (byte & 0x0f) : (byte >> 4));
}
// Element `index` of a packed unsigned 4-bit array ([0, 15], used for asymmetric codes and zero points).
constexpr uint8_t unpack_uint4(const uint8_t* packed, int64_t index) {
  const uint8_t byte = packed[index / 2];
  return (index % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
}

// Packs n values (each must already be in [-8, 7]; out-of-range values are saturated) into (n + 1) / 2
// bytes; when n is odd the final high nibble is 0.
inline void pack_int4(const int8_t* values, int64_t n, uint8_t* packed) {
  for (int64_t i = 0; i < n; i += 2) {
    const int8_t lo = values[i] < kInt4Min ? kInt4Min : (values[i] > kInt4Max ? kInt4Max : values[i]);
    int8_t hi = 0;
    if (i + 1 < n)
      hi = values[i + 1] < kInt4Min ? kInt4Min : (values[i + 1] > kInt4Max ? kInt4Max : values[i + 1]);
    packed[i / 2] = static_cast<uint8_t>(nibble_from_int4(lo) | (nibble_from_int4(hi) << 4));
  }
}
// Unsigned variant: values must be in [0, 15] (saturated otherwise).
inline void pack_uint4(const uint8_t* values, int64_t n, uint8_t* packed) {
  for (int64_t i = 0; i < n; i += 2) {
    const uint8_t lo = values[i] > 15 ? 15 : values[i];
    const uint8_t hi = (i + 1 < n) ? (values[i + 1] > 15 ? 15 : values[i + 1]) : 0;
    packed[i / 2] = static_cast<uint8_t>(lo | (hi << 4));
  }
}
inline void unpack_int4_array(const uint8_t* packed, int64_t n, int8_t* values) {
  for (int64_t i = 0; i < n; ++i) values[i] = unpack_int4(packed, i);
}

}  // namespace ordinal::numerics
