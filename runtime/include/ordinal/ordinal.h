/* Ordinal C API: opaque handles, error codes and messages. For apps, FFI and JNI.
 * Every function returning ord_status can fail; ord_last_error() then describes the failure (the message
 * alone: ord_status_name() gives the code's name; thread-local, valid until the next failing call on the
 * same thread). Null handles are reported as ORD_INVALID_ARGUMENT, never dereferenced. Functions that
 * fill a caller's buffer report the size they need when it is too small (ORD_CAPACITY_EXCEEDED). */
#ifndef ORDINAL_ORDINAL_H_
#define ORDINAL_ORDINAL_H_

#include <stddef.h>
#include <stdint.h>

#include "ordinal/export.h"
#include "ordinal/version.h"

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
  ORD_OUT_OF_MEMORY = 10, /* the session's planned memory exceeds its budget, or an allocation failed */
  ORD_ABORTED = 11        /* the abort callback stopped the call; the session is as it was before it */
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
  uint32_t prefill_chunk;  /* tokens per batched forward during prefill; 0: the default (64) */
  int32_t check_numerics;  /* nonzero (default): NaN/Inf in logits is ORD_NUMERIC_ERROR */
} ord_session_options;

/* The library's version, "MAJOR.MINOR.PATCH" (ORD_VERSION_STRING is the headers'). */
ORD_API const char* ord_version(void);
ORD_API const char* ord_last_error(void);
ORD_API const char* ord_status_name(ord_status status);

ORD_API ord_status ord_model_load(const char* path, ord_model** out);
/* A model in memory. A 64-byte aligned buffer is used in place and must outlive the model; any other
 * alignment is copied once into memory the model owns (then the buffer may be freed at once). */
ORD_API ord_status ord_model_load_buffer(const void* data, size_t size, ord_model** out);
/* A copy of `size` bytes the model owns (any alignment; the caller may free its buffer at once). */
ORD_API ord_status ord_model_load_buffer_copy(const void* data, size_t size, ord_model** out);
/* `size` bytes at `offset` of an open file, e.g. an uncompressed Android asset
 * (AAsset_openFileDescriptor64 gives fd, offset and length). Mapped when offset is a multiple of 64, else
 * read into memory the model owns. The model does not keep fd: the caller may close it. */
ORD_API ord_status ord_model_load_fd(int fd, int64_t offset, size_t size, ord_model** out);
ORD_API void ord_model_free(ord_model* model);
ORD_API uint32_t ord_model_vocab_size(const ord_model* model);
ORD_API uint32_t ord_model_max_positions(const ord_model* model);

/* Tokenizes NUL-terminated UTF-8 text (BOS first when add_bos). On ORD_CAPACITY_EXCEEDED *count holds the
 * size needed (tokens may be NULL to ask for it). */
ORD_API ord_status ord_tokenize(const ord_model* model, const char* text, int add_bos, int32_t* tokens,
                                size_t capacity, size_t* count);
/* The same for text_len bytes of text (which may hold NUL bytes). */
ORD_API ord_status ord_tokenize_n(const ord_model* model, const char* text, size_t text_len, int add_bos,
                                  int32_t* tokens, size_t capacity, size_t* count);
/* The bytes `token` stands for after `prev`, lossless: byte-fallback pieces (<0xNN>) give their one raw byte
 * (so UTF-8 split over several tokens reassembles; ord_detokenizer holds incomplete sequences for you), a
 * leading space after BOS is dropped as llama2.c does. buf receives them plus a NUL; *length (may be NULL)
 * the byte count without the NUL (a <0x00> piece is one NUL byte: use *length). On ORD_CAPACITY_EXCEEDED
 * *length is what is needed without the NUL; buf may be NULL with buf_size 0 to ask. */
ORD_API ord_status ord_token_text(const ord_model* model, int32_t prev, int32_t token, char* buf,
                                  size_t buf_size, size_t* length);

ORD_API ord_session_options ord_session_default_options(void);
ORD_API ord_status ord_session_create(const ord_model* model, const ord_session_options* options,
                                      ord_session** out);
