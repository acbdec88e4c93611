#include "memory_plan.hpp"

#include <algorithm>
#include <cstddef>

#include "kernels/attention.hpp"
#include "kernels/group_gemm.hpp"
#include "kernels/linear.hpp"
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
  const uint64_t linear_input = kernels::LinearInput::planned_bytes(n, max_cols);
  // + the F32 RoPE angle table the session's positional encoder computes at create (bounded, <= 512 KiB).
  p.activations = act_floats * sizeof(float) + linear_input + positional::rope_angle_table_bytes(md);

  // Weights: none per session; the model's weight plan (weight_plan.hpp) is shared by all its sessions.
  p.weights = 0;
  p.total = p.kv_cache + p.attention + p.activations + p.weights;
  return p;
}

Result<SessionMemoryPlan> plan_batch_memory(const ModelData& md, const BatchOptions& opt, uint32_t threads) {
  const ModelConfig& c = md.config;
  if (opt.max_sequences == 0) return invalid_argument("BatchOptions.max_sequences must be at least 1");
  if (opt.max_sequences > 4096) return invalid_argument("BatchOptions.max_sequences exceeds 4096");
  if (opt.max_batch_tokens == 0) return invalid_argument("BatchOptions.max_batch_tokens must be at least 1");
  if (opt.max_batch_tokens > 65536) return invalid_argument("BatchOptions.max_batch_tokens exceeds 65536");
  if (opt.max_outputs > opt.max_batch_tokens) {
    return invalid_argument("BatchOptions.max_outputs " + std::to_string(opt.max_outputs) +
                            " exceeds max_batch_tokens " + std::to_string(opt.max_batch_tokens));
  }
  if (opt.kv_cache != KvCacheType::kF32 && opt.kv_cache != KvCacheType::kInt8) {
    return invalid_argument("BatchOptions.kv_cache: unknown cache type " +
                            std::to_string(static_cast<int>(opt.kv_cache)));
  }
  SessionMemoryPlan p;
  p.context_length = opt.context_length == 0 ? c.max_positions : opt.context_length;
  if (p.context_length == 0 || p.context_length > kMaxContext) {
    return invalid_argument("BatchOptions.context_length must be in [1, 2^24]");
  }
  p.chunk = opt.max_batch_tokens;
  const uint64_t seqs = opt.max_sequences, ctx = p.context_length, n = p.chunk;
  const uint64_t outputs = opt.max_outputs == 0 ? std::min<uint64_t>(seqs, n) : opt.max_outputs;
  const uint64_t tasks = std::max<uint64_t>(threads, 1);
  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers;
  const uint64_t q_dim = uint64_t{c.n_heads} * c.head_dim, kv_dim = uint64_t{c.n_kv_heads} * c.head_dim;
  const uint64_t slots = seqs * ctx;
  const uint64_t kv_elements = layers * slots * kv_dim;
  if (opt.kv_cache == KvCacheType::kF32) {
    p.kv_cache = 2 * kv_elements * sizeof(float);
  } else {
    p.kv_cache = 2 * kv_elements + 2 * layers * slots * c.n_kv_heads * sizeof(uint16_t);
  }
  p.kv_cache += slots;  // one origin tag byte per slot (padding audit)
  // Each attention task owns its score/bias rows and partial sums.
  p.attention = tasks * (uint64_t{c.n_heads} * ctx * 2 * sizeof(float) +
                         kernels::attention_partials_floats(c.n_heads, c.head_dim) * sizeof(float));
  // x, xb, xb2, q, attention outputs, hb, hb2, staged keys and values per token.
  uint64_t act_floats = n * (3 * dim + 2 * q_dim + 2 * hidden + 2 * kv_dim);
  act_floats += (outputs + seqs) * c.vocab_size + outputs * dim;  // logits, final-normed outputs
  const uint64_t pos_floats =
      std::max<uint64_t>(1, dim + (md.positional.low_a.present() ? md.positional.low_a.cols() : 0) + 1);
  act_floats += tasks * pos_floats;  // positional scratch per thread
  const uint64_t max_cols = std::max({dim, q_dim, hidden});
  // One LinearInput per thread (a group of sequences quantizes its own activations).
  const uint64_t linear_input = tasks * kernels::LinearInput::planned_bytes(n, max_cols);
  // Per token: twelve int32 and four 64-bit fields of bookkeeping (half of them the spare set the tokens
  // are sorted into by group) and three flags; per sequence: its state, validation scratch and group; per
  // thread: the audit's sums, group bounds and status.
  const uint64_t bookkeeping = n * (12 * 4 + 4 * 8 + 3) + seqs * 64 + tasks * (2 * 8 + 3 * 8 + 64);
  // + the F32 RoPE angle table the batch session's positional encoder computes at create.
  p.activations =
      act_floats * sizeof(float) + linear_input + bookkeeping + positional::rope_angle_table_bytes(md);
  p.weights = 0;
  p.total = p.kv_cache + p.attention + p.activations + p.weights;
  return p;
}

Status check_memory_budget(const SessionMemoryPlan& plan, const SessionOptions& opt) {
  return check_memory_budget(plan, opt.memory_budget);
}

Status check_memory_budget(const SessionMemoryPlan& plan, uint64_t memory_budget) {
  if (memory_budget != 0 && plan.total > memory_budget) {
    return out_of_memory("session needs " + plan.describe() + ", over its memory budget of " +
                         std::to_string(memory_budget) + " bytes");
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
