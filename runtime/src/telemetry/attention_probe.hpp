// The attention observer's side path (Session::set_attention_observer). The attention kernels never keep
// the probabilities (they normalize the weighted value sums instead of every weight), so when an observer
// is set the session calls observe() after each layer's attention and this recomputes each (token, head)
// row from the same inputs with the kernels' arithmetic: s_t = fl(dot(q, k_t) * logit) (int8 keys:
// fl(dot(q, k_t) * fl(scale_t * logit))), + bias, softmax_exp(s_t - max), p_t = e_t / sum. Only the
// observer path pays for this; without an observer the session checks one pointer per layer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kv_cache.hpp"
#include "large_buffer.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/telemetry.hpp"
#include "positional/encoder.hpp"

namespace ordinal::detail {

class AttentionProbe {
 public:
  // Sets (fn non-null) or clears the observer; the scratch (2 x context + head_dim floats) is allocated
  // here, never in the forward pass. kOutOfMemory leaves the previous observer in place.
  Status set(AttentionObserver fn, void* user, size_t context, uint32_t head_dim);
  bool armed() const { return fn_ != nullptr; }

  // Reports the rows of `tokens` queries in cache slots [first_slot, first_slot + tokens) of `layer`.
  // q: the chunk's rotated queries, [tokens, n_heads * head_dim]; the layer's keys are in the cache.
  // Slot j holds absolute position offset + j.
  void observe(const ModelConfig& cfg, const KvCache& kv, const positional::PositionalEncoder& pos,
               uint32_t layer, const float* q, size_t first_slot, size_t tokens, int64_t offset);

 private:
  AttentionObserver fn_ = nullptr;
  void* user_ = nullptr;
  size_t context_ = 0;
  LargeBuffer<float> scratch_;
};

}  // namespace ordinal::detail