ORD_API void ord_session_free(ord_session* session);
ORD_API ord_status ord_session_prefill(ord_session* session, const int32_t* tokens, size_t count);
ORD_API ord_status ord_session_decode(ord_session* session, int32_t token);
/* Next-token logits (vocab_size floats), owned by the session, valid until the next call on it. */
ORD_API const float* ord_session_logits(const ord_session* session);
ORD_API int64_t ord_session_position(const ord_session* session);
ORD_API ord_status ord_session_reset(ord_session* session, int64_t position_offset);
/* Context shift (keep generating in a full cache): keeps the first `keep` cached tokens, drops the `drop`
 * after them and moves the rest back; RoPE keys are re-rotated by -drop positions (in the integer domain
 * for an int8 cache). ORD_INVALID_ARGUMENT unless drop >= 1 and keep + drop <= cached tokens;
 * ORD_UNSUPPORTED for models that add absolute positions to the embedding (learned/sinusoidal tables). */
ORD_API ord_status ord_session_shift(ord_session* session, size_t drop, size_t keep);
/* Tokens in the KV cache, and the cache's size in bytes (0 for a null session). */
ORD_API size_t ord_session_cached_tokens(const ord_session* session);
ORD_API size_t ord_session_kv_cache_bytes(const ord_session* session);
/* Bytes a session created with `options` (NULL: defaults) would allocate, planned without allocating.
 * ord_session_create returns ORD_OUT_OF_MEMORY (never aborts) when that exceeds options->memory_budget
 * or an allocation fails. */
ORD_API ord_status ord_session_bytes(const ord_model* model, const ord_session_options* options,
                                     uint64_t* bytes);

ORD_API ord_status ord_sampler_create(size_t vocab_size, float temperature, float top_p, uint64_t seed,
                                      ord_sampler** out);
ORD_API void ord_sampler_free(ord_sampler* sampler);
/* Samples from the session's current logits. */
ORD_API ord_status ord_sampler_sample(ord_sampler* sampler, ord_session* session, int32_t* token);

/* ==== App integration (issue 17): model facts, session getters, streaming text, sampler chain, abort,
 * generation loop, session state. ==== */

/* ---- model facts ---- */
ORD_API int32_t ord_model_bos(const ord_model* model); /* -1 for a null model */
ORD_API int32_t ord_model_eos(const ord_model* model);
/* Nonzero when `token` ends a generation: EOS, or BOS (a new document; llama2.c stops on it). */
ORD_API int ord_model_is_eog(const ord_model* model, int32_t token);
/* Positions the model can address (a session refuses positions >= this); 0 for a null model. */
ORD_API int64_t ord_model_position_limit(const ord_model* model);

/* ---- session getters (0 for a null session) ---- */
ORD_API uint32_t ord_session_vocab_size(const ord_session* session);
ORD_API size_t ord_session_capacity(const ord_session* session); /* KV cache slots */
ORD_API uint32_t ord_session_threads(const ord_session* session);
ORD_API size_t ord_session_memory_bytes(const ord_session* session);

/* ---- streaming detokenizer ----
 * Turns a token stream into text in order, never splitting a UTF-8 sequence: bytes of an incomplete
 * sequence at the end are held until the tokens that complete it arrive (bytes that can never complete
 * one are passed through unchanged, so nothing is lost). One per stream; not thread-safe. */
typedef struct ord_detokenizer ord_detokenizer;
ORD_API ord_status ord_detokenizer_create(const ord_model* model, ord_detokenizer** out);
ORD_API void ord_detokenizer_free(ord_detokenizer* detok);
/* Forgets held bytes; `prev` is the token before the next one pushed (BOS at the start of a document;
 * -1 when none). */
ORD_API ord_status ord_detokenizer_reset(ord_detokenizer* detok, int32_t prev);
/* Appends `token` and writes the text now complete into buf (not NUL-terminated; *length bytes, often 0).
 * On ORD_CAPACITY_EXCEEDED nothing changes and *length is the size needed. At most the token's bytes + 3. */
