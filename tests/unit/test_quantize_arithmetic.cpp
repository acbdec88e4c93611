// One arithmetic: the reconstruction error `ordinal quantize` reports for a position table is computed on
// exactly the vectors a session adds. For every table setting, each reported row must equal, bit for bit,
// what the runtime's add_to_embedding hook adds at that position in the written and reloaded model, and
// the reported max |err| must equal the one recomputed from those runtime vectors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "ordinal/quantize.hpp"
#include "ordinal/runtime.hpp"
#include "positional/encoder.hpp"
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
