// Ordinal C++ API. A Model is loaded once (mapped, verified, immutable) and shared by any number of
// Sessions on any number of threads; each Session owns its KV cache, scratch buffers and thread pool,
// all planned at creation so that prefill/decode allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ordinal/export.h"
#include "ordinal/status.hpp"
#include "ordinal/telemetry.hpp"
#include "ordinal/tokenizer.hpp"

namespace ordinal {

enum class Architecture : uint8_t { kLlama = 0, kGPT2 = 1 };
enum class NormType : uint8_t { kRMSNorm = 0, kLayerNorm = 1 };
enum class Activation : uint8_t { kSwiGLU = 0, kGELU = 1 };
enum class PositionalScheme : uint8_t {
  kNone = 0,
  kLearnedTable,
  kCodebookTable,
  kBucketedTable,
  kLowRankTable,
  kSinusoidal,
  kRope,
  kAlibi,
  kRelativeBias,
  kHybridTable,  // exact int8 head rows + low-rank tail
};
ORD_API const char* positional_scheme_name(PositionalScheme scheme);

struct ModelConfig {
  Architecture architecture = Architecture::kLlama;
  uint32_t dim = 0;
  uint32_t hidden_dim = 0;
  uint32_t n_layers = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;
  uint32_t head_dim = 0;
  uint32_t vocab_size = 0;
  uint32_t max_positions = 0;
  NormType norm = NormType::kRMSNorm;
  float norm_eps = 1e-5f;
  Activation activation = Activation::kSwiGLU;
  bool tied_classifier = false;
  bool attention_bias = false;
  bool mlp_bias = false;
};

struct SessionOptions;
struct BatchOptions;

class ORD_API Model {
 public:
  // Maps and verifies a model file. Every failure is a Status naming the field or tensor.
  static Result<std::shared_ptr<const Model>> load(const std::string& path);
  // Verifies a model held in caller memory; the buffer must outlive the Model (no copy is made).
  static Result<std::shared_ptr<const Model>> load_from_buffer(const void* data, size_t size);
  // Verifies a copy of caller memory the Model owns (any alignment; the caller may free its buffer).
  static Result<std::shared_ptr<const Model>> load_copy(const void* data, size_t size);
  // `size` bytes at `offset` of an open file (an APK asset's descriptor): mapped when offset is a
  // multiple of 64, else read into memory the Model owns. The caller may close fd afterwards.
  static Result<std::shared_ptr<const Model>> load_from_fd(int fd, int64_t offset, size_t size);

  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const;
  PositionalScheme positional_scheme() const;
  const Tokenizer& tokenizer() const;
  // Positions the model can address (table rows, or 2^31-1 for computed schemes), after its
  // out-of-range policy is applied. Sessions refuse positions >= this.
  int64_t position_limit() const;
  size_t file_bytes() const;
  // The task spec (JSON) carried by task models; empty when none.
  std::string task_spec() const;
  // Bytes a session created with `options` will allocate (KV cache, attention scores, activations, weight
  // copies), planned without allocating; the figure Session::create checks against memory_budget.
  // kInvalidArgument for options Session::create would refuse.
  Result<uint64_t> session_bytes(const SessionOptions& options) const;
  // The same for a BatchSession (ordinal/batch.hpp): every sequence's KV cache, per-thread attention
  // scratch, activations for max_batch_tokens and the logits rows.
  Result<uint64_t> session_bytes(const BatchOptions& options) const;

 private:
  // The verified contents: opaque here. The runtime reaches them through ModelInternals
  // (runtime/src/model_internals.hpp); host tools through their introspection library
  // (runtime/introspect/model_introspection.hpp), never through this header.
  struct Impl;
  friend class ModelInternals;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How a session stores its KV cache. kInt8: one int8 per element plus one f16 scale per (layer, position,
// kv head) for keys and for values (keys quantized after RoPE), about 4x smaller than kF32 for head_dim
// >= 32.
enum class KvCacheType : uint8_t { kF32 = 0, kInt8 = 1 };
ORD_API const char* kv_cache_type_name(KvCacheType type);

struct SessionOptions {
  uint32_t threads = 0;         // 0: one per core (cpuinfo)
  uint32_t context_length = 0;  // KV cache slots; 0: the model's max_positions
  // Tokens per batched forward during prefill. Each chunk reads every weight once, so a longer chunk reads
  // them less often per token: 64 measured +15 % prefill over 32 on the 110M f32 shape (the GEMM keeps up
  // with llama.cpp's pp64 only then); activations grow linearly with it (110M: ~2 MB at 64).
  uint32_t prefill_chunk = 64;
  int64_t position_offset = 0;  // absolute position of the first token (resume)
  bool check_numerics = true;   // report NaN/Inf in logits as kNumericError
  KvCacheType kv_cache = KvCacheType::kF32;
  // Bytes the session may allocate (Model::session_bytes); 0: no budget. Over it, or when an allocation
  // fails, Session::create returns kOutOfMemory naming the buffer and its size; it never aborts.
  uint64_t memory_budget = 0;
};

class ORD_API Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options = SessionOptions());
  ~Session();

