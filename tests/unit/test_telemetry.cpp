// Session telemetry (issue 15): the latency histogram's buckets and percentiles against exact nearest-rank
// values, and the session counters (tokens, time to first token, memory, positions, errors) through the
// C++ and the C API, after prefill/decode/shift/reset and after each kind of failure.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "ordinal/ordinal.h"
#include "ordinal/telemetry.hpp"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

// Exact nearest-rank percentile of a sorted sample.
uint64_t nearest_rank(const std::vector<uint64_t>& sorted, double p) {
  const double r = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(r));
  return sorted[rank - 1];
}

const std::vector<int32_t> kPrompt = {1, 84, 104, 101, 32, 100};

std::shared_ptr<const Model> model_with(PositionalScheme scheme, detail::OutOfRangePolicy policy,
                                        const char* name, float interpolation_factor = 1.0f) {
  SyntheticOptions o;
  o.scheme = scheme;
  modelio::ModelSpec spec = make_synthetic_model(o);
  spec.positional.policy = policy;
  spec.positional.interpolation_factor = interpolation_factor;
  return load_spec(spec, name);
}

}  // namespace

TEST_CASE("latency histogram: every value falls in its bucket; buckets tile the range without gaps") {
  for (uint32_t b = 0; b + 1 < LatencyHistogram::kBuckets; ++b) {
    CHECK(LatencyHistogram::bucket_lower(b) + LatencyHistogram::bucket_width(b) ==
          LatencyHistogram::bucket_lower(b + 1));
    // Width at most 1/16 of the lower bound (4 significant bits) above the exact small values.
    if (b >= LatencyHistogram::kSubBuckets) {
      CHECK(LatencyHistogram::bucket_width(b) * 16 <= LatencyHistogram::bucket_lower(b));
    }
  }
  TestRng rng(7);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng.next() >> (rng.next() % 64);
    const uint32_t b = LatencyHistogram::bucket_of(v);
    REQUIRE(b < LatencyHistogram::kBuckets);
    CHECK(LatencyHistogram::bucket_lower(b) <= v);
    if (b + 1 < LatencyHistogram::kBuckets) {
      CHECK(v < LatencyHistogram::bucket_lower(b) + LatencyHistogram::bucket_width(b));
    }
  }
  CHECK(LatencyHistogram::bucket_of(0) == 0);
  CHECK(LatencyHistogram::bucket_of(15) == 15);
  CHECK(LatencyHistogram::bucket_of(16) == 16);
  CHECK(LatencyHistogram::bucket_of(UINT64_MAX) == LatencyHistogram::kBuckets - 1);
}

TEST_CASE("latency histogram: p50/p95/p99 within 1/32 of the exact nearest-rank values") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    TestRng rng(seed);
    LatencyHistogram h;
    std::vector<uint64_t> values;
    const size_t n = 1000 + static_cast<size_t>(seed) * 3777;
    for (size_t i = 0; i < n; ++i) {
      // Log-uniform from ~1 us to ~30 ms, plus a few slow outliers: the shape of decode latencies.
      const double lg = 10.0 + 15.0 * rng.uniform();
      uint64_t v = static_cast<uint64_t>(std::exp2(lg));
      if (i % 97 == 0) v *= 50;
      values.push_back(v);
      h.record(v);
    }
    std::sort(values.begin(), values.end());
    CHECK(h.count() == n);
    CHECK(h.min() == values.front());
    CHECK(h.max() == values.back());
    for (double p : {1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9}) {
      CAPTURE(p);
      const double exact = static_cast<double>(nearest_rank(values, p));
      const double got = static_cast<double>(h.percentile(p));
      CHECK(std::fabs(got - exact) <= exact / 32.0);
    }
    CHECK(h.percentile(100.0) == values.back());
    CHECK(h.percentile(0.0) == values.front());
  }
  // Exact below 16 ns; a single value is its own percentile; clear() empties.
  LatencyHistogram small;
  for (uint64_t v : {3u, 3u, 9u, 12u}) small.record(v);
  CHECK(small.percentile(50.0) == 3);
  CHECK(small.percentile(75.0) == 9);
  CHECK(small.percentile(99.0) == 12);
  LatencyHistogram one;
  one.record(123456789);
  CHECK(one.percentile(50.0) == 123456789);
  one.clear();
  CHECK(one.count() == 0);
  CHECK(one.percentile(50.0) == 0);
}

