// Hybrid position tables (issue 18): exact int8 rows for positions < K, a low-rank int8 tail. File round
// trip, the runtime's rows against the host's reconstruction (bit for bit) and a double-precision
// reference, hostile files, and --search choosing the form when it is the smallest that passes.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "modelio/host_scheme.hpp"
#include "ordinal/hybrid_quantize.hpp"
#include "ordinal/position_search.hpp"
#include "ordinal/quantize.hpp"
#include "positional/encoder.hpp"
#include "quant/hybrid.hpp"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

constexpr uint32_t kHead = 8, kRank = 2;

// A GPT-2-style model whose learned table is K random rows followed by an exactly rank-2 tail: the hybrid
// form can represent it up to int8 rounding, a plain low-rank table cannot.
modelio::ModelSpec structured_model() {
  SyntheticOptions o;
  o.arch = Architecture::kGPT2;
  o.scheme = PositionalScheme::kLearnedTable;
  o.dim = 32;
  o.heads = 4;
  o.kv_heads = 4;
  o.hidden = 64;
  o.layers = 1;
  o.context = 64;
  modelio::ModelSpec spec = make_synthetic_model(o);
  std::vector<float> t = spec.positional.table.to_f32();
  TestRng rng(7);
  const std::vector<float> a = random_values(rng, size_t{o.context} * kRank, 1.0f);
  const std::vector<float> b = random_values(rng, size_t{kRank} * o.dim, 0.3f);
  for (uint32_t p = kHead; p < o.context; ++p)
    for (uint32_t j = 0; j < o.dim; ++j)
      t[p * o.dim + j] = a[p * kRank] * b[j] + a[p * kRank + 1] * b[o.dim + j];
  spec.positional.table = modelio::HostTensor::f32("positional.table", {o.context, o.dim}, t);
  return spec;
}

std::vector<float> rows_of(const Model& m) {
  auto enc = positional::PositionalEncoder::create(ordinal::detail::model_data(m));
  REQUIRE_MESSAGE(enc.ok(), enc.status().to_string());
  const uint32_t P = enc->stored_positions(), D = m.config().dim;
  std::vector<float> rows(size_t{P} * D), scratch(enc->scratch_floats());
  for (uint32_t p = 0; p < P; ++p) enc->stored_row(p, &rows[size_t{p} * D], scratch.data());
  return rows;
}

std::string load_error(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = temp_path(name);
  Status st = modelio::write_model(spec, path);
  if (!st.ok()) return "writer: " + st.message();
  auto m = Model::load(path);
  return m.ok() ? std::string() : m.status().message();
}

}  // namespace

