// Session behaviour: batched prefill equals token-by-token decode, streaming positions, reset and
// offsets, every capacity/range error, out-of-table policies, NaN reporting, and sessions on threads.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

std::shared_ptr<const Model> load_spec(const modelio::ModelSpec& spec, const std::string& name) {
  std::string path = testing::temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

std::shared_ptr<const Model> synthetic(PositionalScheme scheme, Architecture arch, const std::string& name,
                                       uint32_t context = 64) {
  testing::SyntheticOptions o;
  o.scheme = scheme;
  o.arch = arch;
  o.context = context;
  return load_spec(testing::make_synthetic_model(o), name);
}

std::unique_ptr<Session> session_for(const std::shared_ptr<const Model>& m, SessionOptions so = {}) {
  if (so.threads == 0) so.threads = 1;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  return std::move(s).value();
}

float max_abs_diff(const float* a, const float* b, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

std::vector<int32_t> greedy(Session& s, std::vector<int32_t> prompt, int steps) {
  std::vector<int32_t> out;
  REQUIRE(s.prefill(prompt.data(), prompt.size()).ok());
  for (int i = 0; i < steps; ++i) {
    int32_t t = Sampler::argmax(s.logits(), s.vocab_size());
    out.push_back(t);
    REQUIRE(s.decode(t).ok());
  }
  return out;
}

}  // namespace

TEST_CASE("batched prefill matches token-by-token decode for both architectures") {
  for (auto [scheme, arch] : {std::pair{PositionalScheme::kRope, Architecture::kLlama},
                              std::pair{PositionalScheme::kLearnedTable, Architecture::kGPT2},
                              std::pair{PositionalScheme::kNone, Architecture::kGPT2}}) {
    auto m = synthetic(scheme, arch, std::string("prefill_") + positional_scheme_name(scheme) + ".ordinal");
    std::vector<int32_t> prompt = {1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 5, 300, 9};
    SessionOptions chunked;
    chunked.prefill_chunk = 5;  // forces several chunks, including a partial one
    auto a = session_for(m, chunked);
    auto b = session_for(m);
    REQUIRE(a->prefill(prompt.data(), prompt.size()).ok());
    for (int32_t t : prompt) REQUIRE(b->decode(t).ok());
    CHECK(a->position() == static_cast<int64_t>(prompt.size()));
    CHECK(b->position() == static_cast<int64_t>(prompt.size()));
    CHECK(max_abs_diff(a->logits(), b->logits(), a->vocab_size()) < 1e-4f);
    // Streaming: a second prefill continues at the right positions.
    auto c = session_for(m);
    REQUIRE(c->prefill(prompt.data(), 7).ok());
    REQUIRE(c->prefill(prompt.data() + 7, prompt.size() - 7).ok());
    CHECK(max_abs_diff(a->logits(), c->logits(), a->vocab_size()) < 1e-4f);
  }
}

TEST_CASE("positions are part of the computation: the same tokens at another offset differ") {
  auto m = synthetic(PositionalScheme::kLearnedTable, Architecture::kGPT2, "offset_learned.ordinal");
  auto s = session_for(m);
  std::vector<int32_t> prompt = {1, 80, 90};
  REQUIRE(s->prefill(prompt.data(), prompt.size()).ok());
  std::vector<float> at0(s->logits(), s->logits() + s->vocab_size());
  REQUIRE(s->reset(10).ok());
  CHECK(s->position() == 10);
  REQUIRE(s->prefill(prompt.data(), prompt.size()).ok());
  CHECK(s->position() == 13);
  CHECK(max_abs_diff(at0.data(), s->logits(), s->vocab_size()) > 1e-3f);
  REQUIRE(s->reset(0).ok());
  REQUIRE(s->prefill(prompt.data(), prompt.size()).ok());
  CHECK(max_abs_diff(at0.data(), s->logits(), s->vocab_size()) == 0.0f);
}

TEST_CASE("bad input gets clear errors and leaves the session usable") {
  auto m = synthetic(PositionalScheme::kRope, Architecture::kLlama, "errors.ordinal", 16);
  auto s = session_for(m);
  const int32_t vocab = static_cast<int32_t>(m->config().vocab_size);
  Status st = s->decode(-1);
  CHECK(st.code() == ErrorCode::kInvalidArgument);
  CHECK(st.message().find("token id -1") != std::string::npos);
  CHECK(s->decode(vocab).code() == ErrorCode::kInvalidArgument);
  CHECK(s->prefill(nullptr, 0).code() == ErrorCode::kInvalidArgument);
  CHECK(s->prefill(nullptr, 3).code() == ErrorCode::kInvalidArgument);
  std::vector<int32_t> long_prompt(17, 5);
  st = s->prefill(long_prompt.data(), long_prompt.size());
  CHECK(st.code() == ErrorCode::kCapacityExceeded);
  CHECK(s->position() == 0);  // rejected before anything was computed
  std::vector<int32_t> fill(16, 5);
  REQUIRE(s->prefill(fill.data(), fill.size()).ok());
  st = s->decode(5);
  CHECK(st.code() == ErrorCode::kCapacityExceeded);
  CHECK(st.message().find("KV cache full") != std::string::npos);
  CHECK(s->reset(-1).code() == ErrorCode::kInvalidArgument);
  REQUIRE(s->reset(0).ok());
  CHECK(s->decode(5).ok());

  SessionOptions bad;
  bad.threads = 100000;
  CHECK(Session::create(m, bad).status().code() == ErrorCode::kInvalidArgument);
  bad = SessionOptions();
  bad.prefill_chunk = 0;
  CHECK(Session::create(m, bad).status().code() == ErrorCode::kInvalidArgument);
  CHECK(Session::create(nullptr).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("learned tables: positions beyond the table follow the model's policy") {
  testing::SyntheticOptions o;
  o.scheme = PositionalScheme::kLearnedTable;
  o.arch = Architecture::kGPT2;
  o.context = 8;
  modelio::ModelSpec spec = testing::make_synthetic_model(o);

  SessionOptions big;
  big.context_length = 32;
  big.threads = 1;
  std::vector<int32_t> toks(12, 70);
  {
    auto m = load_spec(spec, "policy_error.ordinal");
    CHECK(m->position_limit() == 8);
    auto s = session_for(m, big);
    Status st = s->prefill(toks.data(), toks.size());
    CHECK(st.code() == ErrorCode::kOutOfRange);
    CHECK(st.message().find("position 11") != std::string::npos);
    CHECK(st.message().find("'error'") != std::string::npos);
    CHECK(s->reset(8).code() == ErrorCode::kOutOfRange);
  }
  {
    spec.positional.policy = detail::OutOfRangePolicy::kClamp;
    auto m = load_spec(spec, "policy_clamp.ordinal");
    auto s = session_for(m, big);
    CHECK(s->prefill(toks.data(), toks.size()).ok());
    // Clamped: positions 20 and 21 both read row 7, so the same token after the same history differs
    // only through attention, not through its position vector.
    CHECK(s->reset(1000).ok());
  }
  {
    spec.positional.policy = detail::OutOfRangePolicy::kInterpolate;
    spec.positional.interpolation_factor = 2.0f;
    auto m = load_spec(spec, "policy_interp.ordinal");
    CHECK(m->position_limit() == 15);  // p / 2 <= 7
    auto s = session_for(m, big);
    CHECK(s->prefill(toks.data(), toks.size()).ok());
    std::vector<int32_t> more(4, 70);
    CHECK(s->prefill(more.data(), more.size()).code() == ErrorCode::kOutOfRange);
  }
}

TEST_CASE("NaN in activations is detected, reported, and makes the session unusable until reset") {
  testing::SyntheticOptions o;
  modelio::ModelSpec spec = testing::make_synthetic_model(o);
  // Untie the classifier so only the embedding row of token 70 carries the NaN.
  spec.config.tied_classifier = false;
  spec.classifier = spec.token_embedding;
  spec.classifier.name = "output";
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(spec.token_embedding.data.data() + 4 * 32 * 70, &nan, 4);  // row of token 70
  auto m = load_spec(spec, "nan.ordinal");
  auto s = session_for(m);
  CHECK(s->decode(65).ok());
  Status st = s->decode(70);
  CHECK(st.code() == ErrorCode::kNumericError);
  CHECK(st.message().find("non-finite") != std::string::npos);
  CHECK(s->decode(65).code() == ErrorCode::kSessionUnusable);
  REQUIRE(s->reset(0).ok());
  CHECK(s->decode(65).ok());
}

TEST_CASE("8 sessions decoding in parallel threads on one model give the tokens of one session alone") {
  auto m = synthetic(PositionalScheme::kRope, Architecture::kLlama, "threads.ordinal", 64);
  std::vector<int32_t> prompt = {1, 79, 110, 99, 101};
  auto alone = session_for(m);
  std::vector<int32_t> expected = greedy(*alone, prompt, 40);
  constexpr int kSessions = 8;
  std::vector<std::vector<int32_t>> got(kSessions);
  std::vector<std::thread> workers;
  for (int i = 0; i < kSessions; ++i) {
    workers.emplace_back([&, i] {
      SessionOptions so;
      so.threads = (i % 2) + 1;  // some sessions run their own 2-thread pool
      auto s = Session::create(m, so);
      if (!s.ok()) return;
      std::vector<int32_t> out;
      if (!s.value()->prefill(prompt.data(), prompt.size()).ok()) return;
      for (int k = 0; k < 40; ++k) {
        int32_t t = Sampler::argmax(s.value()->logits(), s.value()->vocab_size());
        out.push_back(t);
        if (!s.value()->decode(t).ok()) return;
      }
      got[i] = out;
    });
  }
  for (auto& w : workers) w.join();
  for (int i = 0; i < kSessions; ++i) CHECK(got[i] == expected);
}

TEST_CASE("memory accounting covers the KV cache") {
  auto m = synthetic(PositionalScheme::kRope, Architecture::kLlama, "mem.ordinal", 64);
  auto s = session_for(m);
  const auto& c = m->config();
  CHECK(s->kv_cache_bytes() == size_t{2} * c.n_layers * 64 * c.n_kv_heads * c.head_dim * sizeof(float));
  CHECK(s->memory_bytes() > s->kv_cache_bytes());
  CHECK(s->capacity() == 64);
}