TEST_CASE("session counters: tokens, time to first token, latency, memory and positions") {
  auto m = model_with(PositionalScheme::kRope, detail::OutOfRangePolicy::kError, "tel_rope.ordinal");
  auto s = session_for(m);
  SessionStats st = s->stats();
  CHECK(st.tokens_prefilled == 0);
  CHECK(st.tokens_decoded == 0);
  CHECK(st.time_to_first_token_ns == -1);
  CHECK(st.highest_position == -1);
  CHECK(st.kv_bytes_in_use == 0);
  CHECK(st.memory_bytes == s->memory_bytes());

  const uint64_t slot_bytes = s->kv_cache_bytes() / s->capacity();
  REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());
  st = s->stats();
  CHECK(st.prefill_calls == 1);
  CHECK(st.tokens_prefilled == kPrompt.size());
  CHECK(st.time_to_first_token_ns > 0);
  // The first call produced the first logits: its duration is the time to first token.
  CHECK(static_cast<uint64_t>(st.time_to_first_token_ns) == st.prefill_ns);
  CHECK(st.highest_position == 5);
  CHECK(st.kv_bytes_in_use == 6 * slot_bytes);

  for (int32_t t : {97, 98, 99, 100, 101}) REQUIRE(s->decode(t).ok());
  st = s->stats();
  CHECK(st.tokens_decoded == 5);
  CHECK(st.prefill_calls == 1);  // decode calls are not prefill calls
  CHECK(s->decode_latency().count() == 5);
  CHECK(st.decode_ns == s->decode_latency().sum());
  CHECK(st.decode_min_ns > 0);
  CHECK(st.decode_min_ns <= st.decode_p50_ns);
  CHECK(st.decode_p50_ns <= st.decode_p95_ns);
  CHECK(st.decode_p95_ns <= st.decode_p99_ns);
  CHECK(st.decode_p99_ns <= st.decode_max_ns);
  CHECK(st.decode_mean_ns == st.decode_ns / 5);
  CHECK(st.highest_position == 10);
  CHECK(st.kv_bytes_in_use == 11 * slot_bytes);
  CHECK(st.kv_bytes_peak == 11 * slot_bytes);
  CHECK(st.out_of_table_tokens == 0);  // RoPE has no table
  CHECK(st.numeric_errors == 0);
  CHECK(st.failed_calls == 0);

  // Shift frees cache: in use drops, the peak stays.
  REQUIRE(s->shift(4, 1).ok());
  st = s->stats();
  CHECK(st.kv_bytes_in_use == 7 * slot_bytes);
  CHECK(st.kv_bytes_peak == 11 * slot_bytes);

  // reset(): the next call measures time to first token again; totals carry on.
  const uint64_t decoded_before = st.tokens_decoded;
  REQUIRE(s->reset(20).ok());
  CHECK(s->stats().time_to_first_token_ns == -1);
  CHECK(s->stats().kv_bytes_in_use == 0);
  REQUIRE(s->prefill(kPrompt.data(), 3).ok());
  st = s->stats();
  CHECK(st.time_to_first_token_ns >= 0);
  CHECK(st.tokens_prefilled == kPrompt.size() + 3);
  CHECK(st.tokens_decoded == decoded_before);
  CHECK(st.highest_position == 22);
  CHECK(st.prefill_calls == 2);

  s->reset_stats();
  st = s->stats();
  CHECK(st.tokens_prefilled == 0);
  CHECK(st.tokens_decoded == 0);
  CHECK(st.prefill_calls == 0);
  CHECK(st.highest_position == -1);
  CHECK(st.kv_bytes_in_use == 3 * slot_bytes);  // the cache still holds them
  CHECK(st.memory_bytes == s->memory_bytes());
  CHECK(s->decode_latency().count() == 0);
}