ORD_API ord_status ord_detokenizer_push(ord_detokenizer* detok, int32_t token, char* buf, size_t buf_size,
                                        size_t* length);
/* Writes the held bytes (at most 3) and empties the detokenizer's hold. */
ORD_API ord_status ord_detokenizer_flush(ord_detokenizer* detok, char* buf, size_t buf_size, size_t* length);

/* ---- sampler chain ----
 * logit bias -> repetition / frequency / presence penalties over the last penalty_window accepted tokens ->
 * temperature (0: greedy) -> softmax -> top-k -> min-p -> top-p -> seeded draw. Reads the session's logits,
 * never writes them. Defaults (ord_sampler_default_params): temperature 1, every filter and penalty off,
 * penalty window 64, seed 42. */
typedef struct ord_sampler_params {
  float temperature;        /* >= 0; 0: greedy */
  float top_p;              /* [0, 1]; 0 or 1: off */
  uint32_t top_k;           /* 0: off */
  float min_p;              /* [0, 1]; 0: off */
  float repetition_penalty; /* > 0; 1: off */
  float frequency_penalty;  /* 0: off */
  float presence_penalty;   /* 0: off */
  uint32_t penalty_window;  /* accepted tokens the penalties see */
  uint64_t seed;            /* > 0 */
} ord_sampler_params;
ORD_API ord_sampler_params ord_sampler_default_params(void);
ORD_API ord_status ord_sampler_create_chain(size_t vocab_size, const ord_sampler_params* params,
                                            ord_sampler** out);
/* Adds bias to token's logit before every draw; -INFINITY bans the token, 0 removes a bias. */
ORD_API ord_status ord_sampler_set_logit_bias(ord_sampler* sampler, int32_t token, float bias);
/* Records a prompt or generated token for the penalties (ord_generate does this itself). */
ORD_API ord_status ord_sampler_accept(ord_sampler* sampler, int32_t token);
/* Empties the penalty window. */
ORD_API ord_status ord_sampler_reset(ord_sampler* sampler);
/* Samples from any vocab_size logits (read only). */
ORD_API ord_status ord_sampler_sample_logits(ord_sampler* sampler, const float* logits, int32_t* token);

/* ---- abort ----
 * Called on the calling thread between prefill chunks and between layers; returning nonzero stops
 * prefill/decode/generate with ORD_ABORTED, leaving the session as it was before that call. NULL: none. */
typedef int (*ord_abort_callback)(void* user_data);
ORD_API ord_status ord_session_set_abort_callback(ord_session* session, ord_abort_callback callback,
                                                  void* user_data);

/* ---- progress ----
 * Called on the calling thread after each prefill chunk (prefill_chunk tokens) with the tokens of the
 * current call done so far and its total. NULL: none. */
typedef void (*ord_progress_callback)(size_t done_tokens, size_t total_tokens, void* user_data);
ORD_API ord_status ord_session_set_progress_callback(ord_session* session, ord_progress_callback callback,
                                                     void* user_data);

/* ---- generation loop ----
 * Called once per generated token with the text it completes (lossless UTF-8 from a streaming
 * detokenizer; may be empty while a sequence is incomplete; not NUL-terminated), and once more with
 * token -1 when held bytes remain at the end. Return nonzero to stop after this token. */
typedef int (*ord_token_callback)(int32_t token, const char* text, size_t length, void* user_data);
/* Prefills `prompt` (count >= 1; BOS first for llama2.c models), then samples, reports and decodes up to
 * max_tokens tokens, stopping early at an end-of-generation token (not reported, not decoded) or when the
 * callback asks. Every reported token is decoded, so afterwards the session's logits follow the last one
 * and generation can continue with another call (prompt count 0 continues from the session's logits).
 * *generated (may be NULL) counts reported tokens, also on error. A full cache is
 * ORD_CAPACITY_EXCEEDED (ord_session_shift frees room). */
ORD_API ord_status ord_generate(ord_session* session, ord_sampler* sampler, const int32_t* prompt,
                                size_t count, size_t max_tokens, ord_token_callback callback, void* user_data,
                                size_t* generated);

