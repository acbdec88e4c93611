// Partial rotary and Llama-3.1 frequency scaling, end to end through the positional module: host
// frequencies, a model file, the runtime's rotation (Q15/Q31 exact phase, and F32), the context-shift
// re-rotation and `ordinal quantize`. Expected values come from an independent float64 reference
// (models/train/rope_variants_reference.py, numpy) stored in tests/data/rope_variants_reference.json.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "modelio/host_scheme.hpp"
#include "ordinal/runtime.hpp"
#include "positional/encoder.hpp"
#include "positional/rope_shift.hpp"
#include "quant/rope_frequencies.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;
using json = nlohmann::json;

namespace {

const json& reference() {
  static const json j = [] {
    std::ifstream f(std::string(ORDINAL_SOURCE_DIR) + "/tests/data/rope_variants_reference.json");
    REQUIRE_MESSAGE(f.good(), "tests/data/rope_variants_reference.json is missing");
    std::stringstream ss;
    ss << f.rdbuf();
    return json::parse(ss.str());
  }();
  return j;
}

// The scaling of a reference case (null: none) as RoPE settings.
void apply_scaling(const json& sc, detail::PositionalSettings* s) {
  if (sc.is_null()) return;
  s->scaling = detail::RopeScalingKind::kLlama3;
  s->scaling_factor = sc.at("factor").get<float>();
  s->low_freq_factor = sc.at("low_freq_factor").get<float>();
  s->high_freq_factor = sc.at("high_freq_factor").get<float>();
  s->original_context = sc.at("original").get<uint32_t>();
}

// A small RoPE model whose heads are the reference case's (n_heads x head_dim, rotary_dims, layout).
std::shared_ptr<const Model> model_for(const json& c, detail::TrigPrecision precision,
                                       const std::string& name) {
  testing::SyntheticOptions o;
  o.heads = c.at("n_heads").get<uint32_t>();
  o.kv_heads = o.heads;
  o.dim = o.heads * c.at("head_dim").get<uint32_t>();
  o.hidden = 8;
  o.layers = 1;
  modelio::ModelSpec spec = testing::make_synthetic_model(o);
  modelio::HostPositional& p = spec.positional;
  p.rotary_dims = c.at("rotary_dims").get<uint32_t>();
  p.base = c.at("base").get<double>();
  p.rope_layout = c.at("layout") == "split_half" ? detail::RopeLayoutKind::kSplitHalf
                                                 : detail::RopeLayoutKind::kInterleaved;
  p.precision = precision;
  apply_scaling(c.at("scaling"), &p);
  REQUIRE(modelio::compute_rope_frequencies(spec.config.head_dim, &p).ok());
  const std::string path = testing::temp_path(name);
  REQUIRE(modelio::write_model(spec, path).ok());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

// Per-component bound of a rotation vs the exact one (rope_fixed.hpp), plus 1e-9 for the float64
// reference's own angle rounding at positions near 2^20.
double bound(detail::TrigPrecision precision, double a, double b) {
  const double trig = precision == detail::TrigPrecision::kQ15 ? 0x1p-15 : 0x1p-24 + 0x1p-25;
  return (std::fabs(a) + std::fabs(b)) * (trig + 0x1p-23) + 1e-9;
}

// Index of the partner of dim d inside the rotary slice.
uint32_t partner(const json& c, uint32_t d) {
  const uint32_t rot = c.at("rotary_dims").get<uint32_t>();
  if (c.at("layout") == "split_half") return d < rot / 2 ? d + rot / 2 : d - rot / 2;
  return d ^ 1u;
}

}  // namespace

TEST_CASE("llama3 frequencies match HF _compute_llama3_parameters (float64 reference)") {
  int scaled_down = 0, kept = 0, blended = 0;
  for (const json& c : reference().at("frequencies")) {
    detail::PositionalSettings s;
    s.scheme = PositionalScheme::kRope;
    s.rotary_dims = c.at("rotary_dims").get<uint32_t>();
    s.base = c.at("base").get<double>();
    apply_scaling(c.at("scaling"), &s);
    auto f = quant::rope_frequencies(s);
    REQUIRE_MESSAGE(f.ok(), f.status().to_string());
    auto plain = quant::rope_frequencies(static_cast<int>(s.rotary_dims), s.base);
    REQUIRE(plain.ok());
    const std::vector<double> inv = c.at("inv_freq").get<std::vector<double>>();
    REQUIRE(inv.size() == f->theta_radians.size());
    for (size_t i = 0; i < inv.size(); ++i) {
      CAPTURE(i);
      CHECK(std::fabs(static_cast<double>(f->theta_radians[i]) / inv[i] - 1) <= 1e-13);
      const double ratio = static_cast<double>(plain->theta_radians[i] / f->theta_radians[i]);
      if (std::fabs(ratio - 1) < 1e-12) {
        ++kept;
      } else if (std::fabs(ratio - s.scaling_factor) < 1e-9) {
        ++scaled_down;
      } else {
        ++blended;
      }
    }
    CHECK(f->attention_factor == 1.0);
  }
  // The cases exercise all three bands.
  CHECK(kept > 0);
  CHECK(scaled_down > 0);
  CHECK(blended > 0);
}

TEST_CASE("partial rotary + llama3: the runtime's Q15/Q31 rotation matches the float64 reference") {
  int n = 0;
  for (const json& c : reference().at("rotations")) {
    for (detail::TrigPrecision precision : {detail::TrigPrecision::kQ15, detail::TrigPrecision::kQ31}) {
      CAPTURE(c.at("layout").get<std::string>());
      CAPTURE(c.at("rotary_dims").get<int>());
      CAPTURE(static_cast<int>(precision));
      auto m = model_for(c, precision, "rope_variant_" + std::to_string(n++) + ".ordinal");
      CHECK(ordinal::detail::model_data(*m).positional.rotary_dims == c.at("rotary_dims").get<uint32_t>());
      CHECK(ordinal::detail::model_data(*m).positional.scaling ==
            (c.at("scaling").is_null() ? detail::RopeScalingKind::kNone : detail::RopeScalingKind::kLlama3));
      auto enc = positional::PositionalEncoder::create(ordinal::detail::model_data(*m));
      REQUIRE_MESSAGE(enc.ok(), enc.status().to_string());
      const uint32_t head_dim = c.at("head_dim").get<uint32_t>();
      const uint32_t rot = c.at("rotary_dims").get<uint32_t>();
      const uint32_t heads = c.at("n_heads").get<uint32_t>();
      const std::vector<float> in = c.at("input").get<std::vector<float>>();
      const std::vector<int64_t> positions = c.at("positions").get<std::vector<int64_t>>();
      for (size_t k = 0; k < positions.size(); ++k) {
        CAPTURE(positions[k]);
        const std::vector<double> want = c.at("expected")[k].get<std::vector<double>>();
        std::vector<float> got = in;
        enc->rotate(positions[k], got.data(), heads);
        for (uint32_t i = 0; i < heads * head_dim; ++i) {
          const uint32_t d = i % head_dim;
          if (d >= rot) {
            CHECK(got[i] == in[i]);  // outside the rotary slice: untouched, bit for bit
            continue;
          }
          const uint32_t j = i - d + partner(c, d);
          CHECK(std::fabs(got[i] - want[i]) <= bound(precision, in[i], in[j]));
        }
      }

      // Context shift: keys rotated at position p, re-rotated by -(p - q), equal keys rotated at q.
      auto shift = positional::RopeShift::create(ordinal::detail::model_data(*m).positional, head_dim,
                                                 enc->f32_frequencies());
      REQUIRE_MESSAGE(shift.ok(), shift.status().to_string());
      for (auto [from, to] : {std::pair<size_t, size_t>{4, 2}, {6, 5}, {5, 1}}) {
        CAPTURE(positions[from]);
        CAPTURE(positions[to]);
        std::vector<float> key = in;
        enc->rotate(positions[from], key.data(), heads);
        shift->rotate_f32(positions[to] - positions[from], key.data(), heads);
        const std::vector<double> want = c.at("expected")[to].get<std::vector<double>>();
        for (uint32_t i = 0; i < heads * head_dim; ++i) {
          const uint32_t d = i % head_dim;
          if (d >= rot) {
            CHECK(key[i] == in[i]);
            continue;
          }
          const uint32_t j = i - d + partner(c, d);
          // One rotation in the model's precision, then a Q31 re-rotation of a pair whose |a| + |b| grew by
          // at most sqrt(2).
          CHECK(std::fabs(key[i] - want[i]) <=
                bound(precision, in[i], in[j]) + 1.5 * bound(detail::TrigPrecision::kQ31, in[i], in[j]));
        }
      }
    }
  }
}

TEST_CASE(
    "llama3 at F32 precision stores its exact frequencies and tracks the reference at small positions") {
  const json& c = reference().at("rotations")[2];  // head 32, rotary 16, llama3.1 settings
  REQUIRE(!c.at("scaling").is_null());
  auto m = model_for(c, detail::TrigPrecision::kF32, "rope_variant_f32.ordinal");
  CHECK(ordinal::detail::model_data(*m).positional.frequencies !=
        nullptr);  // the runtime never re-derives a scaling
  auto enc = positional::PositionalEncoder::create(ordinal::detail::model_data(*m));
  REQUIRE(enc.ok());
  const std::vector<float> in = c.at("input").get<std::vector<float>>();
  const std::vector<int64_t> positions = c.at("positions").get<std::vector<int64_t>>();
  for (size_t k = 0; k < positions.size() && positions[k] <= 100; ++k) {
    std::vector<float> got = in;
    enc->rotate(positions[k], got.data(), c.at("n_heads").get<uint32_t>());
    const std::vector<double> want = c.at("expected")[k].get<std::vector<double>>();
    for (size_t i = 0; i < got.size(); ++i) CHECK(std::fabs(got[i] - want[i]) <= 1e-4);
  }
}

TEST_CASE("partial rotary + llama3 models run, shift and keep their settings through quantize") {
  const json& c = reference().at("rotations")[1];  // head 16, rotary 8 (partial), llama3-short, split-half
  auto m = model_for(c, detail::TrigPrecision::kF32, "rope_variant_run.ordinal");
  SessionOptions so;
  so.threads = 1;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  const std::vector<int32_t> prompt = {1, 84, 104, 101, 32, 100, 111, 103, 32, 97};
  REQUIRE(s.value()->prefill(prompt.data(), prompt.size()).ok());
  CHECK(s.value()->shift(3, 2).ok());
  CHECK(s.value()->decode(50).ok());
  CHECK(std::isfinite(s.value()->logits()[0]));

  // `ordinal quantize --pos rope-q15` keeps the scaling and the partial rotary of the model it reads.
  const std::string in = testing::temp_path("rope_variant_run.ordinal");
  const std::string out = testing::temp_path("rope_variant_q15.ordinal");
  const std::string cmd = std::string("'") + ORDINAL_CLI_PATH + "' quantize '" + in + "' '" + out +
                          "' --pos rope-q15 > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto q = Model::load(out);
  REQUIRE_MESSAGE(q.ok(), q.status().to_string());
  const detail::PositionalParams& qp = ordinal::detail::model_data(*q.value()).positional;
  CHECK(qp.scaling == detail::RopeScalingKind::kLlama3);
  CHECK(qp.rotary_dims == 8);
  CHECK(qp.precision == detail::TrigPrecision::kQ15);
  CHECK(qp.low_freq_factor == 2.0f);
  CHECK(qp.high_freq_factor == 8.0f);
  CHECK(qp.original_context == 64);
  detail::PositionalSettings want = qp;
  auto f = quant::rope_frequencies(want);
  REQUIRE(f.ok());
  REQUIRE(qp.frequency_count == f->turns.size());
  for (size_t i = 0; i < f->turns.size(); ++i) CHECK(qp.frequencies[i] == f->turns[i]);

  // --rope-scaling llama3:F,LOW,HIGH,ORIG on an unscaled model; a malformed one is refused.
  testing::SyntheticOptions o;
  auto plain = testing::make_synthetic_model(o);
  const std::string plain_path = testing::temp_path("rope_variant_plain.ordinal");
  REQUIRE(modelio::write_model(plain, plain_path).ok());
  const std::string out2 = testing::temp_path("rope_variant_llama3.ordinal");
  REQUIRE(std::system((std::string("'") + ORDINAL_CLI_PATH + "' quantize '" + plain_path + "' '" + out2 +
                       "' --pos rope-q31 --rope-scaling llama3:8,1,4,32 > /dev/null")
                          .c_str()) == 0);
  auto l3 = Model::load(out2);
  REQUIRE(l3.ok());
  CHECK(ordinal::detail::model_data(*l3.value()).positional.scaling == detail::RopeScalingKind::kLlama3);
  CHECK(ordinal::detail::model_data(*l3.value()).positional.scaling_factor == 8.0f);
  CHECK(ordinal::detail::model_data(*l3.value()).positional.original_context == 32);
  CHECK(std::system((std::string("'") + ORDINAL_CLI_PATH + "' quantize '" + plain_path + "' '" + out2 +
                     "' --pos rope-q31 --rope-scaling llama3:8,4,1,32 2> /dev/null")
                        .c_str()) != 0);
}

TEST_CASE("F32 RoPE angles precomputed at create rotate with the bits of the per-call cosf/sinf") {
  // Partial split-half (unscaled: frequencies from the base in float), interleaved, and llama3-scaled
  // (stored frequencies). Positions inside the table and past it (computed as they come) must give exactly
  // what the angle expressions give when evaluated per call.
  for (const size_t index : {size_t{0}, size_t{4}, size_t{2}}) {
    const json& c = reference().at("rotations")[index];
    CAPTURE(index);
    auto m = model_for(c, detail::TrigPrecision::kF32, "rope_table_f32.ordinal");
    auto enc = positional::PositionalEncoder::create(ordinal::detail::model_data(*m));
    REQUIRE(enc.ok());
    const uint32_t heads = c.at("n_heads").get<uint32_t>(), hd = c.at("head_dim").get<uint32_t>();
    const uint32_t rot = c.at("rotary_dims").get<uint32_t>(), pairs = rot / 2;
    const bool split = c.at("layout") == "split_half";
    const uint32_t max_positions = m->config().max_positions;
    const uint64_t table_bytes = uint64_t{max_positions} * pairs * 2 * sizeof(float);
    CHECK(positional::rope_angle_table_bytes(ordinal::detail::model_data(*m)) == table_bytes);
    CHECK(enc->table_bytes() == table_bytes);
    const std::vector<float>& freq = enc->f32_frequencies();
    REQUIRE(freq.size() == pairs);
    const std::vector<float> in = c.at("input").get<std::vector<float>>();
    REQUIRE(in.size() == size_t{heads} * hd);
    std::vector<int64_t> positions;
    for (int64_t p = 0; p < int64_t{max_positions} + 3; ++p) positions.push_back(p);
    positions.push_back(100000);
    for (const int64_t pos : positions) {
      std::vector<float> got = in, want = in;
      enc->rotate(pos, got.data(), heads);
      for (uint32_t j = 0; j < pairs; ++j) {
        const float angle = static_cast<float>(pos) * freq[j];
        const float co = cosf(angle), si = sinf(angle);
        const uint32_t a = split ? j : 2 * j, b = split ? j + pairs : 2 * j + 1;
        for (uint32_t h = 0; h < heads; ++h) {
          float* v = want.data() + size_t{h} * hd;
          const float v0 = v[a], v1 = v[b];
          v[a] = v0 * co - v1 * si;
          v[b] = v0 * si + v1 * co;
        }
      }
      CAPTURE(pos);
      CHECK(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
    }
  }
  // Fixed-point models keep no float table.
  auto q = model_for(reference().at("rotations")[0], detail::TrigPrecision::kQ31, "rope_table_q31.ordinal");
  CHECK(positional::rope_angle_table_bytes(ordinal::detail::model_data(*q)) == 0);
}