TEST_CASE("session counters: failures are counted by kind and change no token counter") {
  auto m =
      model_with(PositionalScheme::kLearnedTable, detail::OutOfRangePolicy::kError, "tel_learned.ordinal");
  SessionOptions so;
  so.position_offset = 62;  // the table stores 64 positions
  auto s = session_for(m, so);
  // Positions 62..66: refused by the "error" policy.
  CHECK(s->prefill(kPrompt.data(), 5).code() == ErrorCode::kOutOfRange);
  const int32_t bad = 100000;
  CHECK(s->decode(bad).code() == ErrorCode::kInvalidArgument);
  SessionStats st = s->stats();
  CHECK(st.positions_refused == 1);
  CHECK(st.failed_calls == 1);
  CHECK(st.tokens_prefilled == 0);
  CHECK(st.tokens_decoded == 0);
  CHECK(st.time_to_first_token_ns == -1);
  // Time to first token runs from the first call (the refused one) to the first success.
  REQUIRE(s->prefill(kPrompt.data(), 2).ok());
  st = s->stats();
  CHECK(st.time_to_first_token_ns > 0);
  CHECK(static_cast<uint64_t>(st.time_to_first_token_ns) >= st.prefill_ns);
  CHECK(st.highest_position == 63);
  CHECK(st.out_of_table_tokens == 0);
}

TEST_CASE("session counters: tokens past a clamped or interpolated table count as out-of-table") {
  for (detail::OutOfRangePolicy policy :
       {detail::OutOfRangePolicy::kClamp, detail::OutOfRangePolicy::kInterpolate}) {
    CAPTURE(static_cast<int>(policy));
    // Interpolation by 2 addresses positions up to 126 from the 64 stored rows.
    const bool clamp = policy == detail::OutOfRangePolicy::kClamp;
    auto m = model_with(PositionalScheme::kLearnedTable, policy,
                        clamp ? "tel_clamp.ordinal" : "tel_interp.ordinal", clamp ? 1.0f : 2.0f);
    SessionOptions so;
    so.position_offset = 60;
    auto s = session_for(m, so);
    REQUIRE(s->prefill(kPrompt.data(), kPrompt.size()).ok());  // positions 60..65, table rows 0..63
    CHECK(s->stats().out_of_table_tokens == 2);
    REQUIRE(s->decode(97).ok());  // 66
    CHECK(s->stats().out_of_table_tokens == 3);
    CHECK(s->stats().highest_position == 66);
  }
}

TEST_CASE("session counters: a numeric error is counted") {
  SyntheticOptions o;
  modelio::ModelSpec spec = make_synthetic_model(o);
  spec.config.tied_classifier = false;
  spec.classifier = spec.token_embedding;
  spec.classifier.name = "output";
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(spec.token_embedding.data.data() + 4 * (size_t{70} * spec.config.dim + 3), &inf, 4);
  auto m = load_spec(spec, "tel_numeric.ordinal");
  auto s = session_for(m);
  const std::vector<int32_t> tokens = {1, 70};
  CHECK(s->prefill(tokens.data(), tokens.size()).code() == ErrorCode::kNumericError);
  SessionStats st = s->stats();
  CHECK(st.numeric_errors == 1);
  CHECK(st.failed_calls == 0);
  // The session is unusable until reset: a failed call of another kind.
  CHECK(s->decode(97).code() == ErrorCode::kSessionUnusable);
  CHECK(s->stats().failed_calls == 1);
}

