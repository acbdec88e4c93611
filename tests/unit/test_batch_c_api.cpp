// The batch C API (ordinal.h): the same bit-identity as the C++ API through C handles, every function with
// null handles and out-parameters, bad options and bad batches reported as ord_status with a message.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ordinal/ordinal.h"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

ord_model* load_model() {
  testing::SyntheticOptions o;
  o.scheme = PositionalScheme::kAlibi;
  const std::string path = testing::temp_path("batch_c_api.ordinal");
  REQUIRE(modelio::write_model(testing::make_synthetic_model(o), path).ok());
  ord_model* m = nullptr;
  REQUIRE(ord_model_load(path.c_str(), &m) == ORD_OK);
  return m;
}

std::vector<float> alone(ord_model* m, const std::vector<int32_t>& prompt, uint32_t kv) {
  ord_session_options so = ord_session_default_options();
  so.threads = 1;
  so.kv_cache = kv;
  ord_session* s = nullptr;
  REQUIRE(ord_session_create(m, &so, &s) == ORD_OK);
  REQUIRE(ord_session_prefill(s, prompt.data(), prompt.size()) == ORD_OK);
  const float* l = ord_session_logits(s);
  std::vector<float> out(l, l + ord_session_vocab_size(s));
  ord_session_free(s);
  return out;
}

}  // namespace

TEST_CASE("C API: a padded batch gives each sequence its solo logits, bit for bit, with padding ratio 0") {
  ord_model* m = load_model();
  for (uint32_t kv : {uint32_t{ORD_KV_F32}, uint32_t{ORD_KV_INT8}}) {
    ord_batch_options bo = ord_batch_default_options();
    bo.threads = 2;
    bo.kv_cache = kv;
    bo.max_sequences = 2;
    bo.audit_padding_attention = 1;
    uint64_t planned = 0;
    REQUIRE(ord_batch_session_bytes(m, &bo, &planned) == ORD_OK);
    ord_batch_session* b = nullptr;
    REQUIRE(ord_batch_session_create(m, &bo, &b) == ORD_OK);
    CHECK(planned >= ord_batch_memory_bytes(b));
    int32_t a = -1, c = -1;
    REQUIRE(ord_batch_open_sequence(b, 0, &a) == ORD_OK);
    REQUIRE(ord_batch_open_sequence(b, 0, &c) == ORD_OK);
    const std::vector<int32_t> pa = {1, 84, 104, 101, 32}, pc = {1, 72, 105};
    const int32_t tokens[10] = {1, 84, 104, 101, 32, 0, 0, 1, 72, 105};
    const uint8_t real[10] = {1, 1, 1, 1, 1, 0, 0, 1, 1, 1};
    const int32_t rows[2] = {a, c};
    REQUIRE(ord_batch_forward_padded(b, tokens, real, 2, 5, rows) == ORD_OK);
    const uint32_t vocab = ord_batch_vocab_size(b);
    const std::vector<float> want_a = alone(m, pa, kv), want_c = alone(m, pc, kv);
    CHECK(std::memcmp(ord_batch_sequence_logits(b, a), want_a.data(), vocab * sizeof(float)) == 0);
    CHECK(std::memcmp(ord_batch_sequence_logits(b, c), want_c.data(), vocab * sizeof(float)) == 0);
    CHECK(ord_batch_logits(b, 4) != nullptr);  // row 0's last real token
    CHECK(ord_batch_logits(b, 9) != nullptr);  // row 1's
    CHECK(ord_batch_logits(b, 5) == nullptr);  // padding
    CHECK(ord_batch_padding_attention_ratio(b) == 0.0);
    CHECK(ord_batch_position(b, a) == 5);
    CHECK(ord_batch_cached_tokens(b, c) == 3);
    // One decode step for both through ord_batch_forward.
    const int32_t next[2] = {97, 33};
    const int32_t seqs[2] = {a, c};
    ord_batch bt = {next, seqs, nullptr, nullptr, 2};
    REQUIRE(ord_batch_forward(b, &bt) == ORD_OK);
    std::vector<int32_t> pa2 = pa, pc2 = pc;
    pa2.push_back(97);
    pc2.push_back(33);
    CHECK(std::memcmp(ord_batch_logits(b, 0), alone(m, pa2, kv).data(), vocab * sizeof(float)) == 0);
    CHECK(std::memcmp(ord_batch_logits(b, 1), alone(m, pc2, kv).data(), vocab * sizeof(float)) == 0);
    CHECK(ord_batch_shift_sequence(b, a, 2, 1) == ORD_OK);
    CHECK(ord_batch_reset_sequence(b, c, 3) == ORD_OK);
    CHECK(ord_batch_position(b, c) == 3);
    CHECK(ord_batch_close_sequence(b, a) == ORD_OK);
    CHECK(ord_batch_position(b, a) == -1);
    ord_batch_session_free(b);
  }
  ord_model_free(m);
}

