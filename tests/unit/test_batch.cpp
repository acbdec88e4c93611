// BatchSession (ordinal/batch.hpp): several sequences in one forward pass. For every positional scheme
// (the test model builder's rows, quantized and shared tables, RoPE in every precision and scaling, both
// architectures) and both KV cache types, each sequence's logits in a batch are bit-identical to a Session
// running it alone: mixed prompt lengths interleaved in one call, position offsets, explicit positions,
// decode steps, context shift, sequences closed/reopened/reset mid-stream, padded fixed-shape batches
// (padding attention ratio exactly 0), and integer weights. Each classic batching bug, injected through
// batch_fault.hpp, is caught by the same comparison.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "batch_fault.hpp"
#include "modelio/host_scheme.hpp"
#include "ordinal/batch.hpp"
#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"
#ifdef ORDINAL_HAVE_TOOL_LIB
#include "ordinal/quantize.hpp"
#endif

using namespace ordinal;

namespace {

constexpr uint32_t kContext = 64;

struct Variant {
  std::string name;
  std::shared_ptr<const Model> model;
  bool absolute = false;  // adds positions to the embedding: no shift
};

std::shared_ptr<const Model> load_spec(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = testing::temp_path("batch_" + name + ".ordinal");
  REQUIRE(modelio::write_model(spec, path).ok());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

bool is_absolute(PositionalScheme s) {
  return s == PositionalScheme::kLearnedTable || s == PositionalScheme::kCodebookTable ||
         s == PositionalScheme::kBucketedTable || s == PositionalScheme::kLowRankTable ||
         s == PositionalScheme::kHybridTable || s == PositionalScheme::kSinusoidal;
}

testing::SyntheticOptions base_options(PositionalScheme scheme, Architecture arch) {
  testing::SyntheticOptions o;
  o.scheme = scheme;
  o.arch = arch;
  o.hidden = 64;  // a multiple of 32: int4/int8 group weights apply to every layer
  o.context = kContext;
  return o;
}

// Every scheme of the builder for both architectures, then quantized/shared tables, RoPE precisions and
// scalings, int8 relative bias, and integer weights.
std::vector<Variant> variants() {
  std::vector<Variant> out;
  for (const testing::SyntheticPositional& b : testing::kSyntheticPositionals) {
    for (Architecture arch : {Architecture::kLlama, Architecture::kGPT2}) {
      const std::string name =
          std::string(positional_scheme_name(b.scheme)) + (arch == Architecture::kGPT2 ? "_gpt2" : "_llama");
      out.push_back({name, load_spec(testing::make_synthetic_model(base_options(b.scheme, arch)), name),
                     is_absolute(b.scheme)});
    }
  }
#ifdef ORDINAL_HAVE_TOOL_LIB
  struct Requant {
    PositionalScheme scheme;
    const char* pos;
    const char* scaling;
    const char* weights;
  };
  const Requant rq[] = {
      {PositionalScheme::kLearnedTable, "int8-row", "", "keep"},
      {PositionalScheme::kLearnedTable, "int4-g16", "", "keep"},
      {PositionalScheme::kLearnedTable, "codebook-4-int8", "", "keep"},
      {PositionalScheme::kLearnedTable, "bucket-stride-4", "", "keep"},
      {PositionalScheme::kLearnedTable, "lowrank-2-int8", "", "keep"},
      {PositionalScheme::kSinusoidal, "sin-q15", "", "keep"},
      {PositionalScheme::kSinusoidal, "sin-q31", "", "keep"},
      {PositionalScheme::kRope, "rope-q15", "", "keep"},
      {PositionalScheme::kRope, "rope-q31", "", "keep"},
      {PositionalScheme::kRope, "rope-f32", "linear:2", "keep"},
      {PositionalScheme::kRope, "rope-q15", "ntk:2", "keep"},
      {PositionalScheme::kRope, "rope-q31", "yarn:4,16", "keep"},
      {PositionalScheme::kRelativeBias, "int8", "", "keep"},
      {PositionalScheme::kRope, "", "", "int8"},
      {PositionalScheme::kRope, "rope-q15", "", "int4"},
      {PositionalScheme::kAlibi, "", "", "int8-g32"},
  };
  for (const Requant& r : rq) {
    modelio::ModelSpec spec = testing::make_synthetic_model(base_options(r.scheme, Architecture::kLlama));
    cli::quantize::Options o;
    o.pos = r.pos;
    o.rope_scaling = r.scaling;
    if (!o.pos.empty() || !o.rope_scaling.empty()) {
      auto rep = cli::quantize::apply_positional(spec, o);
      REQUIRE_MESSAGE(rep.ok(), r.pos, ": ", rep.status().to_string());
    }
    if (std::string(r.weights) != "keep") {
      auto w = cli::quantize::convert_weights(spec, r.weights);
      REQUIRE_MESSAGE(w.ok(), r.weights, ": ", w.status().to_string());
    }
    const std::string name = std::string(positional_scheme_name(r.scheme)) + "_" + r.pos + "_" +
                             (r.scaling[0] ? std::string(r.scaling).substr(0, 4) : "") + "_w" + r.weights;
    out.push_back({name, load_spec(spec, name), is_absolute(r.scheme)});
  }
  // Llama-3.1 scaling with partial rotary and the split-half layout (settings, as test_rope_variants).
  {
    testing::SyntheticOptions so = base_options(PositionalScheme::kRope, Architecture::kLlama);
    modelio::ModelSpec spec = testing::make_synthetic_model(so);
    modelio::HostPositional& p = spec.positional;
    p.rotary_dims = spec.config.head_dim / 2;
    p.rope_layout = detail::RopeLayoutKind::kSplitHalf;
    p.precision = detail::TrigPrecision::kQ31;
    p.scaling = detail::RopeScalingKind::kLlama3;
    p.scaling_factor = 4.0f;
    p.low_freq_factor = 1.0f;
    p.high_freq_factor = 4.0f;
    p.original_context = 16;
    REQUIRE(modelio::compute_rope_frequencies(spec.config.head_dim, &p).ok());
    out.push_back({"rope_llama3_partial", load_spec(spec, "rope_llama3_partial"), false});
  }
#endif
  return out;
}

const std::vector<Variant>& all_variants() {
  static const std::vector<Variant> v = variants();
  return v;
}

const Variant& variant_named(const std::string& name) {
  for (const Variant& v : all_variants()) {
    if (v.name == name) return v;
  }
  FAIL("no test variant named " << name);
  return all_variants().front();
}

std::vector<float> copy_logits(const float* p, size_t n) {
  REQUIRE(p != nullptr);
  return std::vector<float>(p, p + n);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// One sequence's script: a prompt at an offset, then decode tokens; optionally a shift after the prompt.
struct Script {
  std::vector<int32_t> prompt;
  int64_t offset = 0;
  std::vector<int32_t> decode;
  size_t shift_drop = 0, shift_keep = 0;  // applied after the prompt when shift_drop > 0
};

// The logits after the prompt and after each decode token, from a Session running the script alone.
std::vector<std::vector<float>> run_alone(const std::shared_ptr<const Model>& m, KvCacheType kv,
                                          const Script& s) {
  SessionOptions so;
  so.threads = 1;
  so.kv_cache = kv;
  so.context_length = kContext;
  so.position_offset = s.offset;
  auto sess = Session::create(m, so);
  REQUIRE_MESSAGE(sess.ok(), sess.status().to_string());
  Session& x = *sess.value();
  std::vector<std::vector<float>> out;
  REQUIRE(x.prefill(s.prompt.data(), s.prompt.size()).ok());
  if (s.shift_drop > 0) REQUIRE(x.shift(s.shift_drop, s.shift_keep).ok());
  out.push_back(copy_logits(x.logits(), x.vocab_size()));
  for (int32_t t : s.decode) {
    REQUIRE(x.decode(t).ok());
    out.push_back(copy_logits(x.logits(), x.vocab_size()));
  }
  return out;
}

std::vector<Script> scripts(bool with_shift) {
  std::vector<Script> s(3);
  s[0].prompt = {1, 84, 104, 101, 32, 100, 111, 103, 32, 97, 116};  // 11 tokens
  s[0].offset = 0;
  s[0].decode = {97, 101, 32, 110};
  s[1].prompt = {1, 79, 110, 99};  // 4 tokens at offset 7
  s[1].offset = 7;
  s[1].decode = {101, 32, 117};
  s[2].prompt = {1, 72, 105, 33, 32, 119, 104};  // 7 tokens
  s[2].offset = 0;
  s[2].decode = {111, 32, 97, 114, 101};
  if (with_shift) {
    s[0].shift_drop = 3;
    s[0].shift_keep = 2;
    s[2].shift_drop = 2;
    s[2].shift_keep = 0;
  }
  return s;
}

struct BatchRun {
  std::vector<std::vector<std::vector<float>>> logits;  // [sequence][step]
  double padding_ratio = 0;
};

BatchOptions batch_options(KvCacheType kv, uint32_t threads) {
  BatchOptions bo;
  bo.threads = threads;
  bo.max_sequences = 4;
  bo.context_length = kContext;
  bo.max_batch_tokens = 64;
  bo.kv_cache = kv;
  bo.audit_padding_attention = true;
  return bo;
}

// The scripts together: every prompt in one call with tokens interleaved round-robin (sequence 1 by
// explicit positions), or as one padded fixed-shape call; then decode steps of one token per sequence
// still decoding (so the batch shrinks as the shorter scripts end).
BatchRun run_batched(const std::shared_ptr<const Model>& m, KvCacheType kv, const std::vector<Script>& sc,
                     uint32_t threads, bool padded, detail::BatchFault fault = detail::BatchFault::kNone) {
  auto created = BatchSession::create(m, batch_options(kv, threads));
  REQUIRE_MESSAGE(created.ok(), created.status().to_string());
  BatchSession& b = *created.value();
  detail::set_batch_fault(b, fault);
  std::vector<int32_t> ids;
  for (const Script& s : sc) {
    auto id = b.open_sequence(s.offset);
    REQUIRE(id.ok());
    ids.push_back(id.value());
  }
  if (padded) {
    // Row r: left padding for row 0, right for row 1, a gap in the middle for row 2 (padding anywhere).
    size_t cols = 0;
    for (const Script& s : sc) cols = std::max(cols, s.prompt.size() + 2);
    std::vector<int32_t> tokens(sc.size() * cols, 0);
    std::vector<uint8_t> real(sc.size() * cols, 0);
    for (size_t r = 0; r < sc.size(); ++r) {
      const size_t len = sc[r].prompt.size(), pad = cols - len;
      for (size_t k = 0; k < len; ++k) {
        size_t c = k;
        if (r % 3 == 0) c = pad + k;
        if (r % 3 == 2) c = k < len / 2 ? k : k + pad;
        tokens[r * cols + c] = sc[r].prompt[k];
        real[r * cols + c] = 1;
      }
      for (size_t c = 0; c < cols; ++c)
        if (!real[r * cols + c]) tokens[r * cols + c] = 3 + static_cast<int32_t>((r * 7 + c) % 200);
    }
    REQUIRE(b.forward_padded(tokens.data(), real.data(), sc.size(), cols, ids.data()).ok());
  } else {
    std::vector<int32_t> tokens, seqs;
    std::vector<int64_t> positions;
    for (size_t k = 0;; ++k) {
      bool any = false;
      for (size_t r = 0; r < sc.size(); ++r) {
        if (k >= sc[r].prompt.size()) continue;
        any = true;
        tokens.push_back(sc[r].prompt[k]);
        seqs.push_back(ids[r]);
        positions.push_back(sc[r].offset + static_cast<int64_t>(k));
      }
      if (!any) break;
    }
    Batch bt;
    bt.tokens = tokens.data();
    bt.sequences = seqs.data();
    bt.positions = positions.data();
    bt.count = tokens.size();
    const Status st = b.forward(bt);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
  }
  BatchRun out;
  out.logits.resize(sc.size());
  for (size_t r = 0; r < sc.size(); ++r) {
    if (sc[r].shift_drop > 0) REQUIRE(b.shift_sequence(ids[r], sc[r].shift_drop, sc[r].shift_keep).ok());
    out.logits[r].push_back(copy_logits(b.sequence_logits(ids[r]), b.vocab_size()));
  }
  for (size_t step = 0;; ++step) {
    std::vector<int32_t> tokens, seqs;
    std::vector<size_t> rows;
    for (size_t r = 0; r < sc.size(); ++r) {
      if (step >= sc[r].decode.size()) continue;
      tokens.push_back(sc[r].decode[step]);
      seqs.push_back(ids[r]);
      rows.push_back(r);
    }
    if (tokens.empty()) break;
    Batch bt;
    bt.tokens = tokens.data();
    bt.sequences = seqs.data();
    bt.count = tokens.size();
    REQUIRE(b.forward(bt).ok());
    for (size_t i = 0; i < rows.size(); ++i) {
      out.logits[rows[i]].push_back(copy_logits(b.logits(i), b.vocab_size()));
      CHECK(same_bits(copy_logits(b.logits(i), b.vocab_size()),
                      copy_logits(b.sequence_logits(seqs[i]), b.vocab_size())));
    }
  }
  out.padding_ratio = b.padding_attention_ratio();
  return out;
}

// True when every step of every sequence has the bits of the solo run.
bool identical(const BatchRun& run, const std::vector<std::vector<std::vector<float>>>& alone) {
  for (size_t r = 0; r < alone.size(); ++r) {
    if (run.logits[r].size() != alone[r].size()) return false;
    for (size_t k = 0; k < alone[r].size(); ++k)
      if (!same_bits(run.logits[r][k], alone[r][k])) return false;
  }
  return true;
}

std::vector<std::vector<std::vector<float>>> alone_all(const Variant& v, KvCacheType kv,
                                                       const std::vector<Script>& sc) {
  std::vector<std::vector<std::vector<float>>> out;
  for (const Script& s : sc) out.push_back(run_alone(v.model, kv, s));
  return out;
}

}  // namespace

TEST_CASE("batched logits are bit-identical to each sequence alone, for every scheme and cache type") {
  int checked = 0;
  for (const Variant& v : all_variants()) {
    for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
      CAPTURE(v.name);
      CAPTURE(kv_cache_type_name(kv));
      const std::vector<Script> sc = scripts(false);
      const auto alone = alone_all(v, kv, sc);
      const BatchRun one = run_batched(v.model, kv, sc, 1, false);
      CHECK(identical(one, alone));
      const BatchRun two = run_batched(v.model, kv, sc, 2, false);  // threads split tokens and rows
      CHECK(identical(two, alone));
      const BatchRun padded = run_batched(v.model, kv, sc, 1, true);
      CHECK(identical(padded, alone));
      CHECK(padded.padding_ratio == 0.0);
      ++checked;
    }
  }
  CHECK(checked >= 2 * 2 * (static_cast<int>(PositionalScheme::kRelativeBias) + 1));
}

TEST_CASE("context shift of one sequence in a batch equals shift alone; absolute schemes refuse it") {
  for (const Variant& v : all_variants()) {
    CAPTURE(v.name);
    for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
      CAPTURE(kv_cache_type_name(kv));
      if (v.absolute) {
        auto b = BatchSession::create(v.model, batch_options(kv, 1));
        REQUIRE(b.ok());
        auto id = b.value()->open_sequence(0);
        REQUIRE(id.ok());
        const int32_t toks[4] = {1, 84, 104, 101};
        const int32_t seqs[4] = {id.value(), id.value(), id.value(), id.value()};
        Batch bt;
        bt.tokens = toks;
        bt.sequences = seqs;
        bt.count = 4;
        REQUIRE(b.value()->forward(bt).ok());
        CHECK(b.value()->shift_sequence(id.value(), 1, 1).code() == ErrorCode::kUnsupported);
        CHECK(b.value()->cached_tokens(id.value()) == 4);
        continue;
      }
      const std::vector<Script> sc = scripts(true);
      const auto alone = alone_all(v, kv, sc);
      CHECK(identical(run_batched(v.model, kv, sc, 1, false), alone));
    }
  }
}

