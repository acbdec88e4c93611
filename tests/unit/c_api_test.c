/* Exercises the C API from C: null handles, bad paths, and (when a model path is given) a full
 * load -> session -> prefill -> decode -> sample loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ordinal/ordinal.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

/* Counts attention rows whose probabilities sum to 1. */
static void count_row(const ord_attention_row* row, void* user) {
  float sum = 0.0f;
  for (size_t t = 0; t < row->keys; ++t) sum += row->probabilities[t];
  if (sum > 0.999f && sum < 1.001f) ++*(size_t*)user;
}

int main(int argc, char** argv) {
  ord_model* model = NULL;
  ord_session* session = NULL;
  CHECK(ord_model_load(NULL, &model) == ORD_INVALID_ARGUMENT);
  CHECK(strstr(ord_last_error(), "path") != NULL);
  CHECK(ord_model_load("/nonexistent/model.ordinal", &model) == ORD_IO_ERROR);
  CHECK(model == NULL);
  CHECK(strstr(ord_last_error(), "/nonexistent/model.ordinal") != NULL);
  CHECK(ord_session_create(NULL, NULL, &session) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_decode(NULL, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_prefill(NULL, NULL, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_logits(NULL) == NULL);
  CHECK(ord_session_reset(NULL, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_shift(NULL, 1, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_cached_tokens(NULL) == 0);
  CHECK(ord_session_kv_cache_bytes(NULL) == 0);
  CHECK(ord_sampler_sample(NULL, NULL, NULL) == ORD_INVALID_ARGUMENT);
  CHECK(strcmp(ord_status_name(ORD_CAPACITY_EXCEEDED), "capacity-exceeded") == 0);
  ord_model_free(NULL);
  ord_session_free(NULL);
  /* App-integration entry points: null-safe getters, versions, status names. */
  CHECK(strcmp(ord_version(), ORD_VERSION_STRING) == 0);
  CHECK(ORD_VERSION_NUMBER == ORD_VERSION_MAJOR * 10000 + ORD_VERSION_MINOR * 100 + ORD_VERSION_PATCH);
  CHECK(strcmp(ord_status_name(ORD_ABORTED), "aborted") == 0);
  CHECK(ord_model_bos(NULL) == -1 && ord_model_eos(NULL) == -1 && ord_model_is_eog(NULL, 1) == 0);
  CHECK(ord_session_vocab_size(NULL) == 0 && ord_session_capacity(NULL) == 0);
  CHECK(ord_session_set_abort_callback(NULL, NULL, NULL) == ORD_INVALID_ARGUMENT);
  CHECK(ord_generate(NULL, NULL, NULL, 0, 1, NULL, NULL, NULL) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_load_state(NULL, "x", 1) == ORD_INVALID_ARGUMENT);
  CHECK(strcmp(ord_last_error(), "ord_session_load_state: session is null") == 0); /* no code prefix */
  ord_detokenizer* detok = (ord_detokenizer*)&failures;
  CHECK(ord_detokenizer_create(NULL, &detok) == ORD_INVALID_ARGUMENT && detok == NULL);
  ord_detokenizer_free(NULL);

  static unsigned char garbage[256] __attribute__((aligned(64)));
  memset(garbage, 0xAB, sizeof garbage);
  CHECK(ord_model_load_buffer(garbage, sizeof garbage, &model) == ORD_INVALID_MODEL);

  const char* path = argc > 1 ? argv[1] : getenv("ORDINAL_TEST_MODEL");
  if (path && *path) {
    CHECK(ord_model_load(path, &model) == ORD_OK);
    if (model) {
      ord_session_options opt = ord_session_default_options();
      opt.threads = 1;
      CHECK(ord_session_create(model, &opt, &session) == ORD_OK);
      int32_t tokens[64];
      size_t n = 0;
      CHECK(ord_tokenize(model, "Once upon a time", 1, tokens, 64, &n) == ORD_OK);
      CHECK(n > 1);
      CHECK(ord_session_prefill(session, tokens, n) == ORD_OK);
      CHECK(ord_session_position(session) == (int64_t)n);
      ord_sampler* sampler = NULL;
      CHECK(ord_sampler_create(ord_model_vocab_size(model), 0.0f, 0.0f, 7, &sampler) == ORD_OK);
      ord_sampler* rejected = (ord_sampler*)&failures;
      CHECK(ord_sampler_create(ord_model_vocab_size(model), -1.0f, 0.0f, 7, &rejected) ==
            ORD_INVALID_ARGUMENT);
      CHECK(rejected == NULL);
      int32_t tok = -1;
      for (int i = 0; i < 8; ++i) {
        CHECK(ord_sampler_sample(sampler, session, &tok) == ORD_OK);
        CHECK(tok >= 0 && (uint32_t)tok < ord_model_vocab_size(model));
        CHECK(ord_session_decode(session, tok) == ORD_OK);
      }
      char text[64];
      size_t text_len = 0;
      CHECK(ord_token_text(model, 1, tok, text, sizeof text, &text_len) == ORD_OK);
      CHECK(text_len < sizeof text);
      CHECK(ord_session_decode(session, -1) == ORD_INVALID_ARGUMENT);
      CHECK(strstr(ord_last_error(), "token id -1") != NULL);
      CHECK(ord_session_decode(session, (int32_t)ord_model_vocab_size(model)) == ORD_INVALID_ARGUMENT);
      /* Context shift: bad counts are refused and change nothing; a good one frees the dropped slots. */
      size_t cached = ord_session_cached_tokens(session);
      CHECK(cached == n + 8);
      CHECK(ord_session_shift(session, 0, 0) == ORD_INVALID_ARGUMENT);
      CHECK(ord_session_shift(session, cached, 1) == ORD_INVALID_ARGUMENT);
      CHECK(strstr(ord_last_error(), "exceeds") != NULL);
      CHECK(ord_session_cached_tokens(session) == cached);
      CHECK(ord_session_shift(session, 4, 1) == ORD_OK);
      CHECK(ord_session_cached_tokens(session) == cached - 4);
      CHECK(ord_session_position(session) == (int64_t)(cached - 4));
      CHECK(ord_session_decode(session, tok) == ORD_OK);
      CHECK(ord_session_reset(session, -5) == ORD_INVALID_ARGUMENT);
      CHECK(ord_session_reset(session, 0) == ORD_OK);
      CHECK(ord_session_position(session) == 0);
      /* Telemetry from C: the calls above (1 prefill, 10 decodes, 3 refused decodes), then an observer. */
      ord_session_stats stats;
      CHECK(ord_session_get_stats(session, &stats) == ORD_OK);
      CHECK(stats.prefill_calls == 1 && stats.tokens_prefilled == n);
      CHECK(stats.tokens_decoded == 9);
      CHECK(stats.failed_calls == 2);
      CHECK(stats.time_to_first_token_ns == -1); /* re-armed by the reset */
      CHECK(stats.decode_p50_ns > 0 && stats.decode_p50_ns <= stats.decode_p99_ns);
      CHECK(stats.highest_position == (int64_t)(n + 7));
      CHECK(stats.kv_bytes_in_use == 0 && stats.kv_bytes_peak > 0);
      size_t observed_rows = 0;
      CHECK(ord_session_set_attention_observer(session, count_row, &observed_rows) == ORD_OK);
      CHECK(ord_session_prefill(session, tokens, 2) == ORD_OK);
      CHECK(observed_rows > 0 && observed_rows % 2 == 0);
      CHECK(ord_session_get_stats(session, &stats) == ORD_OK);
      CHECK(stats.time_to_first_token_ns > 0);
      ord_sampler_free(sampler);
      ord_session_free(session);

      /* An int8 KV cache is about 4x smaller and decodes; unknown cache types are refused. */
      size_t f32_bytes = 0, int8_bytes = 0;
      opt = ord_session_default_options();
      opt.threads = 1;
      CHECK(ord_session_create(model, &opt, &session) == ORD_OK);
      f32_bytes = ord_session_kv_cache_bytes(session);
      ord_session_free(session);
      opt.kv_cache = ORD_KV_INT8;
      CHECK(ord_session_create(model, &opt, &session) == ORD_OK);
      int8_bytes = ord_session_kv_cache_bytes(session);
      CHECK(int8_bytes > 0 && int8_bytes * 3 < f32_bytes);
      CHECK(ord_session_prefill(session, tokens, n) == ORD_OK);
      CHECK(ord_session_shift(session, 2, 1) == ORD_OK);
      CHECK(ord_session_decode(session, tokens[1]) == ORD_OK);
      ord_session_free(session);
      session = NULL;
      opt.kv_cache = 7;
      CHECK(ord_session_create(model, &opt, &session) == ORD_INVALID_ARGUMENT);
      CHECK(session == NULL);
      ord_model_free(model);
    }
  } else {
    printf("c_api_test: no model given; ran the handle and error-path checks only\n");
  }
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_api_test: all checks passed\n");
  return 0;
}
