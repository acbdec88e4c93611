#include "telemetry/attention_probe.hpp"

#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/vector_ops.hpp"

namespace ordinal::detail {

Status AttentionProbe::set(AttentionObserver fn, void* user, size_t context, uint32_t head_dim) {
  if (fn == nullptr) {
    fn_ = nullptr;
    user_ = nullptr;
    return Status::Ok();
  }
  if (scratch_.size() < 2 * context + head_dim) {
    LargeBuffer<float> fresh;
    ORDINAL_RETURN_IF_ERROR(fresh.allocate(uint64_t{2} * context + head_dim, "attention observer scratch"));
    scratch_ = std::move(fresh);
  }
  context_ = context;
  fn_ = fn;
  user_ = user;
  return Status::Ok();
}

void AttentionProbe::observe(const ModelConfig& cfg, const KvCache& kv,
                             const positional::PositionalEncoder& pos, uint32_t layer, const float* q,
                             size_t first_slot, size_t tokens, int64_t offset) {
  const uint32_t hd = cfg.head_dim;
  const uint32_t group = cfg.n_heads / cfg.n_kv_heads;
  const size_t q_dim = size_t{cfg.n_heads} * hd, kv_dim = size_t{cfg.n_kv_heads} * hd;
  const float logit = pos.logit_scale() / sqrtf(static_cast<float>(hd));
  float* probs = scratch_.data();
  float* bias = probs + context_;
  float* widened = bias + context_;  // one int8 key as floats (exact)
  AttentionRow row;
  row.layer = layer;
  row.first_key_position = offset;
  row.probabilities = probs;
  for (size_t i = 0; i < tokens; ++i) {
    const size_t slot = first_slot + i;
    const size_t keys = slot + 1;  // causal, as the kernels see it
    row.query_position = offset + static_cast<int64_t>(slot);
    row.keys = keys;
    for (uint32_t h = 0; h < cfg.n_heads; ++h) {
      const uint32_t kvh = h / group;
      const float* qh = q + i * q_dim + size_t{h} * hd;
      if (kv.is_int8()) {
        const int8_t* k = kv.key_i8(layer, 0) + size_t{kvh} * hd;
        const uint16_t* ks = kv.key_scales(layer, 0) + kvh;
        for (size_t t = 0; t < keys; ++t) {
          for (uint32_t d = 0; d < hd; ++d) widened[d] = static_cast<float>(k[t * kv_dim + d]);
          const float scale = kv_scale_to_float(ks[t * cfg.n_kv_heads]) * logit;
          probs[t] = kernels::dot_f32(qh, widened, hd) * scale;
        }
      } else {
        const float* k = kv.key_f32(layer, 0) + size_t{kvh} * hd;
        for (size_t t = 0; t < keys; ++t) probs[t] = kernels::dot_f32(qh, k + t * kv_dim, hd) * logit;
      }
      if (pos.biases_attention()) {
        pos.attention_bias(h, row.query_position, offset, keys, bias);
        for (size_t t = 0; t < keys; ++t) probs[t] = probs[t] + bias[t];
      }
      const float sum = kernels::scalar::softmax_row(probs, keys);
      for (size_t t = 0; t < keys; ++t) probs[t] = probs[t] / sum;
      row.head = h;
      fn_(row, user_);
    }
  }
}

}  // namespace ordinal::detail
