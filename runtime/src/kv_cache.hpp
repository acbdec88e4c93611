// A session's KV cache: keys and values as [layer, slot, kv_dim] (kv_dim = kv_heads * head_dim), either f32
// or int8 with one f16 scale per (layer, slot, kv head) for keys and one for values. Keys reach the cache
// after RoPE has rotated them, so an int8 key is a quantized rotated key. Sized once at creation; storing,
// reading, moving and re-rotating never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "large_buffer.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"

namespace ordinal::positional {
class RopeShift;
}

namespace ordinal::detail {

// int8 cache quantization (symmetric, per head vector of head_dim values):
//   values: s = max|v| / 127;   keys of a RoPE model: s = max(max pair norm, max |non-rotary|) / 126.5, so
//   that a rotation by any angle keeps every component inside [-127, 127] (no saturation on re-rotation).
// s is rounded *up* to f16 (the stored scale), q = round-half-even(x / s) with that stored scale, clamped to
// [-127, 127]. Error per component: |x - s q| <= 0.5001 s (see tests/unit/test_kv_int8.cpp). f16 costs at
// most one f16 step on s: relative 2^-10, or absolute 2^-24 for vectors with max|x| < 127 * 2^-14 ~ 0.0078.
constexpr float kKeyPairLimit = 126.5f;

// f16 scale bits -> float for non-negative finite halves (normal or subnormal): exact. The half's bits
// shifted into a float's exponent/mantissa position are the value times 2^-112; scaling by 2^112 is exact.
inline float kv_scale_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 13;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f * 0x1p112f;
}
// Smallest f16 (non-negative, finite) >= s; s must be >= 0 and finite; saturates at 65504.
uint16_t kv_scale_round_up(float s);

// Quantizes one head vector (n values) with the rule above; pairs is the number of RoPE pairs to treat as
// rotating (0 for values), laid out as (first[j], second[j]) index pairs. Returns the f16 scale bits.
uint16_t quantize_head_int8(const float* x, int n, const int* pair_first, const int* pair_second, int pairs,
                            int8_t* q);

// Attention reads the int8 cache through kernels/attention.hpp (attention_i8), whose contract states the
// arithmetic: the dot of q with the exactly widened codes, scaled per key by fl(kscale * logit), and values
// weighted by fl(e_t * vscale).

class KvCache {
 public:
  // Allocates the cache (zeroed); kOutOfMemory (never an abort) when it cannot.
  Status init(KvCacheType type, uint32_t layers, size_t slots, uint32_t kv_heads, uint32_t head_dim);
  // For int8 keys of a RoPE model: which elements of a head vector form rotating pairs.
  void set_rope_pairs(std::vector<int> first, std::vector<int> second);

  bool is_int8() const { return type_ == KvCacheType::kInt8; }
  KvCacheType type() const { return type_; }
  size_t bytes() const;

  // f32 cache: where a slot's key/value vectors live (the decoder writes them in place).
  float* key_f32(uint32_t layer, size_t slot) { return kf_.data() + index(layer, slot); }
  float* value_f32(uint32_t layer, size_t slot) { return vf_.data() + index(layer, slot); }
  const float* key_f32(uint32_t layer, size_t slot) const { return kf_.data() + index(layer, slot); }
  const float* value_f32(uint32_t layer, size_t slot) const { return vf_.data() + index(layer, slot); }

  // int8 cache: quantizes n tokens' rotated keys and values ([n, kv_dim] f32) into slots [slot, slot + n).
  void store_int8(uint32_t layer, size_t slot, size_t n, const float* keys, const float* values);
  const int8_t* key_i8(uint32_t layer, size_t slot) const { return k8_.data() + index(layer, slot); }
  const int8_t* value_i8(uint32_t layer, size_t slot) const { return v8_.data() + index(layer, slot); }
  // kv_heads scales (f16 bits) per slot.
  const uint16_t* key_scales(uint32_t layer, size_t slot) const {
    return ks_.data() + scale_index(layer, slot);
  }
  const uint16_t* value_scales(uint32_t layer, size_t slot) const {
    return vs_.data() + scale_index(layer, slot);
  }

  // Moves slots [from, from + count) to [to, to + count) in every layer (overlap allowed).
  void move(size_t from, size_t to, size_t count);
  // Rotates the keys in slots [first, first + count) of every layer by `delta` positions: f32 keys with Q31
  // sin/cos, int8 keys in the integer domain (scales unchanged).
  void rotate_keys(size_t first, size_t count, int64_t delta, const positional::RopeShift& rope);

  // Session state (session_state.cpp): the bytes of slots [0, count) of every layer, in a fixed order
  // (per layer: keys, values, then for int8 key scales, value scales).
  size_t slot_bytes() const;  // per slot, all layers
  void save_slots(size_t count, uint8_t* out) const;
  void load_slots(size_t count, const uint8_t* in);

 private:
  size_t index(uint32_t layer, size_t slot) const { return (size_t{layer} * slots_ + slot) * kv_dim_; }
  size_t scale_index(uint32_t layer, size_t slot) const {
    return (size_t{layer} * slots_ + slot) * kv_heads_;
  }

  KvCacheType type_ = KvCacheType::kF32;
  uint32_t layers_ = 0, kv_heads_ = 0, head_dim_ = 0;
  size_t slots_ = 0, kv_dim_ = 0;
  LargeBuffer<float> kf_, vf_;
  LargeBuffer<int8_t> k8_, v8_;
  LargeBuffer<uint16_t> ks_, vs_;
  std::vector<int> pair_first_, pair_second_;
};

}  // namespace ordinal::detail