TEST_CASE("each injected batching bug is caught by the bit-identity or padding checks") {
  for (const Variant& v : all_variants()) {
    CAPTURE(v.name);
    const KvCacheType kv = KvCacheType::kF32;
    const std::vector<Script> sc = scripts(false);
    const auto alone = alone_all(v, kv, sc);
    CHECK_FALSE(identical(run_batched(v.model, kv, sc, 1, false, detail::BatchFault::kNoCausalMask), alone));
    CHECK_FALSE(identical(run_batched(v.model, kv, sc, 1, false, detail::BatchFault::kCrossSequence), alone));
    const bool positional = v.model->positional_scheme() != PositionalScheme::kNone;
    if (positional) {
      // Positions are ignored by a position-free model: nothing to break there.
      CHECK_FALSE(
          identical(run_batched(v.model, kv, sc, 1, false, detail::BatchFault::kBatchIndexPositions), alone));
    }
    const BatchRun leaked = run_batched(v.model, kv, sc, 1, true, detail::BatchFault::kPaddingAttended);
    CHECK(leaked.padding_ratio > 0.0);
    CHECK_FALSE(identical(leaked, alone));
  }
}

TEST_CASE("sequences are opened, finished, reset and restarted independently") {
  const Variant& v = variant_named("rope_llama");  // rope, llama
  REQUIRE(v.model->positional_scheme() == PositionalScheme::kRope);
  for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
    auto created = BatchSession::create(v.model, batch_options(kv, 2));
    REQUIRE(created.ok());
    BatchSession& b = *created.value();
    const std::vector<Script> sc = scripts(false);
    auto a = b.open_sequence(0), c = b.open_sequence(7);
    REQUIRE(a.ok());
    REQUIRE(c.ok());
    CHECK(a.value() == 0);
    CHECK(c.value() == 1);
    auto feed = [&](int32_t id, const std::vector<int32_t>& t) {
      std::vector<int32_t> seqs(t.size(), id);
      Batch bt;
      bt.tokens = t.data();
      bt.sequences = seqs.data();
      bt.count = t.size();
      REQUIRE(b.forward(bt).ok());
    };
    feed(a.value(), sc[0].prompt);
    feed(c.value(), sc[1].prompt);
    // Finish sequence 0; a new one takes its id and starts fresh at offset 0.
    REQUIRE(b.close_sequence(a.value()).ok());
    CHECK_FALSE(b.is_open(a.value()));
    CHECK(b.sequence_logits(a.value()) == nullptr);
    auto d = b.open_sequence(0);
    REQUIRE(d.ok());
    CHECK(d.value() == a.value());
    CHECK(b.cached_tokens(d.value()) == 0);
    feed(d.value(), sc[2].prompt);
    CHECK(same_bits(copy_logits(b.sequence_logits(d.value()), b.vocab_size()),
                    run_alone(v.model, kv, sc[2])[0]));
    // Sequence 1 was untouched by the close/open next to it.
    CHECK(same_bits(copy_logits(b.sequence_logits(c.value()), b.vocab_size()),
                    run_alone(v.model, kv, sc[1])[0]));
    CHECK(b.position(c.value()) == 7 + static_cast<int64_t>(sc[1].prompt.size()));
    // Reset sequence 1 to offset 7 and run script 1 again: the same logits.
    REQUIRE(b.reset_sequence(c.value(), 7).ok());
    CHECK(b.cached_tokens(c.value()) == 0);
    feed(c.value(), sc[1].prompt);
    CHECK(same_bits(copy_logits(b.sequence_logits(c.value()), b.vocab_size()),
                    run_alone(v.model, kv, sc[1])[0]));
    // Positions given explicitly start an empty sequence anywhere.
    REQUIRE(b.reset_sequence(c.value(), 0).ok());
    std::vector<int64_t> pos;
    for (size_t k = 0; k < sc[1].prompt.size(); ++k) pos.push_back(7 + static_cast<int64_t>(k));
    std::vector<int32_t> seqs(sc[1].prompt.size(), c.value());
    Batch bt;
    bt.tokens = sc[1].prompt.data();
    bt.sequences = seqs.data();
    bt.positions = pos.data();
    bt.count = pos.size();
    REQUIRE(b.forward(bt).ok());
    CHECK(same_bits(copy_logits(b.sequence_logits(c.value()), b.vocab_size()),
                    run_alone(v.model, kv, sc[1])[0]));
  }
}

