/* Ordinal C API: opaque handles, error codes and messages. For apps, FFI and JNI.
 * Every function returning ord_status can fail; ord_last_error() then describes the failure
 * (thread-local, valid until the next failing call on the same thread). Null handles are reported
 * as ORD_INVALID_ARGUMENT, never dereferenced. */
#ifndef ORDINAL_ORDINAL_H_
#define ORDINAL_ORDINAL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ord_status {
  ORD_OK = 0,
  ORD_INVALID_ARGUMENT = 1,
  ORD_INVALID_MODEL = 2,
  ORD_IO_ERROR = 3,
  ORD_OUT_OF_RANGE = 4,
  ORD_CAPACITY_EXCEEDED = 5,
  ORD_UNSUPPORTED = 6,
  ORD_NUMERIC_ERROR = 7,
  ORD_INTERNAL = 8,
  ORD_SESSION_UNUSABLE = 9,
  ORD_OUT_OF_MEMORY = 10 /* the session's planned memory exceeds its budget, or an allocation failed */
} ord_status;

typedef struct ord_model ord_model;     /* immutable, shareable across threads */
typedef struct ord_session ord_session; /* one per thread of generation */
typedef struct ord_sampler ord_sampler;

typedef enum ord_kv_cache_type {
  ORD_KV_F32 = 0,
  ORD_KV_INT8 = 1 /* int8 keys/values, one f16 scale per position and kv head; ~4x smaller */
} ord_kv_cache_type;

typedef struct ord_session_options {
  uint32_t threads;        /* 0: one per core */
  uint32_t context_length; /* 0: the model's max_positions */
  int64_t position_offset; /* position of the first token */
  uint32_t kv_cache;       /* ord_kv_cache_type; ORD_KV_F32 by default */
  uint64_t memory_budget;  /* bytes the session may allocate (ord_session_bytes); 0: no budget */
} ord_session_options;

const char* ord_last_error(void);
const char* ord_status_name(ord_status status);

ord_status ord_model_load(const char* path, ord_model** out);
/* The buffer must be 64-byte aligned and outlive the model. */
ord_status ord_model_load_buffer(const void* data, size_t size, ord_model** out);
void ord_model_free(ord_model* model);
uint32_t ord_model_vocab_size(const ord_model* model);
uint32_t ord_model_max_positions(const ord_model* model);

/* Tokenizes UTF-8 text (BOS first when add_bos). On ORD_CAPACITY_EXCEEDED *count holds the size needed. */
ord_status ord_tokenize(const ord_model* model, const char* text, int add_bos, int32_t* tokens,
                        size_t capacity, size_t* count);
/* The printable text of `token` following `prev` (NUL-terminated copy into buf). */
ord_status ord_token_text(const ord_model* model, int32_t prev, int32_t token, char* buf, size_t buf_size);

ord_session_options ord_session_default_options(void);
ord_status ord_session_create(const ord_model* model, const ord_session_options* options, ord_session** out);
void ord_session_free(ord_session* session);
ord_status ord_session_prefill(ord_session* session, const int32_t* tokens, size_t count);
ord_status ord_session_decode(ord_session* session, int32_t token);
/* Next-token logits (vocab_size floats), owned by the session, valid until the next call on it. */
const float* ord_session_logits(const ord_session* session);
int64_t ord_session_position(const ord_session* session);
ord_status ord_session_reset(ord_session* session, int64_t position_offset);
/* Context shift (keep generating in a full cache): keeps the first `keep` cached tokens, drops the `drop`
 * after them and moves the rest back; RoPE keys are re-rotated by -drop positions (in the integer domain
 * for an int8 cache). ORD_INVALID_ARGUMENT unless drop >= 1 and keep + drop <= cached tokens;
 * ORD_UNSUPPORTED for models that add absolute positions to the embedding (learned/sinusoidal tables). */
ord_status ord_session_shift(ord_session* session, size_t drop, size_t keep);
/* Tokens in the KV cache, and the cache's size in bytes (0 for a null session). */
size_t ord_session_cached_tokens(const ord_session* session);
size_t ord_session_kv_cache_bytes(const ord_session* session);
/* Bytes a session created with `options` (NULL: defaults) would allocate, planned without allocating.
 * ord_session_create returns ORD_OUT_OF_MEMORY (never aborts) when that exceeds options->memory_budget
 * or an allocation fails. */
ord_status ord_session_bytes(const ord_model* model, const ord_session_options* options, uint64_t* bytes);

ord_status ord_sampler_create(size_t vocab_size, float temperature, float top_p, uint64_t seed,
                              ord_sampler** out);
void ord_sampler_free(ord_sampler* sampler);
/* Samples from the session's current logits. */
ord_status ord_sampler_sample(ord_sampler* sampler, ord_session* session, int32_t* token);

#ifdef __cplusplus
}
#endif

#endif /* ORDINAL_ORDINAL_H_ */
