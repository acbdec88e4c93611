// Every positional scheme, selected by the model file, runs through the decoder: build on the host ->
// write -> load -> run. Equivalent encodings give the same logits; fixed-point variants track their
// float references (token agreement and logit error).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

std::shared_ptr<const Model> load(const modelio::ModelSpec& spec, const std::string& name) {
  std::string path = testing::temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

struct Trace {
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> logits;
};

// Greedy continuation of a fixed prompt, recording logits at every step.
Trace trace(const std::shared_ptr<const Model>& m, int steps, int64_t offset = 0) {
  SessionOptions so;
  so.threads = 1;
  so.position_offset = offset;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  std::vector<int32_t> prompt = {1, 84, 104, 101, 32, 100, 111, 103};
  REQUIRE(s.value()->prefill(prompt.data(), prompt.size()).ok());
  Trace t;
  for (int i = 0; i < steps; ++i) {
    const float* l = s.value()->logits();
    t.logits.emplace_back(l, l + s.value()->vocab_size());
    int32_t next = Sampler::argmax(l, s.value()->vocab_size());
    t.tokens.push_back(next);
    REQUIRE(s.value()->decode(next).ok());
  }
  return t;
}

float max_logit_error(const Trace& a, const Trace& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.logits.size() && i < b.logits.size(); ++i) {
    for (size_t j = 0; j < a.logits[i].size(); ++j)
      m = std::max(m, std::fabs(a.logits[i][j] - b.logits[i][j]));
  }
  return m;
}

// theta_j / 2pi as a fraction of a turn, rounded to nearest (reference construction in long double).
std::vector<uint64_t> turn_frequencies(double base, uint32_t dims) {
  std::vector<uint64_t> f(dims / 2);
  const long double two_pi = 6.283185307179586476925286766559L;
  for (uint32_t j = 0; j < dims / 2; ++j) {
    long double theta = std::pow(static_cast<long double>(base), -2.0L * j / dims);
    f[j] = static_cast<uint64_t>(std::llround(theta / two_pi * 18446744073709551616.0L / 2.0L)) * 2;
  }
  return f;
}

testing::SyntheticOptions options(PositionalScheme scheme, Architecture arch) {
  testing::SyntheticOptions o;
  o.scheme = scheme;
  o.arch = arch;
  o.dim = 64;
  o.heads = 4;
  o.kv_heads = 2;
  o.hidden = 96;
  o.context = 96;
  o.weight_scale = 0.35f;
  return o;
}

}  // namespace

TEST_CASE("RoPE Q31 and Q15 track the f32 model; split-half and interleaved layouts") {
  for (auto layout : {detail::RopeLayoutKind::kInterleaved, detail::RopeLayoutKind::kSplitHalf}) {
    modelio::ModelSpec spec =
        testing::make_synthetic_model(options(PositionalScheme::kRope, Architecture::kLlama));
    spec.positional.rope_layout = layout;
    Trace ref = trace(load(spec, "rope_f32.ordinal"), 40);
    spec.positional.frequencies = turn_frequencies(10000.0, spec.config.head_dim);
    spec.positional.precision = detail::TrigPrecision::kQ31;
    Trace q31 = trace(load(spec, "rope_q31.ordinal"), 40);
    spec.positional.precision = detail::TrigPrecision::kQ15;
    Trace q15 = trace(load(spec, "rope_q15.ordinal"), 40);
    CHECK(max_logit_error(ref, q31) < 1e-4f);
    CHECK(max_logit_error(ref, q15) < 2e-2f);
    CHECK(q31.tokens == ref.tokens);
    MESSAGE("layout " << static_cast<int>(layout) << ": max |logit error| q31 " << max_logit_error(ref, q31)
                      << ", q15 " << max_logit_error(ref, q15));
  }
}

TEST_CASE("fixed-point RoPE is exactly shift-invariant far from the origin; f32 angles are not") {
  modelio::ModelSpec spec =
      testing::make_synthetic_model(options(PositionalScheme::kRope, Architecture::kLlama));
  spec.positional.frequencies = turn_frequencies(10000.0, spec.config.head_dim);
  spec.positional.precision = detail::TrigPrecision::kQ31;
  auto fixed = load(spec, "rope_shift_q31.ordinal");
  Trace near = trace(fixed, 24, 0);
  Trace far = trace(fixed, 24, 1000000);
  // Relative positions are identical, so logits agree up to the Q31 trig bound.
  CHECK(max_logit_error(near, far) < 1e-4f);
  CHECK(near.tokens == far.tokens);
  spec.positional.precision = detail::TrigPrecision::kF32;
  spec.positional.frequencies.clear();
  auto f32 = load(spec, "rope_shift_f32.ordinal");
  float drift = max_logit_error(trace(f32, 24, 0), trace(f32, 24, 1000000));
  MESSAGE("f32 RoPE logit drift at offset 1e6: " << drift);
  CHECK(drift > 10 * max_logit_error(near, far));
}