TEST_CASE("C API: ord_session_get_stats mirrors the C++ counters") {
  SyntheticOptions o;
  const std::string path = temp_path("tel_c_api.ordinal");
  REQUIRE(modelio::write_model(make_synthetic_model(o), path).ok());
  ord_model* model = nullptr;
  REQUIRE(ord_model_load(path.c_str(), &model) == ORD_OK);
  ord_session_options opt = ord_session_default_options();
  opt.threads = 1;
  ord_session* session = nullptr;
  REQUIRE(ord_session_create(model, &opt, &session) == ORD_OK);

  ord_session_stats st;
  std::memset(&st, 0xff, sizeof st);
  REQUIRE(ord_session_get_stats(session, &st) == ORD_OK);
  CHECK(st.tokens_prefilled == 0);
  CHECK(st.time_to_first_token_ns == -1);
  CHECK(st.highest_position == -1);
  CHECK(st.memory_bytes == ord_session_memory_bytes(session));

  REQUIRE(ord_session_prefill(session, kPrompt.data(), kPrompt.size()) == ORD_OK);
  for (int32_t t : {97, 98, 99}) REQUIRE(ord_session_decode(session, t) == ORD_OK);
  CHECK(ord_session_decode(session, -5) == ORD_INVALID_ARGUMENT);
  REQUIRE(ord_session_get_stats(session, &st) == ORD_OK);
  CHECK(st.prefill_calls == 1);
  CHECK(st.tokens_prefilled == kPrompt.size());
  CHECK(st.tokens_decoded == 3);
  CHECK(st.highest_position == 8);
  CHECK(st.failed_calls == 1);
  CHECK(st.time_to_first_token_ns > 0);
  CHECK(st.decode_p50_ns > 0);
  CHECK(st.decode_p50_ns <= st.decode_p99_ns);
  CHECK(st.kv_bytes_in_use == 9 * (ord_session_kv_cache_bytes(session) / ord_session_capacity(session)));
  CHECK(st.kv_bytes_peak == st.kv_bytes_in_use);

  uint64_t p50 = 0, p100 = 0;
  REQUIRE(ord_session_decode_latency_percentile(session, 50.0, &p50) == ORD_OK);
  CHECK(p50 == st.decode_p50_ns);
  REQUIRE(ord_session_decode_latency_percentile(session, 100.0, &p100) == ORD_OK);
  CHECK(p100 == st.decode_max_ns);
  CHECK(ord_session_decode_latency_percentile(session, 101.0, &p50) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_decode_latency_percentile(session, std::nan(""), &p50) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_decode_latency_percentile(session, 50.0, nullptr) == ORD_INVALID_ARGUMENT);
  REQUIRE(ord_session_reset_stats(session) == ORD_OK);
  REQUIRE(ord_session_get_stats(session, &st) == ORD_OK);
  CHECK(st.tokens_decoded == 0);
  CHECK(st.failed_calls == 0);

  CHECK(ord_session_get_stats(nullptr, &st) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_get_stats(session, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_reset_stats(nullptr) == ORD_INVALID_ARGUMENT);
  ord_session_free(session);
  ord_model_free(model);
}

#ifdef ORDINAL_HAVE_TOOL_LIB
namespace {
std::string slurp(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string s;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}
}  // namespace

TEST_CASE("ordinal run --stats: stdout unchanged, the counters on stderr agree with the run") {
  SyntheticOptions o;
  const std::string model = temp_path("tel_cli.ordinal");
  REQUIRE(modelio::write_model(make_synthetic_model(o), model).ok());
  const std::string cli = ORDINAL_CLI_PATH, plain = temp_path("tel_cli_plain.out"),
                    with = temp_path("tel_cli_stats.out"), err = temp_path("tel_cli_stats.err");
  const std::string base = "'" + cli + "' run '" + model + "' -t 0 -n 40 -p 'the dog' --threads 1";
  REQUIRE(std::system((base + " > '" + plain + "' 2>/dev/null").c_str()) == 0);
  REQUIRE(std::system((base + " --stats > '" + with + "' 2> '" + err + "'").c_str()) == 0);
  CHECK(slurp(plain) == slurp(with));
  const std::string e = slurp(err);
  CAPTURE(e);
  unsigned long long prefilled = 0, calls = 0, decoded = 0, refused = 0, past = 0, numeric = 0, failed = 0;
  long long highest = -2;
  double p50 = -1, p95 = -1, p99 = -1;
  auto field = [&](const char* name) {
    const size_t at = e.find(name);
    REQUIRE_MESSAGE(at != std::string::npos, name);
    return e.c_str() + at + std::strlen(name);
  };
  REQUIRE(std::sscanf(field("tokens prefilled"), "%llu in %llu", &prefilled, &calls) == 2);
  REQUIRE(std::sscanf(field("tokens decoded"), "%llu", &decoded) == 1);
  REQUIRE(std::sscanf(field("decode latency"), " p50 %lf ms, p95 %lf ms, p99 %lf ms", &p50, &p95, &p99) == 3);
  REQUIRE(std::sscanf(field("positions"), " highest %lld; past the positional table %llu; refused %llu",
                      &highest, &past, &refused) == 3);
  REQUIRE(std::sscanf(field("errors"), " numeric %llu, other failed calls %llu", &numeric, &failed) == 2);
  CHECK(e.find("time to first token") != std::string::npos);
  CHECK(calls == 1);
  CHECK(prefilled >= 2);  // BOS + the prompt's tokens
  CHECK(decoded >= 1);
  CHECK(highest == static_cast<long long>(prefilled + decoded) - 1);
  CHECK(p50 > 0);
  CHECK(p50 <= p95);
  CHECK(p95 <= p99);
  CHECK(past == 0);
  CHECK(refused == 0);
  CHECK(numeric == 0);
  CHECK(failed == 0);
}
#endif
