// Hostile calls through the C++ API (docs/trust-boundary.md): token ids, empty and 10^6-token prompts, a
// full KV cache, thread counts and session options out of range. Each gets its error code and a message
// naming the value, and is refused before anything is computed: the session is untouched and still works.
// Positions: test_abuse_positions.cpp; NaN/Inf: test_abuse_numerics.cpp; C API: test_abuse_c_api.cpp.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

std::shared_ptr<const Model> model(const std::string& name, uint32_t context = 16, uint32_t dim = 32) {
  SyntheticOptions o;
  o.context = context;
  o.dim = dim;
  o.hidden = dim * 3 / 2;
  return load_spec(make_synthetic_model(o), name);
}

const std::vector<int32_t> kPrompt = {1, 84, 104, 101, 32, 100};

}  // namespace

TEST_CASE("token ids outside the vocabulary are refused before anything is computed") {
  auto m = model("abuse_tok.ordinal");
  const int32_t vocab = static_cast<int32_t>(m->config().vocab_size);
  auto s = session_for(m);
  REQUIRE(s->prefill(kPrompt.data(), 3).ok());
  const std::vector<float> before = logits_of(*s);
  for (int32_t bad :
       {-1, -2, std::numeric_limits<int32_t>::min(), vocab, vocab + 1, std::numeric_limits<int32_t>::max()}) {
    Status st = s->decode(bad);
    CHECK(st.code() == ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(st.message().find("token id " + std::to_string(bad) + " ") != std::string::npos,
                  st.message());
    CHECK(st.message().find("outside the vocabulary [0, " + std::to_string(vocab) + ")") !=
          std::string::npos);
  }
  // A bad id anywhere in a prompt refuses the whole prompt and names its index.
  std::vector<int32_t> prompt = {5, 6, 7, vocab, 8};
  Status st = s->prefill(prompt.data(), prompt.size());
  CHECK(st.code() == ErrorCode::kInvalidArgument);
  CHECK(st.message().find("at index 3") != std::string::npos);
  CHECK(s->position() == 3);
  CHECK(max_abs_diff(before, logits_of(*s)) == 0.0f);
  // Still usable, and nothing of the refused calls reached the cache.
  REQUIRE(s->prefill(kPrompt.data() + 3, kPrompt.size() - 3).ok());
  CHECK(max_abs_diff(logits_of(*s), logits_after(m, kPrompt)) == 0.0f);
}

TEST_CASE("empty prompts, null or not, are refused and the session is untouched") {
  auto m = model("abuse_empty.ordinal");
  auto s = session_for(m);
  const int32_t one = 5;
  for (const int32_t* p : {static_cast<const int32_t*>(nullptr), &one}) {
    Status st = s->prefill(p, 0);
    CHECK(st.code() == ErrorCode::kInvalidArgument);
    CHECK(st.message().find("empty prompt") != std::string::npos);
  }
  Status st = s->prefill(nullptr, 5);
  CHECK(st.code() == ErrorCode::kInvalidArgument);
  CHECK(st.message().find("null") != std::string::npos);
  CHECK(s->position() == 0);
  REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  CHECK(max_abs_diff(logits_of(*s), logits_after(m, kPrompt)) == 0.0f);
}

TEST_CASE("a prompt of 10^6 tokens is refused at once, never computed; so is one with a bad id at the end") {
  auto m = model("abuse_long.ordinal", 64);
  auto s = session_for(m);
  std::vector<int32_t> huge(1000000, 70);
  const auto t0 = std::chrono::steady_clock::now();
  Status st = s->prefill(huge.data(), huge.size());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(st.code() == ErrorCode::kCapacityExceeded);
  CHECK_MESSAGE(st.message().find("0 of 64 slots used, 1000000 more tokens do not fit") != std::string::npos,
                st.message());
  CHECK(secs < 5.0);  // validated only: a forward pass over 10^6 tokens would take hours
  huge.back() = -7;
  st = s->prefill(huge.data(), huge.size());
  CHECK(st.code() == ErrorCode::kInvalidArgument);
  CHECK(st.message().find("token id -7 at index 999999") != std::string::npos);
  CHECK(s->position() == 0);
  // Exactly the capacity fits.
  std::vector<int32_t> fill(64, 70);
  REQUIRE(s->prefill(fill.data(), fill.size()).ok());
  CHECK(s->cached_tokens() == 64);
  // A session cannot be planned for an absurd context either (2^24 slots is the hard limit).
  SessionOptions so;
  so.threads = 1;
  so.context_length = (1u << 24) + 1;
  auto bad = Session::create(m, so);
  CHECK(bad.status().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.status().message().find("context_length") != std::string::npos);
}

TEST_CASE("KV cache full: kCapacityExceeded with the slot counts, nothing changes, reset recovers") {
  auto m = model("abuse_full.ordinal", 64);
  SessionOptions so;
  so.context_length = 8;
  auto s = session_for(m, so);
  CHECK(s->capacity() == 8);
  std::vector<int32_t> six = {1, 70, 71, 72, 73, 74};
  REQUIRE(s->prefill(six.data(), six.size()).ok());
  std::vector<int32_t> three(3, 71);
  Status st = s->prefill(three.data(), three.size());
  CHECK(st.code() == ErrorCode::kCapacityExceeded);
  CHECK_MESSAGE(
      st.message().find("KV cache full: 6 of 8 slots used, 3 more tokens do not fit") != std::string::npos,
      st.message());
  CHECK(s->position() == 6);
  REQUIRE(s->decode(75).ok());
  REQUIRE(s->decode(76).ok());
  const std::vector<float> last = logits_of(*s);
  for (int i = 0; i < 3; ++i) CHECK(s->decode(77).code() == ErrorCode::kCapacityExceeded);  // stays refused
  CHECK(s->cached_tokens() == 8);
  CHECK(max_abs_diff(last, logits_of(*s)) == 0.0f);  // the logits of the last good step survive
  std::vector<int32_t> eight = {1, 70, 71, 72, 73, 74, 75, 76};
  CHECK(max_abs_diff(last, logits_after(m, eight, 0, 8)) == 0.0f);
  REQUIRE(s->reset(0).ok());
  CHECK(s->cached_tokens() == 0);
  REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  CHECK(max_abs_diff(logits_of(*s), logits_after(m, kPrompt)) == 0.0f);
}

TEST_CASE("thread counts: 0 means one per core, more threads than cores work and agree, > 256 is refused") {
  // Wide enough that the linear layers and attention really run on the pool.
  auto m = model("abuse_threads.ordinal", 64, 128);
  std::vector<int32_t> prompt(12, 0);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(1 + (i * 37) % 300);
  SessionOptions so;
  so.threads = 1;
  auto one = session_for(m, so);
  REQUIRE(one->prefill(prompt.data(), prompt.size()).ok());
  const std::vector<float> expected = logits_of(*one);

  so.threads = 0;
  auto per_core = Session::create(m, so);
  REQUIRE(per_core.ok());
  const uint32_t cores = per_core.value()->threads();
  CHECK(cores >= 1);
  MESSAGE("threads = 0 gave " << cores << " threads");
  for (uint32_t n : {0u, 2 * cores + 1}) {
    so.threads = n;
    auto s = Session::create(m, so);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    if (n != 0) CHECK(s.value()->threads() == n);
    REQUIRE(s.value()->prefill(prompt.data(), prompt.size()).ok());
    CHECK_MESSAGE(max_abs_diff(expected, logits_of(*s.value())) < 1e-5f, "threads " << n);
  }
  // The limit itself is accepted (a pool of 256 threads is made; not run here: 256 spinning workers on a
  // 2-core machine take minutes per prefill).
  so.threads = 256;
  auto at_limit = Session::create(m, so);
  REQUIRE_MESSAGE(at_limit.ok(), at_limit.status().to_string());
  CHECK(at_limit.value()->threads() == 256);
  for (uint32_t n : {257u, 100000u, std::numeric_limits<uint32_t>::max()}) {
    so.threads = n;
    auto s = Session::create(m, so);
    CHECK(s.status().code() == ErrorCode::kInvalidArgument);
    CHECK(s.status().message().find("threads = " + std::to_string(n) + " exceeds the limit of 256") !=
          std::string::npos);
  }
}

TEST_CASE("session options and reset: null model, zero chunk, negative and huge offsets") {
  auto m = model("abuse_options.ordinal");
  CHECK(Session::create(nullptr).status().code() == ErrorCode::kInvalidArgument);
  SessionOptions so;
  so.threads = 1;
  so.prefill_chunk = 0;
  CHECK(Session::create(m, so).status().code() == ErrorCode::kInvalidArgument);
  so.prefill_chunk = std::numeric_limits<uint32_t>::max();  // larger than the context: clamped, fine
  auto big_chunk = Session::create(m, so);
  REQUIRE(big_chunk.ok());
  REQUIRE(big_chunk.value()->prefill(kPrompt.data(), kPrompt.size()).ok());
  CHECK(max_abs_diff(logits_of(*big_chunk.value()), logits_after(m, kPrompt)) < 1e-5f);
  so = SessionOptions();
  so.threads = 1;
  for (int64_t off : {int64_t{-1}, std::numeric_limits<int64_t>::min()}) {
    so.position_offset = off;
    auto s = Session::create(m, so);
    CHECK(s.status().code() == ErrorCode::kInvalidArgument);
    CHECK(s.status().message().find("negative") != std::string::npos);
  }
  so.position_offset = std::numeric_limits<int64_t>::max();
  CHECK(Session::create(m, so).status().code() == ErrorCode::kOutOfRange);
  // A refused reset changes nothing.
  auto s = session_for(m);
  REQUIRE(s->prefill(kPrompt.data(), 3).ok());
  CHECK(s->reset(-5).code() == ErrorCode::kInvalidArgument);
  CHECK(s->reset(std::numeric_limits<int64_t>::max()).code() == ErrorCode::kOutOfRange);
  CHECK(s->position() == 3);
  REQUIRE(s->prefill(kPrompt.data() + 3, kPrompt.size() - 3).ok());
  CHECK(max_abs_diff(logits_of(*s), logits_after(m, kPrompt)) == 0.0f);
}
