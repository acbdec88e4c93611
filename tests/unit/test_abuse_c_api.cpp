// Hostile calls through the C API (ordinal.h, docs/trust-boundary.md): every function with null handles and
// null out-parameters, bad token ids, empty and 10^6-token prompts and texts, positions past the limit, a
// full cache, NaN in activations, thread counts. Each returns its ord_status and sets ord_last_error();
// out-parameters are cleared on failure; the session stays usable or says ORD_SESSION_UNUSABLE.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ordinal/ordinal.h"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

std::string last_error() {
  return ord_last_error();
}

bool error_mentions(const char* needle) {
  return last_error().find(needle) != std::string::npos;
}

std::string write_spec(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return path;
}

ord_model* load(const std::string& path) {
  ord_model* m = nullptr;
  REQUIRE_MESSAGE(ord_model_load(path.c_str(), &m) == ORD_OK, last_error());
  return m;
}

ord_session* open_session(ord_model* m, uint32_t context = 0, int64_t offset = 0) {
  ord_session_options o = ord_session_default_options();
  o.threads = 1;
  o.context_length = context;
  o.position_offset = offset;
  ord_session* s = nullptr;
  REQUIRE_MESSAGE(ord_session_create(m, &o, &s) == ORD_OK, last_error());
  return s;
}

}  // namespace

TEST_CASE("C API: null handles and null out-parameters are ORD_INVALID_ARGUMENT, never dereferenced") {
  const std::string path = write_spec(make_synthetic_model(SyntheticOptions()), "capi_null.ordinal");
  ord_model* m = load(path);
  ord_session* s = open_session(m);
  ord_model* mo = reinterpret_cast<ord_model*>(0x1);
  ord_session* so = reinterpret_cast<ord_session*>(0x1);
  ord_sampler* sa = reinterpret_cast<ord_sampler*>(0x1);
  int32_t toks[4] = {1, 2, 3, 4};
  size_t count = 99;
  char buf[16];

  CHECK(ord_model_load(nullptr, &mo) == ORD_INVALID_ARGUMENT);
  CHECK(mo == nullptr);
  CHECK(error_mentions("ord_model_load: path is null"));
  CHECK(ord_model_load(path.c_str(), nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(error_mentions("out is null"));
  mo = reinterpret_cast<ord_model*>(0x1);
  CHECK(ord_model_load_buffer(nullptr, 100, &mo) == ORD_INVALID_ARGUMENT);
  CHECK(mo == nullptr);
  CHECK(ord_model_load_buffer(toks, sizeof toks, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_model_vocab_size(nullptr) == 0);
  CHECK(ord_model_max_positions(nullptr) == 0);

  CHECK(ord_tokenize(nullptr, "x", 1, toks, 4, &count) == ORD_INVALID_ARGUMENT);
  CHECK(error_mentions("model is null"));
  CHECK(ord_tokenize(m, nullptr, 1, toks, 4, &count) == ORD_INVALID_ARGUMENT);
  CHECK(error_mentions("text is null"));
  CHECK(ord_tokenize(m, "x", 1, toks, 4, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_tokenize(m, "abc", 1, nullptr, 4, &count) == ORD_CAPACITY_EXCEEDED);  // no buffer: size query
  CHECK(count >= 2);
  size_t len = 99;
  CHECK(ord_token_text(nullptr, 1, 5, buf, sizeof buf, &len) == ORD_INVALID_ARGUMENT);
  CHECK(ord_token_text(m, 1, 5, nullptr, sizeof buf, &len) == ORD_INVALID_ARGUMENT);
  CHECK(ord_token_text(m, 1, 5, buf, 0, &len) == ORD_CAPACITY_EXCEEDED);  // reports the size needed
  CHECK(len == 1);
  CHECK(ord_token_text(m, 1, 5, nullptr, 0, &len) == ORD_CAPACITY_EXCEEDED);  // size query
  CHECK(len == 1);

  CHECK(ord_session_create(nullptr, nullptr, &so) == ORD_INVALID_ARGUMENT);
  CHECK(so == nullptr);
  CHECK(ord_session_create(m, nullptr, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_prefill(nullptr, toks, 4) == ORD_INVALID_ARGUMENT);
  CHECK(error_mentions("session is null"));
  CHECK(ord_session_decode(nullptr, 5) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_reset(nullptr, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_logits(nullptr) == nullptr);
  CHECK(ord_session_position(nullptr) == -1);

  CHECK(ord_sampler_create(10, 0.0f, 0.0f, 1, nullptr) == ORD_INVALID_ARGUMENT);
  ord_sampler* real_sampler = nullptr;
  REQUIRE(ord_sampler_create(ord_model_vocab_size(m), 0.0f, 0.0f, 1, &real_sampler) == ORD_OK);
  int32_t tok = -1;
  CHECK(ord_sampler_sample(nullptr, s, &tok) == ORD_INVALID_ARGUMENT);
  CHECK(ord_sampler_sample(real_sampler, nullptr, &tok) == ORD_INVALID_ARGUMENT);
  CHECK(ord_sampler_sample(real_sampler, s, nullptr) == ORD_INVALID_ARGUMENT);
  (void)sa;

  // Freeing null is a no-op, like free().
  ord_model_free(nullptr);
  ord_session_free(nullptr);
  ord_sampler_free(nullptr);

  // After all that, the real handles still work.
  CHECK(ord_session_prefill(s, toks, 4) == ORD_OK);
  CHECK(ord_sampler_sample(real_sampler, s, &tok) == ORD_OK);
  CHECK(ord_session_decode(s, tok) == ORD_OK);
  ord_sampler_free(real_sampler);
  ord_session_free(s);
  ord_model_free(m);
}

TEST_CASE("C API: a model outlives its handle while sessions use it; freeing order does not matter") {
  ord_model* m = load(write_spec(make_synthetic_model(SyntheticOptions()), "capi_order.ordinal"));
  ord_session* s = open_session(m);
  ord_model_free(m);  // the session keeps the model alive
  int32_t toks[3] = {1, 70, 71};
  CHECK(ord_session_prefill(s, toks, 3) == ORD_OK);
  CHECK(ord_session_position(s) == 3);
  ord_session_free(s);
}

TEST_CASE("C API: tokens, empty and huge prompts, a full cache, positions past the limit") {
  SyntheticOptions o;
  o.context = 16;
  ord_model* m = load(write_spec(make_synthetic_model(o), "capi_abuse.ordinal"));
  const int32_t vocab = static_cast<int32_t>(ord_model_vocab_size(m));
  ord_session* s = open_session(m);
  int32_t prompt[4] = {1, 70, 71, 72};

  for (int32_t bad : {-1, vocab, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}) {
    CHECK(ord_session_decode(s, bad) == ORD_INVALID_ARGUMENT);
    CHECK(error_mentions(("token id " + std::to_string(bad)).c_str()));
    CHECK_FALSE(error_mentions("invalid-argument"));  // the message alone; ord_status_name() has the code
  }
  char buf[16];
  CHECK(ord_token_text(m, 1, -1, buf, sizeof buf, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_token_text(m, 1, vocab, buf, sizeof buf, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_token_text(m, -5, 70, buf, sizeof buf, nullptr) == ORD_OK);  // prev is only context, any value
  CHECK(ord_token_text(m, 1, 70, buf, 1, nullptr) == ORD_CAPACITY_EXCEEDED);
  CHECK(ord_session_prefill(s, prompt, 0) == ORD_INVALID_ARGUMENT);
  CHECK(error_mentions("empty prompt"));
  CHECK(ord_session_prefill(s, nullptr, 3) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_position(s) == 0);

  std::vector<int32_t> huge(1000000, 70);
  CHECK(ord_session_prefill(s, huge.data(), huge.size()) == ORD_CAPACITY_EXCEEDED);
  CHECK(error_mentions("1000000 more tokens do not fit"));
  CHECK(ord_session_position(s) == 0);

  std::vector<int32_t> fill(16, 70);
  CHECK(ord_session_prefill(s, fill.data(), fill.size()) == ORD_OK);
  CHECK(ord_session_decode(s, 70) == ORD_CAPACITY_EXCEEDED);
  CHECK(error_mentions("KV cache full"));
  CHECK(ord_session_position(s) == 16);
  CHECK(ord_session_reset(s, -1) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_reset(s, std::numeric_limits<int64_t>::max()) == ORD_OUT_OF_RANGE);
  CHECK(ord_session_position(s) == 16);  // refused resets change nothing
  // RoPE addresses positions up to INT32_MAX.
  CHECK(ord_session_reset(s, std::numeric_limits<int32_t>::max()) == ORD_OK);
  CHECK(ord_session_decode(s, 70) == ORD_OK);
  CHECK(ord_session_decode(s, 71) == ORD_OUT_OF_RANGE);
  CHECK(error_mentions("position 2147483648"));
  CHECK(ord_session_reset(s, 0) == ORD_OK);
  CHECK(ord_session_prefill(s, prompt, 4) == ORD_OK);
  ord_session_free(s);

  ord_session_options opt = ord_session_default_options();
  opt.threads = 257;
  ord_session* bad = reinterpret_cast<ord_session*>(0x1);
  CHECK(ord_session_create(m, &opt, &bad) == ORD_INVALID_ARGUMENT);
  CHECK(bad == nullptr);
  CHECK(error_mentions("threads = 257"));
  opt.threads = 0;
  opt.position_offset = -3;
  CHECK(ord_session_create(m, &opt, &bad) == ORD_INVALID_ARGUMENT);
  opt.position_offset = 0;
  opt.context_length = (1u << 24) + 1;
  CHECK(ord_session_create(m, &opt, &bad) == ORD_INVALID_ARGUMENT);
  opt.context_length = 0;
  opt.threads = 4;  // more threads than this 2-core CI machine has
  CHECK(ord_session_create(m, &opt, &bad) == ORD_OK);
  CHECK(ord_session_prefill(bad, prompt, 4) == ORD_OK);
  ord_session_free(bad);
  ord_model_free(m);
}

TEST_CASE(
    "C API: a text of 10^6 characters tokenizes in bounded time; a small buffer reports the size needed") {
  ord_model* m = load(write_spec(make_synthetic_model(SyntheticOptions()), "capi_text.ordinal"));
  std::string text;
  while (text.size() < 1000000) text += "Once upon a time the thing went on and on. ";
  text.resize(1000000);
  size_t needed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(ord_tokenize(m, text.c_str(), 1, nullptr, 0, &needed) == ORD_CAPACITY_EXCEEDED);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("tokenized 10^6 characters into " << needed << " tokens in " << secs << " s");
  CHECK(needed > 100000);
  CHECK(secs < 30.0);
  CHECK(error_mentions("buffer holds 0"));
  std::vector<int32_t> ids(needed);
  size_t count = 0;
  CHECK(ord_tokenize(m, text.c_str(), 1, ids.data(), ids.size(), &count) == ORD_OK);
  CHECK(count == needed);
  // More tokens than any context: the session refuses them whole.
  ord_session* s = open_session(m);
  CHECK(ord_session_prefill(s, ids.data(), count) == ORD_CAPACITY_EXCEEDED);
  CHECK(ord_session_prefill(s, ids.data(), 8) == ORD_OK);
  ord_session_free(s);
  ord_model_free(m);
}

TEST_CASE("C API: NaN in activations is ORD_NUMERIC_ERROR, then ORD_SESSION_UNUSABLE until reset") {
  SyntheticOptions o;
  modelio::ModelSpec spec = make_synthetic_model(o);
  spec.config.tied_classifier = false;
  spec.classifier = spec.token_embedding;
  spec.classifier.name = "output";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(spec.token_embedding.data.data() + size_t{4} * o.dim * 70, &nan, 4);
  ord_model* m = load(write_spec(spec, "capi_nan.ordinal"));
  ord_session* s = open_session(m);
  CHECK(ord_session_decode(s, 65) == ORD_OK);
  CHECK(ord_session_decode(s, 70) == ORD_NUMERIC_ERROR);
  CHECK_FALSE(error_mentions("numeric-error"));  // the message alone; the code is the return value
  CHECK(error_mentions("non-finite logits at position 1"));
  CHECK(ord_session_decode(s, 65) == ORD_SESSION_UNUSABLE);
  CHECK(error_mentions("call reset()"));
  int32_t two[2] = {65, 66};
  CHECK(ord_session_prefill(s, two, 2) == ORD_SESSION_UNUSABLE);
  CHECK(strcmp(ord_status_name(ORD_SESSION_UNUSABLE), "session-unusable") == 0);
  CHECK(ord_session_reset(s, 0) == ORD_OK);
  CHECK(ord_session_prefill(s, two, 2) == ORD_OK);
  ord_session_free(s);
  ord_model_free(m);
}