TEST_CASE("C API: null handles, bad options and bad batches are errors with messages") {
  ord_model* m = load_model();
  ord_batch_session* b = nullptr;
  uint64_t bytes = 1;
  CHECK(ord_batch_session_create(nullptr, nullptr, &b) == ORD_INVALID_ARGUMENT);
  CHECK(b == nullptr);
  CHECK(ord_batch_session_create(m, nullptr, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_session_bytes(m, nullptr, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_session_bytes(nullptr, nullptr, &bytes) == ORD_INVALID_ARGUMENT);
  CHECK(bytes == 0);
  ord_batch_options bo = ord_batch_default_options();
  bo.kv_cache = 7;
  CHECK(ord_batch_session_create(m, &bo, &b) == ORD_INVALID_ARGUMENT);
  CHECK(std::string(ord_last_error()).find("kv_cache") != std::string::npos);
  bo = ord_batch_default_options();
  bo.max_sequences = 0;
  CHECK(ord_batch_session_create(m, &bo, &b) == ORD_INVALID_ARGUMENT);
  bo = ord_batch_default_options();
  bo.threads = 1;
  bo.memory_budget = 1000;
  CHECK(ord_batch_session_create(m, &bo, &b) == ORD_OUT_OF_MEMORY);
  bo.memory_budget = 0;
  REQUIRE(ord_batch_session_create(m, &bo, &b) == ORD_OK);
  int32_t id = 0;
  CHECK(ord_batch_open_sequence(nullptr, 0, &id) == ORD_INVALID_ARGUMENT);
  CHECK(id == -1);
  CHECK(ord_batch_open_sequence(b, 0, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_open_sequence(b, -1, &id) == ORD_INVALID_ARGUMENT);
  REQUIRE(ord_batch_open_sequence(b, 0, &id) == ORD_OK);
  CHECK(ord_batch_forward(b, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_forward(nullptr, nullptr) == ORD_INVALID_ARGUMENT);
  const int32_t tok[1] = {1};
  const int32_t bad_seq[1] = {3};
  ord_batch bt = {tok, bad_seq, nullptr, nullptr, 1};
  CHECK(ord_batch_forward(b, &bt) == ORD_INVALID_ARGUMENT);
  CHECK(std::string(ord_last_error()).find("not open") != std::string::npos);
  CHECK(ord_batch_forward_padded(b, nullptr, nullptr, 1, 1, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_close_sequence(nullptr, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_reset_sequence(nullptr, 0, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_shift_sequence(nullptr, 0, 1, 0) == ORD_INVALID_ARGUMENT);
  CHECK(ord_batch_shift_sequence(b, id, 1, 0) == ORD_INVALID_ARGUMENT);  // nothing cached
  CHECK(ord_batch_logits(nullptr, 0) == nullptr);
  CHECK(ord_batch_sequence_logits(b, id) == nullptr);  // nothing computed yet
  CHECK(ord_batch_position(nullptr, 0) == -1);
  CHECK(ord_batch_cached_tokens(nullptr, 0) == 0);
  CHECK(ord_batch_vocab_size(nullptr) == 0);
  CHECK(ord_batch_memory_bytes(nullptr) == 0);
  CHECK(ord_batch_padding_attention_ratio(nullptr) == 0.0);
  ord_batch_session_free(b);
  ord_batch_session_free(nullptr);
  ord_model_free(m);
}