TEST_CASE("bad batches are refused before anything changes") {
  const Variant& v = variant_named("rope_llama");
  BatchOptions bo = batch_options(KvCacheType::kF32, 1);
  bo.max_batch_tokens = 8;
  bo.max_sequences = 2;
  bo.context_length = 6;
  auto created = BatchSession::create(v.model, bo);
  REQUIRE(created.ok());
  BatchSession& b = *created.value();
  auto a = b.open_sequence(0);
  REQUIRE(a.ok());
  const int32_t t4[4] = {1, 84, 104, 101};
  int32_t s4[4] = {0, 0, 0, 0};
  Batch bt;
  bt.tokens = t4;
  bt.sequences = s4;
  bt.count = 4;
  REQUIRE(b.forward(bt).ok());
  const std::vector<float> before = copy_logits(b.sequence_logits(0), b.vocab_size());
  auto refused = [&](const Batch& x, ErrorCode code) {
    const Status st = b.forward(x);
    CHECK(st.code() == code);
    CHECK(b.cached_tokens(0) == 4);
    CHECK(same_bits(copy_logits(b.sequence_logits(0), b.vocab_size()), before));
  };
  int32_t bad_tok[1] = {100000};
  int32_t s0[1] = {0};
  Batch x;
  x.tokens = bad_tok;
  x.sequences = s0;
  x.count = 1;
  refused(x, ErrorCode::kInvalidArgument);  // token outside the vocabulary
  int32_t s1[1] = {1};
  x.tokens = t4;
  x.sequences = s1;
  refused(x, ErrorCode::kInvalidArgument);  // sequence 1 not open
  int32_t s9[1] = {9};
  x.sequences = s9;
  refused(x, ErrorCode::kInvalidArgument);  // id out of range
  int64_t wrong_pos[1] = {2};
  x.sequences = s0;
  x.positions = wrong_pos;
  refused(x, ErrorCode::kInvalidArgument);  // not the sequence's next position
  x.positions = nullptr;
  const int32_t t3[3] = {1, 2, 3};
  const int32_t s3[3] = {0, 0, 0};
  x.tokens = t3;
  x.sequences = s3;
  x.count = 3;
  refused(x, ErrorCode::kCapacityExceeded);  // 4 + 3 > 6 slots
  std::vector<int32_t> t9(9, 5), s9v(9, 0);
  x.tokens = t9.data();
  x.sequences = s9v.data();
  x.count = 9;
  refused(x, ErrorCode::kCapacityExceeded);  // over max_batch_tokens
  x.count = 0;
  refused(x, ErrorCode::kInvalidArgument);
  // Two sequences open: a third cannot be; bad ids for the sequence calls.
  REQUIRE(b.open_sequence(0).ok());
  CHECK(b.open_sequence(0).status().code() == ErrorCode::kCapacityExceeded);
  CHECK(b.close_sequence(5).code() == ErrorCode::kInvalidArgument);
  CHECK(b.reset_sequence(-1).code() == ErrorCode::kInvalidArgument);
  CHECK(b.shift_sequence(0, 0).code() == ErrorCode::kInvalidArgument);
  CHECK(b.shift_sequence(0, 5).code() == ErrorCode::kInvalidArgument);
  CHECK(b.open_sequence(-3).status().code() == ErrorCode::kInvalidArgument);
  // Only padding: nothing runs, nothing changes.
  const int32_t pad_seq[2] = {kPaddingSequence, kPaddingSequence};
  x.tokens = t4;
  x.sequences = pad_seq;
  x.count = 2;
  CHECK(b.forward(x).ok());
  CHECK(b.cached_tokens(0) == 4);
  CHECK(b.logits(0) == nullptr);
}

