// Several sequences in one forward pass (issue 15). A BatchSession holds up to max_sequences independent
// sequences, each with its own KV cache region, positions and next-token logits, all planned at creation.
// One forward() takes tokens of any of them, each token naming its sequence and (optionally) its position,
// the design of llama.cpp's llama_batch: the linear layers run as one GEMM over every token of the call,
// each token is embedded/rotated/biased at its own sequence's position, and attention reads only the keys
// of the token's own sequence up to itself (causal inside a sequence, nothing across sequences).
//
// Bit-identity: a sequence's logits in a batch are bit-identical to a Session running that sequence alone
// on the same machine with the same KV cache type. The linear kernels give a token the same bits whatever
// its batch (dense_gemm.hpp, group_gemm.hpp), attention gives a head the same bits whatever heads share
// the call (kernels/attention.hpp), and everything else is per token. tests/unit/test_batch.cpp checks it
// for every positional scheme, both architectures, f32 and int8 caches, offsets and context shift.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ordinal/export.h"
#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"

namespace ordinal {

struct BatchOptions {
  uint32_t threads = 0;            // 0: one per core (cpuinfo)
  uint32_t max_sequences = 4;      // sequence ids 0 .. max_sequences-1
  uint32_t context_length = 0;     // KV slots per sequence; 0: the model's max_positions
  uint32_t max_batch_tokens = 64;  // tokens one forward() may carry (padding included)
  uint32_t max_outputs = 0;        // tokens per forward() that may request logits; 0: max_sequences
  bool check_numerics = true;      // report NaN/Inf in requested logits as kNumericError
  KvCacheType kv_cache = KvCacheType::kF32;
  uint64_t memory_budget = 0;  // bytes; 0: none (as SessionOptions)
  // Opt-in audit (tests, `ordinal verify`): for every real token, every layer and head, the attention
  // probability on keys that came from padding tokens, recomputed in double precision from the cache.
  // Never on in the default decode path (it costs about one more attention pass).
  bool audit_padding_attention = false;
};

// A token's sequence id for padding (fixed-shape callers): a padding token is dropped before any
// computation, takes no cache slot and no position, and no token attends to it.
constexpr int32_t kPaddingSequence = -1;

// One forward call's tokens, as parallel arrays of `count` entries (structure of arrays, as llama_batch).
struct Batch {
  const int32_t* tokens = nullptr;
  const int32_t* sequences = nullptr;  // sequence id of each token, or kPaddingSequence
  // Position of each token, or nullptr: every sequence continues at its next position. A given position
  // must be the sequence's next one, except for the first token of an empty sequence, which may start it
  // anywhere the model can address (a position offset, as Session::reset(offset)).
  const int64_t* positions = nullptr;
  // Non-zero where the caller wants the next-token logits after that token; nullptr: after the last token
  // of each sequence in the batch.
  const uint8_t* want_logits = nullptr;
  size_t count = 0;
};

class ORD_API BatchSession {
 public:
  static Result<std::unique_ptr<BatchSession>> create(std::shared_ptr<const Model> model,
                                                      const BatchOptions& options = BatchOptions());
  ~BatchSession();

  // Sequences: a free id is taken by open_sequence (the lowest free one) and given back by close_sequence
  // (finished); reset empties one and sets where it starts; shift is Session::shift for one sequence.
  // None of them touches another sequence.
  Result<int32_t> open_sequence(int64_t position_offset = 0);
  Status close_sequence(int32_t sequence);
  Status reset_sequence(int32_t sequence, int64_t position_offset = 0);
  Status shift_sequence(int32_t sequence, size_t drop, size_t keep = 0);
  bool is_open(int32_t sequence) const;

  // Runs every token of the batch. Everything is checked before anything changes (kInvalidArgument for a
  // bad token, sequence or position; kCapacityExceeded when a sequence's cache or max_batch_tokens /
  // max_outputs would overflow); then the call allocates nothing.
  Status forward(const Batch& batch);
  // A fixed-shape batch: `rows` sequences (row_sequences[r]) of `cols` tokens, row-major; real[r * cols + c]
  // is non-zero for a real token and zero for padding (anywhere in the row). Logits after each row's last
  // real token. Same as forward() with the padding marked kPaddingSequence.
  Status forward_padded(const int32_t* tokens, const uint8_t* real, size_t rows, size_t cols,
                        const int32_t* row_sequences);

  // Logits (vocab_size floats) after batch token `index` of the last forward() call; nullptr when that
  // token did not request them.
  const float* logits(size_t index) const;
  // The logits of the most recent token of `sequence` that requested them (in any call since it was
  // opened or reset); nullptr when there is none.
  const float* sequence_logits(int32_t sequence) const;
  size_t vocab_size() const;

  int64_t position(int32_t sequence) const;  // where the sequence's next token goes; -1 if not open
  size_t cached_tokens(int32_t sequence) const;
  size_t capacity() const;  // KV slots per sequence
  uint32_t max_sequences() const;
  uint32_t threads() const;
  size_t memory_bytes() const;
  size_t kv_cache_bytes() const;

  // With audit_padding_attention: the attention probability mass that real tokens put on keys of padding
  // tokens, over the total (one per real token, layer and query head), since creation. Exactly 0 when
  // padding is masked. 0 without the audit, or before any real token.
  double padding_attention_ratio() const;
  const Model& model() const;

  class Impl;  // the batch session (runtime/src/batch_session*.cpp), opaque here

 private:
  friend class BatchSessionInternals;  // runtime-internal access (test-only fault injection)
  explicit BatchSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordinal
