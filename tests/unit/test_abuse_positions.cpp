// Positions at and past what a model addresses, up to INT32_MAX, for every scheme and out-of-table policy
// (docs/trust-boundary.md). The promise: a position below Model::position_limit() is computed with finite
// results; the first position at or past it is refused with kOutOfRange naming the position and policy,
// before anything is computed, so the session stays usable. Relative schemes give the same logits at any
// offset; fixed-point RoPE does too up to its trig bound.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "ordinal/quantize.hpp"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kComputedLimit = kInt32Max + 1;  // positions 0 .. 2^31 - 1
const std::vector<int32_t> kPrompt = {1, 84, 104, 101, 32, 100};

modelio::ModelSpec spec(PositionalScheme scheme, Architecture arch, uint32_t context = 16) {
  SyntheticOptions o;
  o.scheme = scheme;
  o.arch = arch;
  o.context = context;
  modelio::ModelSpec s = make_synthetic_model(o);
  if (scheme == PositionalScheme::kAlibi) s.positional.slopes_q32 = {1u << 31, 1u << 30, 1u << 29, 1u << 28};
  if (scheme == PositionalScheme::kRelativeBias) {
    TestRng rng(3);
    s.positional.table =
        modelio::HostTensor::f32("relative_attention_bias", {16, 4}, random_values(rng, 64, 1.0f));
    s.positional.num_buckets = 16;
    s.positional.max_distance = 64;
  }
  return s;
}

modelio::ModelSpec requantized(modelio::ModelSpec s, const std::string& pos) {
  cli::quantize::Options o;
  o.pos = pos;
  auto r = cli::quantize::apply_positional(s, o);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return s;
}

// The last `n` positions below `limit` compute finite logits; the next one is refused and changes nothing.
void run_up_to_limit(const std::shared_ptr<const Model>& m, int64_t limit, int64_t n = 3) {
  CHECK(m->position_limit() == limit);
  SessionOptions so;
  so.position_offset = limit - n;
  so.context_length = 32;
  auto s = session_for(m, so);
  std::vector<int32_t> toks(static_cast<size_t>(n), 70);
  REQUIRE(s->prefill(toks.data(), toks.size()).ok());
  CHECK(s->position() == limit);
  const std::vector<float> last = logits_of(*s);
  CHECK(all_finite(last));
  Status st = s->decode(71);
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK_MESSAGE(st.message().find("position " + std::to_string(limit) + " is beyond") != std::string::npos,
                st.message());
  CHECK(st.message().find("limit " + std::to_string(limit)) != std::string::npos);
  CHECK(s->position() == limit);
  CHECK(max_abs_diff(last, logits_of(*s)) == 0.0f);
  // A prompt that would cross the limit is refused whole, naming its last position.
  REQUIRE(s->reset(limit - 2).ok());
  std::vector<int32_t> four(4, 70);
  st = s->prefill(four.data(), four.size());
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK(st.message().find("position " + std::to_string(limit + 1)) != std::string::npos);
  CHECK(s->position() == limit - 2);
  CHECK(s->prefill(four.data(), 2).ok());
  // Offsets at or past the limit are refused by reset() and by create().
  CHECK(s->reset(limit).code() == ErrorCode::kOutOfRange);
  so.position_offset = limit;
  CHECK(Session::create(m, so).status().code() == ErrorCode::kOutOfRange);
}

}  // namespace

TEST_CASE("learned table, policy 'error': the table's rows are the limit") {
  modelio::ModelSpec s = spec(PositionalScheme::kLearnedTable, Architecture::kGPT2);
  auto m = load_spec(s, "pos_error.ordinal");
  run_up_to_limit(m, 16);
  SessionOptions so;
  so.context_length = 64;  // a cache larger than the table does not lift the limit
  auto sess = session_for(m, so);
  std::vector<int32_t> seventeen(17, 70);
  Status st = sess->prefill(seventeen.data(), seventeen.size());
  CHECK(st.code() == ErrorCode::kOutOfRange);
  CHECK(st.message().find("'error'") != std::string::npos);
}

TEST_CASE("learned table, policy 'interpolate': p / factor must stay within the rows") {
  modelio::ModelSpec s = spec(PositionalScheme::kLearnedTable, Architecture::kGPT2);
  s.positional.policy = detail::OutOfRangePolicy::kInterpolate;
  s.positional.interpolation_factor = 2.5f;
  auto m = load_spec(s, "pos_interp.ordinal");
  run_up_to_limit(m, 38);  // floor(15 * 2.5) + 1
}

