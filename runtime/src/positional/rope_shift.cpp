#include "positional/rope_shift.hpp"

#include <cmath>

namespace ordinal::positional {

namespace {
// rope_rotate_* take an int head count; rotate at most this many head vectors per call.
constexpr size_t kHeadsPerCall = size_t{1} << 20;
}  // namespace

Result<RopeShift> RopeShift::create(const detail::PositionalParams& p, uint32_t head_dim,
                                    const std::vector<float>& f32_frequencies) {
  if (p.scheme != PositionalScheme::kRope) return invalid_argument("rope shift: the model does not use RoPE");
  RopeShift r;
  const uint32_t pairs = p.rotary_dims / 2;
  if (p.precision != detail::TrigPrecision::kF32) {
    if (p.frequencies == nullptr || p.frequency_count != pairs)
      return invalid_argument("rope shift: frequencies missing");
    r.freqs_.assign(p.frequencies, p.frequencies + pairs);
  } else {
    // The encoder turns these float radians f into angles fl(pos * f); a delta rotation by d * f (the turn
    // fraction of the same float f, rounded once to 2^-64 of a turn) composes with it.
    if (f32_frequencies.size() != pairs) return invalid_argument("rope shift: frequencies missing");
    r.freqs_.resize(pairs);
    for (uint32_t j = 0; j < pairs; ++j) {
      long double t = static_cast<long double>(f32_frequencies[j]) / 6.283185307179586476925286766559L;
      t -= std::floor(t);  // [0, 1) turns
      const long double hi = std::floor(t * 4294967296.0L);
      const long double lo = std::round((t * 4294967296.0L - hi) * 4294967296.0L);  // [0, 2^32]
      r.freqs_[j] = (static_cast<uint64_t>(hi) << 32) + static_cast<uint64_t>(lo);  // wraps mod 2^64
    }
  }
  r.shape_.head_dim = static_cast<int>(head_dim);
  r.shape_.rotary_dims = static_cast<int>(p.rotary_dims);
  r.shape_.layout = p.rope_layout == detail::RopeLayoutKind::kInterleaved ? RopeLayout::kInterleaved
                                                                          : RopeLayout::kSplitHalf;
  r.shape_.freqs = r.freqs_.data();
  ORDINAL_RETURN_IF_ERROR(validate_rope_shape(r.shape_));
  return r;
}

std::vector<int> RopeShift::pair_first() const {
  std::vector<int> v(static_cast<size_t>(shape_.rotary_dims / 2));
  for (size_t j = 0; j < v.size(); ++j) v[j] = rope_pair_first(shape_, static_cast<int>(j));
  return v;
}

std::vector<int> RopeShift::pair_second() const {
  std::vector<int> v(static_cast<size_t>(shape_.rotary_dims / 2));
  for (size_t j = 0; j < v.size(); ++j) v[j] = rope_pair_second(shape_, static_cast<int>(j));
  return v;
}

void RopeShift::rotate_f32(int64_t delta, float* heads, size_t n_heads) const {
  for (size_t done = 0; done < n_heads; done += kHeadsPerCall) {
    const size_t n = n_heads - done < kHeadsPerCall ? n_heads - done : kHeadsPerCall;
    rope_rotate_f32_unchecked(heads + done * shape_.head_dim, static_cast<int>(n), shape_, delta,
                              RopePrecision::kQ31);
  }
}

void RopeShift::rotate_int8(int64_t delta, int8_t* heads, size_t n_heads) const {
  for (size_t done = 0; done < n_heads; done += kHeadsPerCall) {
    const size_t n = n_heads - done < kHeadsPerCall ? n_heads - done : kHeadsPerCall;
    rope_rotate_int8_unchecked(heads + done * shape_.head_dim, static_cast<int>(n), shape_, delta);
  }
}

}  // namespace ordinal::positional
