#include "memory_plan.hpp"

#include <algorithm>
#include <cstddef>

#include "kernels/attention.hpp"
#include "kernels/group_gemm.hpp"
#include "model_data.hpp"
#include "positional/scheme.hpp"

namespace ordinal::detail {

namespace {

constexpr uint64_t kMaxContext = uint64_t{1} << 24;  // as Session::create

}  // namespace

std::string SessionMemoryPlan::describe() const {
  return "KV cache " + std::to_string(kv_cache) + " + attention scores " + std::to_string(attention) +
         " + activations " + std::to_string(activations) + " + weight copies " + std::to_string(weights) +
         " = " + std::to_string(total) + " bytes (context " + std::to_string(context_length) +
         ", prefill chunk " + std::to_string(chunk) + ")";
}

Result<SessionMemoryPlan> plan_session_memory(const ModelData& md, const SessionOptions& opt) {
  const ModelConfig& c = md.config;
  if (opt.prefill_chunk == 0) return invalid_argument("SessionOptions.prefill_chunk must be at least 1");
  SessionMemoryPlan p;
  p.context_length = opt.context_length == 0 ? c.max_positions : opt.context_length;
  if (p.context_length > kMaxContext) return invalid_argument("SessionOptions.context_length exceeds 2^24");
  if (opt.kv_cache != KvCacheType::kF32 && opt.kv_cache != KvCacheType::kInt8) {
    return invalid_argument("SessionOptions.kv_cache: unknown cache type " +
                            std::to_string(static_cast<int>(opt.kv_cache)));
  }
  p.chunk = std::min<uint64_t>(opt.prefill_chunk, p.context_length);
  const uint64_t ctx = p.context_length, n = p.chunk;
  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers;
  const uint64_t q_dim = uint64_t{c.n_heads} * c.head_dim, kv_dim = uint64_t{c.n_kv_heads} * c.head_dim;

  const uint64_t kv_elements = layers * ctx * kv_dim;
  if (opt.kv_cache == KvCacheType::kF32) {
    p.kv_cache = 2 * kv_elements * sizeof(float);
  } else {
    p.kv_cache = 2 * kv_elements + 2 * layers * ctx * c.n_kv_heads * sizeof(uint16_t);
  }
  p.attention = uint64_t{c.n_heads} * ctx * 2 * sizeof(float) +
                kernels::attention_partials_floats(c.n_heads, c.head_dim) * sizeof(float);

  // x, xb (max(dim, q_dim)), xb2, q, hb, hb2 per token of a chunk; int8 cache: staged keys and values.
  uint64_t act_floats = n * (dim + std::max(dim, q_dim) + dim + q_dim + 2 * hidden);
  if (opt.kv_cache == KvCacheType::kInt8) act_floats += 2 * n * kv_dim;
  act_floats += c.vocab_size;                                                                // logits
  act_floats += dim + (md.positional.low_a.present() ? md.positional.low_a.cols() : 0) + 1;  // positional
  const uint64_t max_cols = std::max({dim, q_dim, hidden});
  // LinearInput: per block of 32 values int8 and int16 codes, two scales and an int8 block sum.
  const uint64_t blocks = (max_cols + kernels::kBlock - 1) / kernels::kBlock;
  const uint64_t linear_input =
      n * blocks *
      (kernels::kBlock * (sizeof(int8_t) + sizeof(int16_t)) + 2 * sizeof(float) + sizeof(int32_t));
  // + the F32 RoPE angle table the session's positional encoder computes at create (bounded, <= 512 KiB).
  p.activations = act_floats * sizeof(float) + linear_input + positional::rope_angle_table_bytes(md);

  // Weights: none per session; the model's weight plan (weight_plan.hpp) is shared by all its sessions.
  p.weights = 0;
  p.total = p.kv_cache + p.attention + p.activations + p.weights;
  return p;
}

Status check_memory_budget(const SessionMemoryPlan& plan, const SessionOptions& opt) {
  if (opt.memory_budget != 0 && plan.total > opt.memory_budget) {
    return out_of_memory("session needs " + plan.describe() + ", over its memory budget of " +
                         std::to_string(opt.memory_budget) + " bytes");
  }
  // Half the address space: a 32-bit process cannot hold a buffer near 4 GiB next to its code and model.
  constexpr uint64_t kAddressable = static_cast<uint64_t>(SIZE_MAX / 2);
  if (plan.total > kAddressable) {
    return out_of_memory("session needs " + plan.describe() + ", more than this " +
                         std::to_string(sizeof(void*) * 8) + "-bit process can address");
  }
  return Status::Ok();
}

}  // namespace ordinal::detail
