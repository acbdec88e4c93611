/* A C app on the installed Ordinal: loads a model, generates greedily from BOS and prints the text as it
 * streams, as llama2.c's `run -t 0 -n STEPS` does (STEPS forward passes from BOS, so up to STEPS tokens;
 * stop at BOS/EOS; a newline at the end). Usage: generate_c MODEL [STEPS]. */
#include <ordinal/ordinal.h>
#include <stdio.h>
#include <stdlib.h>

static int print_text(int32_t token, const char* text, size_t length, void* user) {
  (void)token;
  (void)user;
  fwrite(text, 1, length, stdout);
  fflush(stdout);
  return 0; /* keep going */
}

static int fail(const char* what, ord_status st) {
  fprintf(stderr, "generate_c: %s: %s: %s\n", what, ord_status_name(st), ord_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [STEPS]\n", argv[0]);
    return 2;
  }
  const long steps = argc > 2 ? strtol(argv[2], NULL, 10) : 256;
  if (steps < 1) {
    fprintf(stderr, "generate_c: STEPS must be >= 1\n");
    return 2;
  }
  ord_model* model = NULL;
  ord_status st = ord_model_load(argv[1], &model);
  if (st != ORD_OK) return fail("load", st);

  ord_session_options options = ord_session_default_options();
  ord_session* session = NULL;
  st = ord_session_create(model, &options, &session);
  if (st != ORD_OK) return fail("session", st);

  ord_sampler_params params = ord_sampler_default_params();
  params.temperature = 0.0f; /* greedy */
  ord_sampler* sampler = NULL;
  st = ord_sampler_create_chain(ord_model_vocab_size(model), &params, &sampler);
  if (st != ORD_OK) return fail("sampler", st);

  const int32_t prompt[1] = {ord_model_bos(model)};
  size_t generated = 0;
  st = ord_generate(session, sampler, prompt, 1, (size_t)steps, print_text, NULL, &generated);
  printf("\n");
  if (st != ORD_OK) return fail("generate", st);
  fprintf(stderr, "generate_c: %zu tokens, Ordinal %s\n", generated, ord_version());

  ord_sampler_free(sampler);
  ord_session_free(session);
  ord_model_free(model);
  return 0;
}