/* ---- session state ----
 * The cached tokens' keys and values, the next-token logits and positions: versioned (format 1) and
 * checksummed. Loading verifies it as hostile input (sizes, checksum, model identity, cache type, capacity,
 * positions) and leaves the session unchanged when it refuses; a restored session continues with
 * bit-identical logits. Any session on the same model file and KV cache type with room for the cached
 * tokens can load it. */
ORD_API ord_status ord_session_state_size(const ord_session* session, size_t* size);
/* On ORD_CAPACITY_EXCEEDED *written (may be NULL) is the size needed. */
ORD_API ord_status ord_session_save_state(const ord_session* session, void* buf, size_t buf_size,
                                          size_t* written);
ORD_API ord_status ord_session_load_state(ord_session* session, const void* data, size_t size);
ORD_API ord_status ord_session_save_state_file(const ord_session* session, const char* path);
ORD_API ord_status ord_session_load_state_file(ord_session* session, const char* path);

/* ---- telemetry (issue 15) ----
 * Counters since ord_session_create or ord_session_reset_stats, updated once at the end of every
 * prefill/decode call (two clock reads per call, no allocation). Read them on the thread that drives the
 * session. The fields are those of ordinal::SessionStats (ordinal/telemetry.hpp), which documents each. */
typedef struct ord_session_stats {
  uint64_t prefill_calls;
  uint64_t tokens_prefilled;
  uint64_t tokens_decoded;
  uint64_t prefill_ns;
  uint64_t decode_ns;
  int64_t time_to_first_token_ns; /* -1 until the first successful call after create/reset */
  uint64_t decode_p50_ns, decode_p95_ns, decode_p99_ns; /* per-token decode latency, within 1/32 */
  uint64_t decode_min_ns, decode_max_ns, decode_mean_ns;
  uint64_t memory_bytes;    /* allocated at create (constant) */
  uint64_t kv_bytes_in_use; /* KV cache bytes holding the sequence's tokens now */
  uint64_t kv_bytes_peak;
  int64_t highest_position;     /* -1 before any token */
  uint64_t out_of_table_tokens; /* tokens past a positional table's rows (clamp/interpolate policy) */
  uint64_t positions_refused;   /* calls refused: position beyond what the model addresses */
  uint64_t numeric_errors;      /* calls that failed with ORD_NUMERIC_ERROR */
  uint64_t failed_calls;        /* calls that failed otherwise */
} ord_session_stats;
ORD_API ord_status ord_session_get_stats(const ord_session* session, ord_session_stats* out);
ORD_API ord_status ord_session_reset_stats(ord_session* session);
/* Any percentile p in [0, 100] of the per-token decode latency histogram (nearest rank, within 1/32);
 * 0 before the first decode. ORD_INVALID_ARGUMENT for p outside [0, 100] or NaN. */
ORD_API ord_status ord_session_decode_latency_percentile(const ord_session* session, double p, uint64_t* ns);

/* ---- attention observer (attention profiler; opt-in) ----
 * Called on the calling thread once per (token, layer, head) after that layer's attention, with the
 * probabilities the forward pass used over the keys at positions first_key_position .. + keys - 1. The row
 * is valid during the call only. NULL removes it. Without an observer the decode path is unchanged. */
typedef struct ord_attention_row {
  uint32_t layer;
  uint32_t head;
  int64_t query_position;
  int64_t first_key_position;
  size_t keys;
  const float* probabilities;
  const uint8_t* padding; /* NULL: no padding keys; else keys flags, nonzero = padding */
} ord_attention_row;
typedef void (*ord_attention_observer)(const ord_attention_row* row, void* user_data);
ORD_API ord_status ord_session_set_attention_observer(ord_session* session, ord_attention_observer observer,
                                                      void* user_data);

/* ---- several sequences in one forward pass (ordinal/batch.hpp states the contract) ----
 * An ord_batch_session holds up to max_sequences sequences, each with its own KV cache region, positions
 * and logits; one ord_batch_forward takes tokens of any of them (each with its sequence id and, optionally,
 * its position). Each sequence's logits are bit-identical to an ord_session running it alone. */
