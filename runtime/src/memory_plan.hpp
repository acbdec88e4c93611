// The memory plan of a session, computed from the model and the options before anything is allocated
// (Model::session_bytes, Session::create, ord_session_bytes). Every figure is computed in 64 bits from
// loader-bounded dimensions, so none can overflow; a plan that exceeds the session's memory budget, or this
// target's address space, is refused with kOutOfMemory before the first allocation.
#pragma once

#include <cstdint>
#include <string>

#include "ordinal/batch.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"

namespace ordinal::detail {

struct ModelData;

struct SessionMemoryPlan {
  uint64_t context_length = 0;  // KV cache slots
  uint64_t chunk = 0;           // tokens per batched forward
  uint64_t kv_cache = 0;        // keys and values (and int8 scales)
  uint64_t attention = 0;       // scores and positional bias, per head and slot
  uint64_t activations = 0;     // per-chunk activations, logits, int8 staging, quantized linear inputs
  uint64_t weights = 0;         // weights the session copies: none (the weight plan is per Model)
  uint64_t total = 0;
  // "KV cache 4294967296 + attention 134217728 + ... = N bytes (context 16777216)"
  std::string describe() const;
};

// The plan for `options` on this model; kInvalidArgument for options Session::create refuses anyway.
Result<SessionMemoryPlan> plan_session_memory(const ModelData& model, const SessionOptions& options);

// The plan of a BatchSession (batch_session.cpp allocates exactly these buffers): the KV cache of every
// sequence (max_sequences x context_length slots), per-slot origin tags, attention scratch per thread,
// activations and per-token bookkeeping for max_batch_tokens, logits for max_outputs rows and one row per
// sequence. `chunk` is max_batch_tokens. kInvalidArgument for options BatchSession::create refuses.
Result<SessionMemoryPlan> plan_batch_memory(const ModelData& model, const BatchOptions& options,
                                            uint32_t threads);

// kOutOfMemory when the plan exceeds options.memory_budget (when set) or what size_t can address.
Status check_memory_budget(const SessionMemoryPlan& plan, const SessionOptions& options);
Status check_memory_budget(const SessionMemoryPlan& plan, uint64_t memory_budget);

}  // namespace ordinal::detail