TEST_CASE("the batch memory plan covers what the session allocates, and a budget refuses it") {
  const Variant& v = variant_named("rope_llama");
  for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
    BatchOptions bo = batch_options(kv, 2);
    auto planned = v.model->session_bytes(bo);
    REQUIRE(planned.ok());
    auto b = BatchSession::create(v.model, bo);
    REQUIRE(b.ok());
    CHECK(planned.value() >= b.value()->memory_bytes());
    CHECK(planned.value() < b.value()->memory_bytes() + 4096);
    // The KV cache holds every sequence's slots.
    SessionOptions so;
    so.context_length = kContext;
    so.kv_cache = kv;
    auto s = Session::create(v.model, so);
    REQUIRE(s.ok());
    CHECK(b.value()->kv_cache_bytes() == bo.max_sequences * s.value()->kv_cache_bytes());
    bo.memory_budget = planned.value() - 1;
    CHECK(BatchSession::create(v.model, bo).status().code() == ErrorCode::kOutOfMemory);
  }
  BatchOptions bad;
  bad.max_sequences = 0;
  CHECK(v.model->session_bytes(bad).status().code() == ErrorCode::kInvalidArgument);
  bad = BatchOptions();
  bad.max_outputs = bad.max_batch_tokens + 1;
  CHECK(BatchSession::create(v.model, bad).status().code() == ErrorCode::kInvalidArgument);
}
