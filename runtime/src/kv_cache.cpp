#include "kv_cache.hpp"

#include <cfloat>
#include <cmath>
#include <string>

#include "numerics/half.hpp"
#include "numerics/strict_float.hpp"  // no FMA contraction: the same bits on every target
#include "positional/rope_shift.hpp"

namespace ordinal::detail {

uint16_t kv_scale_round_up(float s) {
  if (!(s > 0.0f)) return 0;
  if (s >= 65504.0f) return 0x7bff;
  uint16_t h = numerics::float_to_half(s);
  if (kv_scale_to_float(h) < s) ++h;  // the next half up (positive halves order like their bits)
  return h;
}

uint16_t quantize_head_int8(const float* x, int n, const int* pair_first, const int* pair_second, int pairs,
                            int8_t* q) {
  float amax = 0.0f;
  bool finite = true;
  for (int i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    finite = finite && a <= FLT_MAX;
    amax = a > amax ? a : amax;
  }
  float limit = 127.0f;
  if (pairs > 0) {
    // A rotation can move all of a pair's length onto one component: bound the pair norms instead.
    for (int j = 0; j < pairs; ++j) {
      const float a = x[pair_first[j]], b = x[pair_second[j]];
      const float norm = std::sqrt(a * a + b * b);
      amax = norm > amax ? norm : amax;
    }
    limit = kKeyPairLimit;
  }
  // NaN/Inf (stored as zero): the token that produced it has non-finite activations in the residual
  // stream, so its own logits are already non-finite and reported by check_numerics.
  const uint16_t h = finite ? kv_scale_round_up(amax / limit) : 0;
  const float s = kv_scale_to_float(h);
  if (s == 0.0f) {
    for (int i = 0; i < n; ++i) q[i] = 0;
    return 0;
  }
  for (int i = 0; i < n; ++i) {
    long v = std::lrintf(x[i] / s);  // nearest, ties to even
    v = v > 127 ? 127 : (v < -127 ? -127 : v);
    q[i] = static_cast<int8_t>(v);
  }
  return h;
}

Status KvCache::init(KvCacheType type, uint32_t layers, size_t slots, uint32_t kv_heads, uint32_t head_dim) {
  if (type != KvCacheType::kF32 && type != KvCacheType::kInt8) {
    return invalid_argument("SessionOptions.kv_cache: unknown cache type " +
                            std::to_string(static_cast<int>(type)));
  }
  type_ = type;
  layers_ = layers;
  slots_ = slots;
  kv_heads_ = kv_heads;
  head_dim_ = head_dim;
  kv_dim_ = size_t{kv_heads} * head_dim;
  // In 64 bits: on a 32-bit target the element count itself may not fit size_t (LargeBuffer refuses it).
  const uint64_t n = uint64_t{layers} * slots * kv_dim_;
  const uint64_t scales = uint64_t{layers} * slots * kv_heads;
  if (type == KvCacheType::kF32) {
    ORDINAL_RETURN_IF_ERROR(kf_.allocate(n, "KV cache keys (f32)"));
    ORDINAL_RETURN_IF_ERROR(vf_.allocate(n, "KV cache values (f32)"));
  } else {
    ORDINAL_RETURN_IF_ERROR(k8_.allocate(n, "KV cache keys (int8)"));
    ORDINAL_RETURN_IF_ERROR(v8_.allocate(n, "KV cache values (int8)"));
    ORDINAL_RETURN_IF_ERROR(ks_.allocate(scales, "KV cache key scales"));
    ORDINAL_RETURN_IF_ERROR(vs_.allocate(scales, "KV cache value scales"));
  }
  return Status::Ok();
}

void KvCache::set_rope_pairs(std::vector<int> first, std::vector<int> second) {
  pair_first_ = std::move(first);
  pair_second_ = std::move(second);
}

size_t KvCache::bytes() const {
  return (kf_.size() + vf_.size()) * sizeof(float) + k8_.size() + v8_.size() +
         (ks_.size() + vs_.size()) * sizeof(uint16_t);
}

void KvCache::store_int8(uint32_t layer, size_t slot, size_t n, const float* keys, const float* values) {
  const int hd = static_cast<int>(head_dim_);
  const int pairs = static_cast<int>(pair_first_.size());
  for (size_t i = 0; i < n; ++i) {
    int8_t* kq = k8_.data() + index(layer, slot + i);
    int8_t* vq = v8_.data() + index(layer, slot + i);
    uint16_t* ksc = ks_.data() + scale_index(layer, slot + i);
    uint16_t* vsc = vs_.data() + scale_index(layer, slot + i);
    for (uint32_t h = 0; h < kv_heads_; ++h) {
      const size_t off = i * kv_dim_ + size_t{h} * head_dim_;
      ksc[h] = quantize_head_int8(keys + off, hd, pair_first_.data(), pair_second_.data(), pairs,
                                  kq + size_t{h} * head_dim_);
      vsc[h] = quantize_head_int8(values + off, hd, nullptr, nullptr, 0, vq + size_t{h} * head_dim_);
    }
  }
}

void KvCache::move(size_t from, size_t to, size_t count) {
  if (count == 0 || from == to) return;
  for (uint32_t l = 0; l < layers_; ++l) {
    if (type_ == KvCacheType::kF32) {
      std::memmove(key_f32(l, to), key_f32(l, from), count * kv_dim_ * sizeof(float));
      std::memmove(value_f32(l, to), value_f32(l, from), count * kv_dim_ * sizeof(float));
    } else {
      std::memmove(k8_.data() + index(l, to), k8_.data() + index(l, from), count * kv_dim_);
      std::memmove(v8_.data() + index(l, to), v8_.data() + index(l, from), count * kv_dim_);
      std::memmove(ks_.data() + scale_index(l, to), ks_.data() + scale_index(l, from),
                   count * kv_heads_ * sizeof(uint16_t));
      std::memmove(vs_.data() + scale_index(l, to), vs_.data() + scale_index(l, from),
                   count * kv_heads_ * sizeof(uint16_t));
    }
  }
}

void KvCache::rotate_keys(size_t first, size_t count, int64_t delta, const positional::RopeShift& rope) {
  if (count == 0 || delta == 0) return;
  // Slots of one layer are contiguous, so all their head vectors rotate in one call.
  for (uint32_t l = 0; l < layers_; ++l) {
    if (type_ == KvCacheType::kF32) {
      rope.rotate_f32(delta, key_f32(l, first), count * kv_heads_);
    } else {
      rope.rotate_int8(delta, k8_.data() + index(l, first), count * kv_heads_);
    }
  }
}

size_t KvCache::slot_bytes() const {
  const size_t per_layer = type_ == KvCacheType::kF32
                               ? 2 * kv_dim_ * sizeof(float)
                               : 2 * kv_dim_ + 2 * size_t{kv_heads_} * sizeof(uint16_t);
  return per_layer * layers_;
}

void KvCache::save_slots(size_t count, uint8_t* out) const {
  auto put = [&out](const void* p, size_t n) {
    std::memcpy(out, p, n);
    out += n;
  };
  for (uint32_t l = 0; l < layers_ && count > 0; ++l) {
    if (type_ == KvCacheType::kF32) {
      put(key_f32(l, 0), count * kv_dim_ * sizeof(float));
      put(value_f32(l, 0), count * kv_dim_ * sizeof(float));
    } else {
      put(k8_.data() + index(l, 0), count * kv_dim_);
      put(v8_.data() + index(l, 0), count * kv_dim_);
      put(ks_.data() + scale_index(l, 0), count * kv_heads_ * sizeof(uint16_t));
      put(vs_.data() + scale_index(l, 0), count * kv_heads_ * sizeof(uint16_t));
    }
  }
}

void KvCache::load_slots(size_t count, const uint8_t* in) {
  auto get = [&in](void* p, size_t n) {
    std::memcpy(p, in, n);
    in += n;
  };
  for (uint32_t l = 0; l < layers_ && count > 0; ++l) {
    if (type_ == KvCacheType::kF32) {
      get(key_f32(l, 0), count * kv_dim_ * sizeof(float));
      get(value_f32(l, 0), count * kv_dim_ * sizeof(float));
    } else {
      get(k8_.data() + index(l, 0), count * kv_dim_);
      get(v8_.data() + index(l, 0), count * kv_dim_);
      get(ks_.data() + scale_index(l, 0), count * kv_heads_ * sizeof(uint16_t));
      get(vs_.data() + scale_index(l, 0), count * kv_heads_ * sizeof(uint16_t));
    }
  }
}

}  // namespace ordinal::detail