TEST_CASE("hybrid table: file round trip, runtime rows == host reconstruction, close to a double reference") {
  modelio::ModelSpec spec = structured_model();
  const std::vector<float> original = spec.positional.table.to_f32();
  const uint32_t P = spec.config.max_positions, D = spec.config.dim;
  cli::quantize::Options o;
  o.pos = "hybrid-8-lowrank-2";
  auto r = cli::quantize::apply_positional(spec, o);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  REQUIRE(spec.positional.scheme == PositionalScheme::kHybridTable);
  // Before anything is written: the host's view through the runtime module.
  auto host_rows = modelio::runtime_position_rows(spec);
  REQUIRE(host_rows.ok());

  auto m = load_spec(spec, "hybrid_roundtrip.ordinal");
  REQUIRE(m->positional_scheme() == PositionalScheme::kHybridTable);
  const detail::PositionalParams& pp = ordinal::detail::model_data(*m).positional;
  CHECK(pp.head_rows == kHead);
  CHECK(pp.stored_positions == P);
  CHECK(pp.low_a.cols() == kRank);
  CHECK(pp.bytes == spec.positional.bytes());
  // int8 head (f16 scale per row): K*(D+2); tail A: (P-K)*(R+2); B: R*(D+2).
  CHECK(pp.bytes == kHead * (D + 2) + (P - kHead) * (kRank + 2) + kRank * (D + 2));
  CHECK(m->position_limit() == P);

  const std::vector<float> file_rows = rows_of(*m);
  REQUIRE(file_rows.size() == host_rows.value().size());
  for (size_t i = 0; i < file_rows.size(); ++i) {
    if (file_rows[i] != host_rows.value()[i]) FAIL("row element " << i << " differs between host and file");
  }

  // Double reference from the stored codes: head = q * scale, tail = sum_r (qa*sa) * (qb*sb).
  const std::vector<float> head = spec.positional.table.to_f32(), a = spec.positional.low_a.to_f32(),
                           b = spec.positional.low_b.to_f32();
  double worst = 0, worst_vs_original = 0;
  for (uint32_t p = 0; p < P; ++p) {
    for (uint32_t j = 0; j < D; ++j) {
      double ref = 0;
      if (p < kHead) {
        ref = head[p * D + j];
        CHECK(file_rows[p * D + j] == head[p * D + j]);  // head rows are exact dequantized int8
      } else {
        for (uint32_t k = 0; k < kRank; ++k) ref += double{a[(p - kHead) * kRank + k]} * b[k * D + j];
      }
      worst = std::max(worst, std::fabs(ref - file_rows[p * D + j]));
      worst_vs_original =
          std::max(worst_vs_original, std::fabs(double{original[p * D + j]} - file_rows[p * D + j]));
    }
  }
  CHECK(worst < 1e-5);
  // The structure is captured: the error is int8 rounding, not approximation (values are O(0.3)).
  CHECK(worst_vs_original < 0.02);

  // A plain rank-2 table of the same model misses the random head rows by far more.
  modelio::ModelSpec lr = structured_model();
  o.pos = "lowrank-2-int8";
  REQUIRE(cli::quantize::apply_positional(lr, o).ok());
  auto lr_rows = modelio::runtime_position_rows(lr);
  REQUIRE(lr_rows.ok());
  double lr_worst = 0;
  for (size_t i = 0; i < original.size(); ++i)
    lr_worst = std::max(lr_worst, std::fabs(double{original[i]} - lr_rows.value()[i]));
  CHECK(lr_worst > 10 * worst_vs_original);

  // Sessions agree with themselves through the file: a forward pass runs at every position.
  auto s = session_for(m);
  std::vector<int32_t> toks(P, 5);
  REQUIRE(s->prefill(toks.data(), toks.size()).ok());
  CHECK(all_finite(logits_of(*s)));
}

TEST_CASE("hybrid table: the q/k/v-weighted fit is a different, valid table") {
  modelio::ModelSpec plain = structured_model(), weighted = structured_model();
  cli::quantize::Options o;
  o.pos = "hybrid-4-lowrank-2";
  REQUIRE(cli::quantize::apply_positional(plain, o).ok());
  o.pos = "hybrid-4-lowrank-2-qkv";
  REQUIRE(cli::quantize::apply_positional(weighted, o).ok());
  CHECK(plain.positional.bytes() == weighted.positional.bytes());
  CHECK(plain.positional.low_a.data != weighted.positional.low_a.data);
  auto metric = cli::quantize::model_metric(weighted);
  REQUIRE(metric.ok());
  const size_t d = weighted.config.dim;
  for (size_t i = 0; i < d; ++i) {
    CHECK(metric.value()[i * d + i] > 0);
    for (size_t j = 0; j < i; ++j)
      CHECK(metric.value()[i * d + j] == doctest::Approx(metric.value()[j * d + i]));
  }
}

TEST_CASE("hybrid table: bad settings are errors") {
  for (const char* bad : {"hybrid-0-lowrank-2", "hybrid-64-lowrank-2", "hybrid-8-lowrank-0",
                          "hybrid-8-lowrank-33", "hybrid-8-lowrank-2-xyz", "hybrid-8", "hybrid--lowrank-2"}) {
    CAPTURE(bad);
    modelio::ModelSpec spec = structured_model();
    cli::quantize::Options o;
    o.pos = bad;
    CHECK_FALSE(cli::quantize::apply_positional(spec, o).ok());
  }
  quant::HybridOptions h;
  h.head_rows = 2;
  h.rank = 2;
  h.metric.assign(4 * 4, 0.0);  // not positive definite
  std::vector<float> t(8 * 4, 0.5f);
  CHECK_FALSE(quant::build_hybrid(t.data(), 8, 4, h).ok());
}