TEST_CASE("equivalent table encodings give identical logits: learned, codebook, stride-1 bucket, full-rank") {
  modelio::ModelSpec spec =
      testing::make_synthetic_model(options(PositionalScheme::kLearnedTable, Architecture::kGPT2));
  const uint32_t P = spec.config.max_positions, D = spec.config.dim;
  Trace ref = trace(load(spec, "tab_learned.ordinal"), 30);
  modelio::HostTensor table = spec.positional.table;

  modelio::ModelSpec cb = spec;
  cb.positional = modelio::HostPositional();
  cb.positional.scheme = PositionalScheme::kCodebookTable;
  cb.positional.codebook = table;
  cb.positional.indices.name = "pos_index";
  cb.positional.indices.dtype = format::DType::kU16;
  cb.positional.indices.shape = {P};
  for (uint32_t p = 0; p < P; ++p) {
    cb.positional.indices.data.push_back(static_cast<uint8_t>(p & 0xFF));
    cb.positional.indices.data.push_back(static_cast<uint8_t>(p >> 8));
  }
  CHECK(max_logit_error(ref, trace(load(cb, "tab_codebook.ordinal"), 30)) == 0.0f);

  modelio::ModelSpec bk = spec;
  bk.positional = modelio::HostPositional();
  bk.positional.scheme = PositionalScheme::kBucketedTable;
  bk.positional.table = table;
  bk.positional.stride = 1;
  bk.positional.positions = P;
  CHECK(max_logit_error(ref, trace(load(bk, "tab_bucket.ordinal"), 30)) == 0.0f);

  modelio::ModelSpec lr = spec;
  lr.positional = modelio::HostPositional();
  lr.positional.scheme = PositionalScheme::kLowRankTable;
  lr.positional.low_a = table;  // A = table [P, D], B = identity [D, D]
  lr.positional.low_a.shape = {P, D};
  std::vector<float> eye(size_t{D} * D, 0.0f);
  for (uint32_t i = 0; i < D; ++i) eye[i * D + i] = 1.0f;
  lr.positional.low_b = modelio::HostTensor::f32("pos_b", {D, D}, eye);
  CHECK(max_logit_error(ref, trace(load(lr, "tab_lowrank.ordinal"), 30)) < 1e-5f);

  // A coarser stride shares positions: a different model, visibly.
  bk.positional.stride = 4;
  bk.positional.table.shape = {P / 4, D};
  bk.positional.table.data.resize(size_t{P / 4} * D * 4);
  CHECK(max_logit_error(ref, trace(load(bk, "tab_bucket4.ordinal"), 30)) > 1e-3f);
}

TEST_CASE("int8 per-row tables dequantize into the embedding within half a step") {
  modelio::ModelSpec spec =
      testing::make_synthetic_model(options(PositionalScheme::kLearnedTable, Architecture::kGPT2));
  Trace ref = trace(load(spec, "q_learned.ordinal"), 20);
  const std::vector<float> t = spec.positional.table.to_f32();
  const uint32_t P = spec.positional.table.shape[0], D = spec.positional.table.shape[1];
  modelio::HostTensor q8;
  q8.name = "wpe_int8";
  q8.dtype = format::DType::kI8;
  q8.shape = {P, D};
  q8.granularity = format::QuantGranularity::kPerRow;
  for (uint32_t p = 0; p < P; ++p) {
    float amax = 0.0f;
    for (uint32_t j = 0; j < D; ++j) amax = std::max(amax, std::fabs(t[p * D + j]));
    float scale = amax / 127.0f;
    uint8_t b[4];
    std::memcpy(b, &scale, 4);
    q8.scales.insert(q8.scales.end(), b, b + 4);
    for (uint32_t j = 0; j < D; ++j) {
      q8.data.push_back(static_cast<uint8_t>(static_cast<int8_t>(std::lround(t[p * D + j] / scale))));
    }
  }
  modelio::ModelSpec s8 = spec;
  s8.positional.table = q8;
  Trace t8 = trace(load(s8, "q_int8.ordinal"), 20);
  float err8 = max_logit_error(ref, t8);
  CHECK(err8 > 0.0f);
  CHECK(err8 < 0.1f);  // random weights amplify; the table-level bound below is the exact one
  // The dequantized table itself is within half a step of the original everywhere.
  std::vector<float> back = q8.to_f32();
  for (uint32_t p = 0; p < P; ++p) {
    float scale;
    std::memcpy(&scale, q8.scales.data() + 4 * p, 4);
    for (uint32_t j = 0; j < D; ++j) CHECK(std::fabs(back[p * D + j] - t[p * D + j]) <= 0.5f * scale + 1e-7f);
  }
}

