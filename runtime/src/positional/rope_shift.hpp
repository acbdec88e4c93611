// Re-rotation of cached RoPE keys by a position delta (context shift). Rotations compose, R(p + d) =
// R(d) R(p), and phases are uint64 turn fractions, so phase(p) + phase(d) == phase(p + d) exactly: a key
// rotated at position p and then by d equals the key rotated at p + d up to one extra rounding of the
// components. f32 keys use Q31 sin/cos (rope_rotate_f32); int8 keys never leave the integer domain
// (rope_rotate_int8: int8 x Q15 products, rounded half-to-even; the per-head scale is unchanged).
#pragma once

#include <cstdint>
#include <vector>

#include "model_data.hpp"
#include "ordinal/status.hpp"
#include "positional/rope_fixed.hpp"

namespace ordinal::positional {

class RopeShift {
 public:
  // `f32_frequencies` are the radians per position the encoder uses for an f32-precision model (empty
  // otherwise); fixed-point models bring their uint64 frequencies.
  static Result<RopeShift> create(const detail::PositionalParams& p, uint32_t head_dim,
                                  const std::vector<float>& f32_frequencies);

  const RopeShape& shape() const { return shape_; }
  // Index pairs (first, second) of a head vector that rotate together.
  std::vector<int> pair_first() const;
  std::vector<int> pair_second() const;

  // Rotates n_heads contiguous head vectors by `delta` positions. The shape was validated by create(), so
  // the rotation runs unchecked. Error per component vs exact rotation:
  // f32 <= (|a| + |b|) * (2^-24 + 2^-23); int8 <= 0.5 + (|a| + |b|) * 2^-15 LSB (rope_fixed.hpp).
  void rotate_f32(int64_t delta, float* heads, size_t n_heads) const;
  void rotate_int8(int64_t delta, int8_t* heads, size_t n_heads) const;

 private:
  std::vector<uint64_t> freqs_;
  RopeShape shape_;
};

}  // namespace ordinal::positional
