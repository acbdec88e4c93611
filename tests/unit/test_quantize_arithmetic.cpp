// One arithmetic: the reconstruction error `ordinal quantize` reports for a position table is computed on
// exactly the vectors a session adds. For every table setting, each reported row must equal, bit for bit,
// what the runtime's add_to_embedding hook adds at that position in the written and reloaded model, and
// the reported max |err| must equal the one recomputed from those runtime vectors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "ordinal/quantize.hpp"
#include "ordinal/runtime.hpp"
#include "positional/encoder.hpp"
#include "positional/relative_bias.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

TEST_CASE("quantize's table error is the runtime's: rows bit-exact with add_to_embedding, same max error") {
  testing::SyntheticOptions o;
  o.arch = Architecture::kGPT2;
  o.scheme = PositionalScheme::kLearnedTable;
  o.context = 48;
  o.dim = 32;
  for (const char* pos :
       {"f16", "int8-row", "int8-col", "int4-g16", "int4-g16-zp", "codebook-12", "codebook-12-int8",
        "bucket-stride-3", "bucket-t5-16", "lowrank-4", "lowrank-4-int8"}) {
    CAPTURE(pos);
    modelio::ModelSpec spec = testing::make_synthetic_model(o);
    cli::quantize::Options q;
    q.pos = pos;
    auto report = cli::quantize::apply_positional(spec, q);
    REQUIRE_MESSAGE(report.ok(), report.status().to_string());
    const std::string path = testing::temp_path(std::string("arith_") + pos + ".ordinal");
    REQUIRE(modelio::write_model(spec, path).ok());
    auto m = Model::load(path);
    REQUIRE_MESSAGE(m.ok(), m.status().to_string());
    auto enc = positional::PositionalEncoder::create(ordinal::detail::model_data(*m.value()));
    REQUIRE(enc.ok());
    const uint32_t dim = o.dim;
    const int64_t positions = report->positions;
    REQUIRE(report->reconstructed.size() == static_cast<size_t>(positions) * dim);
    std::vector<float> x(dim), scratch(enc->scratch_floats() + 1);
    double max_err = 0.0;
    int mismatches = 0;
    for (int64_t p = 0; p < positions; ++p) {
      std::fill(x.begin(), x.end(), 0.0f);
      enc->add_to_embedding(p, x.data(), scratch.data());
      for (uint32_t i = 0; i < dim; ++i) {
        const size_t k = static_cast<size_t>(p) * dim + i;
        if (x[i] != report->reconstructed[k]) ++mismatches;
        max_err = std::max(max_err, std::fabs(static_cast<double>(x[i]) - report->original[k]));
      }
    }
    CHECK(mismatches == 0);
    CHECK(report->metrics.max_abs_error == max_err);
    CHECK(max_err > 0.0);  // f16 and every lossy setting changes something: the comparison is not vacuous
  }
}

// The relative-bias table quantize reports is what the loaded model's attention adds: for every head and
// every key of a query that reaches past max_distance, the reported entry of that key's bucket (the
// runtime's bucket function) equals the module's bias bit for bit, every bucket is met, and the reported
// max error is the one recomputed from those biases.
TEST_CASE("quantize's relative-bias error is the runtime's: entries bit-exact with attention_bias") {
  testing::SyntheticOptions o;
  o.scheme = PositionalScheme::kRelativeBias;
  o.context = 128;
  for (const char* pos : {"int8", "f32"}) {
    CAPTURE(pos);
    modelio::ModelSpec spec = testing::make_synthetic_model(o);
    const uint32_t nb = spec.positional.num_buckets, heads = spec.config.n_heads;
    cli::quantize::Options q;
    q.pos = pos;
    auto report = cli::quantize::apply_positional(spec, q);
    REQUIRE_MESSAGE(report.ok(), report.status().to_string());
    REQUIRE(report->reconstructed.size() == size_t{nb} * heads);
    const std::string path = testing::temp_path(std::string("arith_bias_") + pos + ".ordinal");
    REQUIRE(modelio::write_model(spec, path).ok());
    auto m = Model::load(path);
    REQUIRE_MESSAGE(m.ok(), m.status().to_string());
    const detail::PositionalParams& p = ordinal::detail::model_data(*m.value()).positional;
    auto enc = positional::PositionalEncoder::create(ordinal::detail::model_data(*m.value()));
    REQUIRE(enc.ok());
    auto buckets =
        positional::make_t5_bucket_table(static_cast<int>(p.num_buckets), p.max_distance, p.bidirectional);
    REQUIRE(buckets.ok());
    const int64_t query = int64_t{p.max_distance} + 8;
    std::vector<float> bias(static_cast<size_t>(query) + 1);
    std::vector<bool> met(nb, false);
    int mismatches = 0;
    double max_err = 0.0;
    for (uint32_t h = 0; h < heads; ++h) {
      enc->attention_bias(h, query, 0, bias.size(), bias.data());
      for (int64_t k = 0; k <= query; ++k) {
        const int b = positional::t5_relative_position_bucket(buckets.value(), k - query);
        REQUIRE(b >= 0);
        REQUIRE(static_cast<uint32_t>(b) < nb);
        met[static_cast<size_t>(b)] = true;
        const size_t at = static_cast<size_t>(b) * heads + h;
        if (bias[static_cast<size_t>(k)] != report->reconstructed[at]) ++mismatches;
        max_err = std::max(
            max_err, std::fabs(static_cast<double>(bias[static_cast<size_t>(k)]) - report->original[at]));
      }
    }
    CHECK(mismatches == 0);
    CHECK(std::count(met.begin(), met.end(), true) == static_cast<long>(nb));
    CHECK(report->metrics.max_abs_error == max_err);
    if (std::string(pos) == "int8") CHECK(max_err > 0.0);  // lossy: the comparison is not vacuous
  }
}