TEST_CASE("table schemes with policy 'clamp' address every position up to INT32_MAX") {
  const modelio::ModelSpec learned = spec(PositionalScheme::kLearnedTable, Architecture::kGPT2);
  for (const std::string pos :
       {"f32", "int8-row", "int4-g16-zp", "codebook-4", "bucket-stride-3", "bucket-t5-8", "lowrank-4-int8"}) {
    CAPTURE(pos);
    modelio::ModelSpec s = requantized(learned, pos);
    s.positional.policy = detail::OutOfRangePolicy::kClamp;
    auto m = load_spec(s, "pos_clamp_" + pos + ".ordinal");
    run_up_to_limit(m, kComputedLimit);
    // Past the table every position reads the last row, so far offsets agree exactly with each other
    // (positions only enter through the embedding) and differ from the start of the table.
    const std::vector<float> far = logits_after(m, kPrompt, kInt32Max - 5);
    CHECK(max_abs_diff(far, logits_after(m, kPrompt, 1000)) == 0.0f);
    CHECK(max_abs_diff(far, logits_after(m, kPrompt, 0)) > 1e-4f);
  }
}

TEST_CASE("relative schemes (ALiBi, T5 bias, none) give identical logits at offset 0 and near INT32_MAX") {
  for (auto scheme : {PositionalScheme::kAlibi, PositionalScheme::kRelativeBias, PositionalScheme::kNone}) {
    const std::string name = positional_scheme_name(scheme);
    CAPTURE(name);
    auto m = load_spec(spec(scheme, Architecture::kGPT2),
                       std::string("pos_rel_") + positional_scheme_name(scheme) + ".ordinal");
    run_up_to_limit(m, kComputedLimit);
    CHECK(max_abs_diff(logits_after(m, kPrompt, 0), logits_after(m, kPrompt, kInt32Max - 5)) == 0.0f);
  }
  auto alibi = load_spec(spec(PositionalScheme::kAlibi, Architecture::kGPT2), "pos_rel_alibi2.ordinal");
  auto none = load_spec(spec(PositionalScheme::kNone, Architecture::kGPT2), "pos_rel_none2.ordinal");
  CHECK(max_abs_diff(logits_after(alibi, kPrompt), logits_after(none, kPrompt)) > 1e-4f);  // the bias is real
}

TEST_CASE(
    "RoPE at huge offsets: f32, Q15 and Q31 stay finite up to INT32_MAX; fixed point stays shift-invariant") {
  const modelio::ModelSpec base = spec(PositionalScheme::kRope, Architecture::kLlama);
  struct Case {
    const char* pos;
    float shift_tolerance;  // |logits(offset 0) - logits(offset ~2^31)|, < 0: not promised (float angles)
  };
  for (const Case& c : {Case{"rope-f32", -1.0f}, Case{"rope-q15", 2e-2f}, Case{"rope-q31", 1e-4f}}) {
    const std::string name = c.pos;
    CAPTURE(name);
    auto m = load_spec(requantized(base, c.pos), std::string("pos_") + c.pos + ".ordinal");
    run_up_to_limit(m, kComputedLimit);
    const std::vector<float> near = logits_after(m, kPrompt, 0);
    const std::vector<float> far = logits_after(m, kPrompt, kInt32Max - 5);
    CHECK(all_finite(far));
    const float drift = max_abs_diff(near, far);
    MESSAGE(name << ": logit drift between offset 0 and 2^31 - 6: " << drift);
    if (c.shift_tolerance >= 0.0f) CHECK(drift < c.shift_tolerance);
  }
  // Scaled RoPE (YaRN) too.
  modelio::ModelSpec yarn = base;
  cli::quantize::Options o;
  o.pos = "rope-q31";
  o.rope_scaling = "yarn:4,16";
  REQUIRE(cli::quantize::apply_positional(yarn, o).ok());
  run_up_to_limit(load_spec(yarn, "pos_rope_yarn.ordinal"), kComputedLimit);
}

TEST_CASE("sinusoidal (f32 and Q31) is finite up to INT32_MAX and refused past it") {
  const modelio::ModelSpec base = spec(PositionalScheme::kSinusoidal, Architecture::kGPT2);
  for (const std::string pos : {"sin-f32", "sin-q31"}) {
    CAPTURE(pos);
    run_up_to_limit(load_spec(requantized(base, pos), "pos_" + pos + ".ordinal"), kComputedLimit);
  }
}