TEST_CASE("sinusoidal: fixed-point Q31 tracks f32; ALiBi runs causal and symmetric forms") {
  modelio::ModelSpec spec =
      testing::make_synthetic_model(options(PositionalScheme::kSinusoidal, Architecture::kGPT2));
  Trace ref = trace(load(spec, "sin_f32.ordinal"), 20);
  std::vector<uint64_t> f(spec.config.dim / 2);
  const long double two_pi = 6.283185307179586476925286766559L;
  for (uint32_t i = 0; i < f.size(); ++i) {
    long double w = std::pow(10000.0L, -2.0L * i / spec.config.dim);
    f[i] = static_cast<uint64_t>(std::llround(w / two_pi * 9223372036854775808.0L)) * 2;
  }
  spec.positional.frequencies = f;
  spec.positional.precision = detail::TrigPrecision::kQ31;
  Trace q31 = trace(load(spec, "sin_q31.ordinal"), 20);
  CHECK(max_logit_error(ref, q31) < 1e-4f);
  CHECK(ref.tokens == q31.tokens);

  modelio::ModelSpec al =
      testing::make_synthetic_model(options(PositionalScheme::kAlibi, Architecture::kGPT2));
  al.positional.slopes_q32 = {1u << 31, 1u << 30, 1u << 29, 1u << 28};  // 2^-1 .. 2^-4 (4 heads)
  Trace causal = trace(load(al, "alibi_causal.ordinal"), 20);
  modelio::ModelSpec none = al;
  none.positional = modelio::HostPositional();
  Trace nopos = trace(load(none, "alibi_none.ordinal"), 20);
  CHECK(max_logit_error(causal, nopos) > 1e-3f);  // the bias changes the computation
  al.positional.alibi_form = detail::AlibiFormKind::kSymmetric;
  Trace sym = trace(load(al, "alibi_sym.ordinal"), 20);
  CHECK(max_logit_error(causal, sym) == 0.0f);  // for causal attention |i-j| = i-j
}

TEST_CASE("T5 relative bias: f32 and int8 tables; T5-bucketed absolute tables") {
  modelio::ModelSpec spec =
      testing::make_synthetic_model(options(PositionalScheme::kRelativeBias, Architecture::kGPT2));
  const uint32_t nb = 32, H = spec.config.n_heads;
  testing::TestRng rng(99);
  std::vector<float> table = testing::random_values(rng, size_t{nb} * H, 2.0f);
  spec.positional.table = modelio::HostTensor::f32("relative_attention_bias", {nb, H}, table);
  spec.positional.num_buckets = nb;
  spec.positional.max_distance = 128;
  Trace f32 = trace(load(spec, "relbias_f32.ordinal"), 20);
  modelio::ModelSpec none = spec;
  none.positional = modelio::HostPositional();
  CHECK(max_logit_error(f32, trace(load(none, "relbias_none.ordinal"), 20)) > 1e-3f);

  // int8, one scale per head (column).
  modelio::ModelSpec q = spec;
  modelio::HostTensor& t = q.positional.table;
  t.dtype = format::DType::kI8;
  t.granularity = format::QuantGranularity::kPerColumn;
  t.data.assign(size_t{nb} * H, 0);
  t.scales.clear();
  for (uint32_t h = 0; h < H; ++h) {
    float amax = 0.0f;
    for (uint32_t b = 0; b < nb; ++b) amax = std::max(amax, std::fabs(table[b * H + h]));
    const float scale = amax / 127.0f;
    uint8_t sb[4];
    std::memcpy(sb, &scale, 4);
    t.scales.insert(t.scales.end(), sb, sb + 4);
    for (uint32_t b = 0; b < nb; ++b) {
      t.data[b * H + h] = static_cast<uint8_t>(static_cast<int8_t>(std::lround(table[b * H + h] / scale)));
    }
  }
  Trace i8 = trace(load(q, "relbias_int8.ordinal"), 20);
  const float err = max_logit_error(f32, i8);
  CHECK(err > 0.0f);
  CHECK(err < 0.05f);
  CHECK(i8.tokens == f32.tokens);

  // Bucketed absolute table with the T5 rule: 16 rows cover positions up to 96 (exact below 8).
  modelio::ModelSpec bk =
      testing::make_synthetic_model(options(PositionalScheme::kLearnedTable, Architecture::kGPT2));
  modelio::HostTensor full = bk.positional.table;
  bk.positional = modelio::HostPositional();
  bk.positional.scheme = PositionalScheme::kBucketedTable;
  bk.positional.bucket_rule = detail::BucketRuleKind::kT5Log;
  bk.positional.num_buckets = 16;
  bk.positional.max_distance = 96;
  bk.positional.positions = 96;
  bk.positional.table = full;
  bk.positional.table.shape = {16, full.shape[1]};
  bk.positional.table.data.resize(size_t{16} * full.shape[1] * 4);
  Trace b = trace(load(bk, "bucket_t5.ordinal"), 30);
  CHECK(b.tokens.size() == 30);
}