TEST_CASE("hybrid table: hostile files are refused with a clear error") {
  modelio::ModelSpec base = structured_model();
  cli::quantize::Options o;
  o.pos = "hybrid-8-lowrank-2";
  REQUIRE(cli::quantize::apply_positional(base, o).ok());
  REQUIRE(load_error(base, "hybrid_ok.ordinal").empty());
  const uint32_t D = base.config.dim;

  {  // per-tensor int8 scale on B
    modelio::ModelSpec s = base;
    s.positional.low_b.granularity = format::QuantGranularity::kPerTensor;
    s.positional.low_b.scales.resize(2);
    const std::string e = load_error(s, "hybrid_pertensor.ordinal");
    CHECK_MESSAGE(!e.empty(), "per-tensor scales accepted");
  }
  {  // B with the wrong width
    modelio::ModelSpec s = base;
    s.positional.low_b = modelio::HostTensor::f32("positional.tail_b", {kRank, D + 1},
                                                  std::vector<float>(size_t{kRank} * (D + 1), 0.1f));
    const std::string e = load_error(s, "hybrid_bwidth.ordinal");
    CHECK_MESSAGE(e.find("tail_b") != std::string::npos, e);
  }
  {  // rank above dim
    modelio::ModelSpec s = base;
    const uint32_t tail = base.config.max_positions - kHead, r = D + 1;
    s.positional.low_a =
        modelio::HostTensor::f32("positional.tail_a", {tail, r}, std::vector<float>(size_t{tail} * r, 0.1f));
    s.positional.low_b =
        modelio::HostTensor::f32("positional.tail_b", {r, D}, std::vector<float>(size_t{r} * D, 0.1f));
    const std::string e = load_error(s, "hybrid_rank.ordinal");
    CHECK_MESSAGE(e.find("rank") != std::string::npos, e);
  }
  {  // head of the wrong width
    modelio::ModelSpec s = base;
    s.positional.table = modelio::HostTensor::f32("positional.head", {kHead, D - 1},
                                                  std::vector<float>(size_t{kHead} * (D - 1), 0.1f));
    const std::string e = load_error(s, "hybrid_head.ordinal");
    CHECK_MESSAGE(e.find("head") != std::string::npos, e);
  }
  {  // int4 head (not an allowed head format)
    modelio::ModelSpec s = base;
    s.positional.table.dtype = format::DType::kI4;
    s.positional.table.granularity = format::QuantGranularity::kPerGroup;
    s.positional.table.group_size = 16;
    const std::string e = load_error(s, "hybrid_i4.ordinal");
    CHECK_MESSAGE(!e.empty(), "int4 head accepted");
  }
  {  // positions beyond the stored table are an error, not a wrap-around
    auto m = load_spec(base, "hybrid_limit.ordinal");
    auto s = session_for(m);
    std::vector<int32_t> toks(base.config.max_positions + 1, 5);
    CHECK_FALSE(s->prefill(toks.data(), toks.size()).ok());
  }
}

TEST_CASE("--search picks the hybrid table when it is the smallest setting that passes") {
  const modelio::ModelSpec spec = structured_model();
  const std::string ref = temp_path("hybrid_search_ref.ordinal");
  REQUIRE(modelio::write_model(spec, ref).ok());
  verify::Options gates;
  gates.samples = 2;
  gates.max_positions = 256;
  gates.order_positions = 128;
  gates.swap_pairs = 4;
  gates.max_kl = 1e-3;
  gates.min_top1 = 0.95;
  cli::quantize::Options base;
  // Sizes: lowrank-2-int8 < hybrid-8-lowrank-2 < int8-row; the plain rank-2 table misses the head rows.
  auto r = cli::quantize::search_positional(spec, ref, {"int8-row", "hybrid-8-lowrank-2", "lowrank-2-int8"},
                                            base, gates, temp_path("hybrid_search_cand.ordinal"), nullptr);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  REQUIRE(r.value().winner >= 0);
  const auto& attempts = r.value().attempts;
  CHECK(attempts[static_cast<size_t>(r.value().winner)].scheme == "hybrid-8-lowrank-2");
  CHECK(attempts[0].scheme == "lowrank-2-int8");
  CHECK_FALSE(attempts[0].passed);
}