  // Appends tokens to the KV cache; logits() then holds the next-token logits after the last one.
  Status prefill(const int32_t* tokens, size_t count);
  // Appends one token; logits() holds the next-token logits.
  Status decode(int32_t token);
  // Next-token logits (vocab_size floats) after the last prefill/decode.
  const float* logits() const;
  size_t vocab_size() const;

  // Absolute position the next token will take.
  int64_t position() const;
  size_t cached_tokens() const;
  size_t capacity() const;
  // Empties the cache; the next token takes `position_offset`.
  Status reset(int64_t position_offset = 0);
  // Context shift, to keep generating when the cache is full: keeps the first `keep` cached tokens, drops
  // the `drop` after them and moves the rest back, as if the dropped tokens had never been seen. RoPE keys
  // that move are re-rotated by -drop positions (f32 cache: Q31 sin/cos; int8 cache: in the integer
  // domain, never dequantized); ALiBi, relative-bias and position-free models need no change. Models that
  // add absolute positions to the embedding (learned/sinusoidal tables) cannot shift (kUnsupported).
  // The next token takes position() - drop; logits() are unchanged. drop must be >= 1 and
  // keep + drop <= cached_tokens(), else kInvalidArgument and nothing changes.
  Status shift(size_t drop, size_t keep = 0);

  uint32_t threads() const;
  // Bytes this session owns (KV cache, scratch, packed weights).
  size_t memory_bytes() const;
  size_t kv_cache_bytes() const;
  KvCacheType kv_cache_type() const;
  // Bytes of weights the kernels read per decoded token: every linear layer's packed/int8 weights and
  // scales, the classifier, and one embedding row.
  size_t weight_bytes_per_token() const;
  const Model& model() const;

  // ---- app integration (issue 17) ----
  // Called between prefill chunks and between layers (on the calling thread); returning true stops the
  // call with kAborted and leaves the session as it was before that call (cache, positions, logits).
  // One prefill chunk (prefill_chunk tokens, 64 by default) through one layer is the longest stretch between
  // two calls. nullptr: none.
  using AbortCallback = bool (*)(void* user);
  void set_abort_callback(AbortCallback fn, void* user);
  // Called on the calling thread after each prefill chunk with the tokens of this call done so far and
  // its total (for a progress bar over a long prompt). nullptr: none.
  using ProgressCallback = void (*)(size_t done_tokens, size_t total_tokens, void* user);
  void set_progress_callback(ProgressCallback fn, void* user);
  // Session state: the cached tokens' keys/values, the next-token logits and positions, versioned and
  // checksummed. load_state verifies the bytes as hostile input (sizes, checksum, model identity, cache
  // type, capacity, positions) and changes nothing when it refuses them; a restored session continues
  // with bit-identical logits. Any session of the same model file and cache type with room for the
  // cached tokens can load it.
  size_t state_size() const;
  size_t max_state_size() const;                       // state_size() with a full cache
  Status save_state(void* buffer, size_t size) const;  // kCapacityExceeded when size < state_size()
  Status load_state(const void* data, size_t size);

  // ---- telemetry (issue 15; ordinal/telemetry.hpp) ----
  // Counters since create() or reset_stats(): tokens, time to first token, decode latency percentiles,
  // memory, positions, errors. Cheap (a copy plus three walks of the fixed latency histogram).
  SessionStats stats() const;
  void reset_stats();
  const LatencyHistogram& decode_latency() const;
  // Attention profiler hook: fn gets every (token, layer, head) attention row of later prefill/decode calls
  // (the probabilities recomputed beside the kernels, so only an observed session pays). nullptr removes
  // it. The scratch it needs is allocated here (kOutOfMemory when that fails; nothing changes then).
  Status set_attention_observer(AttentionObserver fn, void* user);

 private:
  class Impl;  // the decoder session (runtime/src/session.cpp), opaque here
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordinal
