// Session state save/restore: a session's KV cache (the cached slots only), next-token logits and
// positions as a versioned, checksummed byte string. Loading treats it as hostile input, like a model file:
// every size, count and position is checked, the checksum catches corruption, and a session that refuses a
// state is left as it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kv_cache.hpp"
#include "large_buffer.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"

namespace ordinal::positional {
class PositionalEncoder;
}

namespace ordinal::detail {

// What of a SessionImpl the state covers (session.cpp fills it in).
struct SessionStateRefs {
  const ModelConfig* config;
  PositionalScheme scheme;
  size_t model_file_bytes;
  const positional::PositionalEncoder* positions;
  KvCache* kv;
  LargeBuffer<float>* logits;
  size_t* cached;
  int64_t* offset;
  size_t capacity;
  bool* unusable;
};

// Format version 1, little-endian:
//   header: "ORDS", u32 version, u32 header bytes (80), u32 kv cache type, u32 x 8 model identity (dim,
//   hidden_dim, n_layers, n_heads, n_kv_heads, head_dim, vocab_size, positional scheme), u64 model file
//   bytes, u64 cached tokens, i64 position offset, u64 payload bytes
//   payload: vocab_size f32 logits, then the KV cache's cached slots (KvCache::save_slots)
//   trailer: u64 FNV-1a 64 of every byte before it (any single changed byte changes it).
constexpr uint32_t kSessionStateVersion = 1;

size_t session_state_bytes(const SessionStateRefs& s);
size_t session_state_bytes_full(const SessionStateRefs& s);  // with every slot cached
Status save_session_state(const SessionStateRefs& s, void* out, size_t size);
Status load_session_state(const SessionStateRefs& s, const void* data, size_t size);

}  // namespace ordinal::detail
