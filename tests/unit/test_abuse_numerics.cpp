// NaN and Inf appearing in activations (docs/trust-boundary.md): from a weight, an embedding row, a position
// table row, an overflowing layer, in a token that is not the last of a batched prefill. With
// check_numerics (the default) the step that produced them reports kNumericError naming the position, every
// later prefill/decode reports kSessionUnusable with the reason, and reset() makes the session usable
// again with results as if nothing had happened. With check_numerics off the caller gets the raw logits.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

const std::vector<int32_t> kPrompt = {1, 84, 104, 101, 32, 100};

void put_float(modelio::HostTensor& t, size_t index, float v) {
  std::memcpy(t.data.data() + 4 * index, &v, 4);
}

// Untied classifier, so that a poisoned embedding row only affects the token that reads it.
modelio::ModelSpec untied(PositionalScheme scheme = PositionalScheme::kRope,
                          Architecture arch = Architecture::kLlama) {
  SyntheticOptions o;
  o.scheme = scheme;
  o.arch = arch;
  modelio::ModelSpec s = make_synthetic_model(o);
  s.config.tied_classifier = false;
  s.classifier = s.token_embedding;
  s.classifier.name = "output";
  return s;
}

// The session reports kNumericError at `bad_position` for `tokens`, then kSessionUnusable until reset.
// `every_input_overflows`: the model cannot produce finite logits at all, so after reset() the next call
// computes again (and reports kNumericError again) instead of returning kSessionUnusable.
void expect_detected(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& tokens,
                     int64_t bad_position, uint32_t chunk = 32, bool every_input_overflows = false) {
  SessionOptions so;
  so.prefill_chunk = chunk;
  auto s = session_for(m, so);
  Status st = s->prefill(tokens.data(), tokens.size());
  CHECK(st.code() == ErrorCode::kNumericError);
  CHECK_MESSAGE(
      st.message().find("non-finite logits at position " + std::to_string(bad_position)) != std::string::npos,
      st.message());
  Status again = s->decode(65);
  CHECK(again.code() == ErrorCode::kSessionUnusable);
  CHECK(again.message().find("non-finite") != std::string::npos);  // says why
  CHECK(s->prefill(kPrompt.data(), kPrompt.size()).code() == ErrorCode::kSessionUnusable);
  REQUIRE(s->reset(0).ok());
  if (every_input_overflows) {
    CHECK(s->prefill(kPrompt.data(), kPrompt.size()).code() == ErrorCode::kNumericError);
    return;
  }
  REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  CHECK(all_finite(logits_of(*s)));
  CHECK(max_abs_diff(logits_of(*s), logits_after(m, kPrompt)) == 0.0f);  // nothing of the NaN survives reset
}

}  // namespace

TEST_CASE("Inf in one embedding row: detected at the token that reads it") {
  modelio::ModelSpec s = untied();
  put_float(s.token_embedding, size_t{70} * s.config.dim + 3, std::numeric_limits<float>::infinity());
  auto m = load_spec(s, "num_inf_emb.ordinal");
  expect_detected(m, {1, 65, 66, 70}, 3);
  // Decoding token by token: the steps before it are fine.
  auto sess = session_for(m);
  for (int32_t t : {1, 65, 66}) REQUIRE(sess->decode(t).ok());
  CHECK(sess->decode(70).code() == ErrorCode::kNumericError);
}

TEST_CASE(
    "NaN in a token that is not the last of a batched prefill still reaches the logits and is reported") {
  modelio::ModelSpec s = untied();
  put_float(s.token_embedding, size_t{70} * s.config.dim, std::numeric_limits<float>::quiet_NaN());
  auto m = load_spec(s, "num_nan_mid.ordinal");
  // Token 70 sits in the first of four chunks; its keys and values poison every later token's attention.
  expect_detected(m, {1, 70, 65, 66, 67, 68, 69, 71, 72, 73}, 9, 3);
}

TEST_CASE("NaN in a learned position table row: detected exactly at that position") {
  modelio::ModelSpec s = untied(PositionalScheme::kLearnedTable, Architecture::kGPT2);
  put_float(s.positional.table, size_t{5} * s.config.dim + 7, std::numeric_limits<float>::quiet_NaN());
  auto m = load_spec(s, "num_nan_pos.ordinal");
  auto sess = session_for(m);
  for (int i = 0; i < 5; ++i) REQUIRE(sess->decode(65 + i).ok());
  Status st = sess->decode(70);
  CHECK(st.code() == ErrorCode::kNumericError);
  CHECK(st.message().find("position 5") != std::string::npos);
  // The same tokens at an offset that avoids row 5 are fine.
  SessionOptions so;
  so.position_offset = 6;
  auto shifted = session_for(m, so);
  for (int i = 0; i < 6; ++i) CHECK(shifted->decode(65 + i).ok());
}

TEST_CASE("finite weights whose activations overflow to Inf are detected") {
  modelio::ModelSpec s = untied();
  // Every w1/w3 weight of layer 0 is +-1e30: hidden units near +-1e31, the SwiGLU product overflows float.
  TestRng rng(11);
  for (modelio::HostTensor* t : {&s.layers[0].w1, &s.layers[0].w3}) {
    for (size_t i = 0; i < t->data.size() / 4; ++i) put_float(*t, i, (rng.next() & 1) ? 1e30f : -1e30f);
  }
  auto m = load_spec(s, "num_overflow.ordinal");
  expect_detected(m, {1, 65}, 1, 32, true);
}

TEST_CASE("check_numerics off: the same steps succeed and hand the caller the non-finite logits") {
  modelio::ModelSpec s = untied();
  put_float(s.token_embedding, size_t{70} * s.config.dim, std::numeric_limits<float>::quiet_NaN());
  auto m = load_spec(s, "num_unchecked.ordinal");
  SessionOptions so;
  so.check_numerics = false;
  auto sess = session_for(m, so);
  REQUIRE(sess->decode(70).ok());
  CHECK_FALSE(all_finite(logits_of(*sess)));
  CHECK(sess->decode(65).ok());  // not unusable: the caller opted out of the check
}
