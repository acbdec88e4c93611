// Session state save/restore (Session::save_state / load_state, session_state.cpp): a restored session
// continues with bit-identical logits (f32 and int8 caches, RoPE and ALiBi), and the loader treats state
// bytes as hostile: every truncation, every single-bit flip, a forged checksum, another model, another cache
// type and too small a session are refused with nothing changed.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

const std::vector<int32_t> kPrompt = {1, 70, 71, 72, 73, 300, 301, 80, 90, 100};
const std::vector<int32_t> kNext = {65, 66, 67, 68};

std::vector<uint8_t> save(const Session& s) {
  std::vector<uint8_t> bytes(s.state_size());
  Status st = s.save_state(bytes.data(), bytes.size());
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return bytes;
}

// Logits after each of kNext, decoded one at a time.
std::vector<std::vector<float>> continue_with(Session& s) {
  std::vector<std::vector<float>> out;
  for (int32_t t : kNext) {
    Status st = s.decode(t);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    out.push_back(logits_of(s));
  }
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// FNV-1a 64 as session_state.cpp computes its trailer (to forge a well-checksummed hostile state).
uint64_t fnv1a64(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
void reseal(std::vector<uint8_t>* b) {
  const uint64_t h = fnv1a64(b->data(), b->size() - 8);
  std::memcpy(b->data() + b->size() - 8, &h, 8);
}

}  // namespace

TEST_CASE("a restored session continues with bit-identical logits") {
  for (PositionalScheme scheme : {PositionalScheme::kRope, PositionalScheme::kAlibi}) {
    for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
      CAPTURE(positional_scheme_name(scheme));
      CAPTURE(kv_cache_type_name(kv));
      SyntheticOptions o;
      o.scheme = scheme;
      modelio::ModelSpec spec = make_synthetic_model(o);
      if (scheme == PositionalScheme::kAlibi)
        spec.positional.slopes_q32 = {1u << 31, 1u << 30, 1u << 29, 1u << 28};
      auto m = load_spec(spec, "state_model.ordinal");
      SessionOptions so;
      so.kv_cache = kv;
      so.position_offset = 3;
      auto a = session_for(m, so);
      REQUIRE(a->prefill(kPrompt.data(), kPrompt.size()).ok());
      const std::vector<float> saved_logits = logits_of(*a);
      const std::vector<uint8_t> state = save(*a);
      CHECK(state.size() == a->state_size());
      const auto expected = continue_with(*a);

      // Another session of the same model (different capacity, offset and contents) takes the state.
      SessionOptions other = so;
      other.context_length = 40;
      other.position_offset = 0;
      auto b = session_for(m, other);
      REQUIRE(b->prefill(kNext.data(), kNext.size()).ok());
      Status st = b->load_state(state.data(), state.size());
      REQUIRE_MESSAGE(st.ok(), st.to_string());
      CHECK(b->position() == 3 + static_cast<int64_t>(kPrompt.size()));
      CHECK(b->cached_tokens() == kPrompt.size());
      CHECK(same_bits(logits_of(*b), saved_logits));
      const auto got = continue_with(*b);
      for (size_t i = 0; i < got.size(); ++i) CHECK(same_bits(got[i], expected[i]));

      // An empty session's state round-trips too.
      auto c = session_for(m, so);
      const std::vector<uint8_t> empty = save(*c);
      REQUIRE(b->load_state(empty.data(), empty.size()).ok());
      CHECK(b->cached_tokens() == 0);
      CHECK(b->position() == 3);
    }
  }
}

TEST_CASE("hostile state bytes are refused and change nothing") {
  SyntheticOptions o;
  auto m = load_spec(make_synthetic_model(o), "state_hostile.ordinal");
  auto a = session_for(m);
  REQUIRE(a->prefill(kPrompt.data(), 6).ok());
  const std::vector<uint8_t> state = save(*a);

  auto victim = session_for(m);
  REQUIRE(victim->prefill(kNext.data(), kNext.size()).ok());
  const std::vector<float> logits = logits_of(*victim);
  const int64_t position = victim->position();
  auto unchanged = [&] {
    return victim->position() == position && victim->cached_tokens() == kNext.size() &&
           same_bits(logits_of(*victim), logits);
  };

  SUBCASE("every truncation") {
    size_t refused = 0;
    for (size_t n = 0; n < state.size(); ++n) {
      Status st = victim->load_state(state.data(), n);
      if (!st.ok() && st.code() == ErrorCode::kInvalidArgument) ++refused;
    }
    CHECK(refused == state.size());
    CHECK(unchanged());
    std::vector<uint8_t> longer = state;
    longer.push_back(0);
    CHECK_FALSE(victim->load_state(longer.data(), longer.size()).ok());
    CHECK(unchanged());
  }
  SUBCASE("every single-bit flip") {
    size_t refused = 0;
    std::vector<uint8_t> bad = state;
    for (size_t i = 0; i < bad.size(); ++i) {
      const uint8_t bit = static_cast<uint8_t>(1u << (i % 8));
      bad[i] ^= bit;
      if (!victim->load_state(bad.data(), bad.size()).ok()) ++refused;
      bad[i] ^= bit;
    }
    CHECK(refused == state.size());
    CHECK(unchanged());
  }
  SUBCASE("forged checksums: semantic checks still hold") {
    auto forged = [&](size_t at, uint64_t value, size_t width, const char* needle) {
      std::vector<uint8_t> bad = state;
      std::memcpy(bad.data() + at, &value, width);
      reseal(&bad);
      Status st = victim->load_state(bad.data(), bad.size());
      CHECK_FALSE(st.ok());
      CHECK_MESSAGE(st.message().find(needle) != std::string::npos, st.message());
      CHECK(unchanged());
    };
    forged(4, 2, 4, "format version 2");           // a future version
    forged(12, 1, 4, "KV cache type");             // int8 claimed for an f32 payload
    forged(16, 33, 4, "another model: dim");       // another model's shape
    forged(48, 12345, 8, "another model file");    // another file
    forged(56, 7, 8, "does not hold 7 cached");    // cached count that the payload does not match
    forged(56, uint64_t{1} << 40, 8, "capacity");  // more tokens than any cache
    forged(64, uint64_t(-5), 8, "negative");       // offset
  }
  SUBCASE("a session without room, another cache type, another model") {
    SessionOptions small;
    small.context_length = 4;
    auto s = session_for(m, small);
    Status st = s->load_state(state.data(), state.size());
    CHECK(st.code() == ErrorCode::kInvalidArgument);
    CHECK(st.message().find("capacity of 4") != std::string::npos);
    SessionOptions int8;
    int8.kv_cache = KvCacheType::kInt8;
    auto q = session_for(m, int8);
    st = q->load_state(state.data(), state.size());
    CHECK(st.message().find("KV cache type f32 differs") != std::string::npos);
    SyntheticOptions wider;
    wider.dim = 48;
    auto other = session_for(load_spec(make_synthetic_model(wider), "state_other.ordinal"));
    st = other->load_state(state.data(), state.size());
    CHECK(st.message().find("another model") != std::string::npos);
  }
  SUBCASE("save needs room and a usable session") {
    std::vector<uint8_t> small(state.size() - 1);
    CHECK(a->save_state(small.data(), small.size()).code() == ErrorCode::kCapacityExceeded);
    CHECK(a->save_state(nullptr, 0).code() == ErrorCode::kCapacityExceeded);
    CHECK(a->max_state_size() >= a->state_size());
  }
}