typedef struct ord_batch_session ord_batch_session;

#define ORD_PADDING_SEQUENCE (-1) /* a padding token: never computed, never attended */

typedef struct ord_batch_options {
  uint32_t threads;                /* 0: one per core */
  uint32_t max_sequences;          /* sequence ids 0 .. max_sequences-1 (default 4) */
  uint32_t context_length;         /* KV slots per sequence; 0: the model's max_positions */
  uint32_t max_batch_tokens;       /* tokens per ord_batch_forward, padding included (default 64) */
  uint32_t max_outputs;            /* tokens per call that may request logits; 0: max_sequences */
  uint32_t kv_cache;               /* ord_kv_cache_type */
  uint64_t memory_budget;          /* bytes; 0: no budget */
  int32_t check_numerics;          /* nonzero (default): NaN/Inf in requested logits is ORD_NUMERIC_ERROR */
  int32_t audit_padding_attention; /* nonzero: measure the attention mass on padding (tests, verify) */
} ord_batch_options;

/* Parallel arrays of `count` entries. positions: NULL, or each token's position (the sequence's next one,
 * or anywhere for the first token of an empty sequence). want_logits: NULL (the last token of each
 * sequence in the call), or nonzero where logits are wanted. */
typedef struct ord_batch {
  const int32_t* tokens;
  const int32_t* sequences; /* sequence id or ORD_PADDING_SEQUENCE */
  const int64_t* positions;
  const uint8_t* want_logits;
  size_t count;
} ord_batch;

ORD_API ord_batch_options ord_batch_default_options(void);
ORD_API ord_status ord_batch_session_bytes(const ord_model* model, const ord_batch_options* options,
                                           uint64_t* bytes);
ORD_API ord_status ord_batch_session_create(const ord_model* model, const ord_batch_options* options,
                                            ord_batch_session** out);
ORD_API void ord_batch_session_free(ord_batch_session* session);
ORD_API ord_status ord_batch_open_sequence(ord_batch_session* session, int64_t position_offset,
                                           int32_t* sequence);
ORD_API ord_status ord_batch_close_sequence(ord_batch_session* session, int32_t sequence);
ORD_API ord_status ord_batch_reset_sequence(ord_batch_session* session, int32_t sequence,
                                            int64_t position_offset);
ORD_API ord_status ord_batch_shift_sequence(ord_batch_session* session, int32_t sequence, size_t drop,
                                            size_t keep);
ORD_API ord_status ord_batch_forward(ord_batch_session* session, const ord_batch* batch);
/* rows x cols tokens, row-major; real[i] zero marks padding anywhere in a row; row r is row_sequences[r]. */
ORD_API ord_status ord_batch_forward_padded(ord_batch_session* session, const int32_t* tokens,
                                            const uint8_t* real, size_t rows, size_t cols,
                                            const int32_t* row_sequences);
/* Logits after batch token `index` of the last call (NULL if it did not request them), or the latest of a
 * sequence (NULL if none). vocab_size floats, valid until the next call on the session. */
ORD_API const float* ord_batch_logits(const ord_batch_session* session, size_t index);
ORD_API const float* ord_batch_sequence_logits(const ord_batch_session* session, int32_t sequence);
ORD_API int64_t ord_batch_position(const ord_batch_session* session, int32_t sequence); /* -1: not open */
ORD_API size_t ord_batch_cached_tokens(const ord_batch_session* session, int32_t sequence);
ORD_API uint32_t ord_batch_vocab_size(const ord_batch_session* session);
ORD_API size_t ord_batch_memory_bytes(const ord_batch_session* session);
/* With audit_padding_attention: attention mass on padding over the total; exactly 0 when masked. */
ORD_API double ord_batch_padding_attention_ratio(const ord_batch_session* session);

#ifdef __cplusplus
}
#endif

#endif /* ORDINAL_ORDINAL_H_ */
