// Loader semantic checks for quantized weights (int8 linear layers, int8 embedding/classifier, f16
// weights): what `ordinal quantize --weights` writes loads and runs; every malformed variant is refused
// with a message naming the tensor, never a crash.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/weight_quantize.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

modelio::ModelSpec int8_spec() {
  testing::SyntheticOptions o;
  o.hidden = 40;  // rows of w2 are 40 values: padded by the kernel at session creation
  modelio::ModelSpec s = testing::make_synthetic_model(o);
  REQUIRE(cli::quantize::convert_model_weights(s, "int8").ok());
  return s;
}

Result<std::shared_ptr<const Model>> load(const modelio::ModelSpec& spec) {
  const std::string path = testing::temp_path("loader_int8.ordinal");
  Status st = modelio::write_model(spec, path);
  if (!st.ok()) return st;
  return Model::load(path);
}

void expect_refused(const modelio::ModelSpec& spec, const std::string& needle) {
  auto m = load(spec);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == ErrorCode::kInvalidModel);
  CHECK_MESSAGE(m.status().message().find(needle) != std::string::npos, m.status().message());
}

void set_f32_scales(modelio::HostTensor& t, const std::vector<float>& v) {
  t.scales.resize(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) std::memcpy(t.scales.data() + 4 * i, &v[i], 4);
}

}  // namespace

TEST_CASE("int8 weights as quantize writes them load, keep per-row scales and run") {
  modelio::ModelSpec s = int8_spec();
  auto m = load(s);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  const detail::ModelData& d = ordinal::detail::model_data(*m.value());
  CHECK(d.token_embedding.dtype == format::DType::kI8);
  CHECK(d.token_embedding.quant.granularity == format::QuantGranularity::kPerRow);
  CHECK(d.token_embedding.quant.scale_count == d.config.vocab_size);
  for (const detail::LayerWeights& w : d.layers) {
    for (const format::TensorView* v : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3}) {
      CHECK(v->dtype == format::DType::kI8);
      CHECK(v->quant.scale_count == v->rows());
    }
  }
  SessionOptions so;
  so.threads = 1;
  auto session = Session::create(m.value(), so);
  REQUIRE(session.ok());
  // Per token the kernels read int8 rows (padded to 32 values) plus one f32 scale per row.
  CHECK(session.value()->weight_bytes_per_token() < m.value()->file_bytes());
  int32_t t[3] = {1, 72, 105};
  REQUIRE(session.value()->prefill(t, 3).ok());
  for (uint32_t i = 0; i < session.value()->vocab_size(); ++i)
    REQUIRE(std::isfinite(session.value()->logits()[i]));
}

TEST_CASE("int8 weight scales may be f16; f16 weights load and run") {
  modelio::ModelSpec s = int8_spec();
  modelio::HostTensor& wq = s.layers[0].wq;
  std::vector<float> sc(wq.shape[0]);
  std::memcpy(sc.data(), wq.scales.data(), sc.size() * 4);
  wq.scale_dtype = format::DType::kF16;
  wq.scales.resize(sc.size() * 2);
  for (size_t i = 0; i < sc.size(); ++i) {
    const uint16_t h = 0x2000;  // 2^-7, any finite positive half
    std::memcpy(wq.scales.data() + 2 * i, &h, 2);
  }
  auto m = load(s);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(Session::create(m.value()).ok());
  testing::SyntheticOptions o;
  modelio::ModelSpec h = testing::make_synthetic_model(o);
  REQUIRE(cli::quantize::convert_model_weights(h, "f16").ok());
  auto hm = load(h);
  REQUIRE(hm.ok());
  CHECK(ordinal::detail::model_data(*hm.value()).layers[0].w1.dtype == format::DType::kF16);
  CHECK(Session::create(hm.value()).ok());
}

TEST_CASE("malformed int8 weights are refused, naming the tensor") {
  {
    modelio::ModelSpec s = int8_spec();
    s.layers[1].wo.granularity = format::QuantGranularity::kPerColumn;  // same count as rows here (square)
    expect_refused(s, "per-row, per-tensor or per-group");
  }
  {
    modelio::ModelSpec s = int8_spec();
    modelio::HostTensor& w = s.layers[0].w1;
    w.granularity = format::QuantGranularity::kPerGroup;
    w.group_size = 16;
    set_f32_scales(w, std::vector<float>(size_t{w.shape[0]} * (w.shape[1] / 16), 0.01f));
    expect_refused(s, "group-wise weights need f16 scales");  // group-wise weights: test_loader_group.cpp
  }
  {
    modelio::ModelSpec s = int8_spec();
    std::vector<float> sc(s.layers[0].wk.shape[0], 0.01f);
    sc[3] = NAN;
    set_f32_scales(s.layers[0].wk, sc);
    expect_refused(s, "scale 3 is not a finite non-negative number");
  }
  {
    modelio::ModelSpec s = int8_spec();
    std::vector<float> sc(s.layers[0].wv.shape[0], 0.01f);
    sc[0] = -0.5f;
    set_f32_scales(s.layers[0].wv, sc);
    expect_refused(s, "layers[0].wv");
  }
  {
    modelio::ModelSpec s = int8_spec();
    s.layers[0].w2.scales.resize(s.layers[0].w2.scales.size() - 4);  // one scale short
    expect_refused(s, "w2");
  }
  {
    modelio::ModelSpec s = int8_spec();
    s.layers[0].w3.granularity = format::QuantGranularity::kNone;  // int8 without scales
    s.layers[0].w3.scales.clear();
    expect_refused(s, "no quantization scales");
  }
  {
    modelio::ModelSpec s = int8_spec();
    s.layers[0].wq.zero_points.assign(s.layers[0].wq.shape[0], 0);
    expect_refused(s, "zero points");
  }
  {
    modelio::ModelSpec s = int8_spec();
    s.token_embedding.granularity = format::QuantGranularity::kPerTensor;
    set_f32_scales(s.token_embedding, {0.01f});
    expect_refused(s, "per-row or per-group scales");
  }
  {
    modelio::ModelSpec s = int8_spec();
    s.layers[0].wq.dtype = format::DType::kI4;  // int4 weights are group-wise only
    s.layers[0].wq.data.resize(s.layers[0].wq.data.size() / 2);
    expect_refused(s, "int4 weights need per-group scales");
  }
  {
    modelio::ModelSpec s = int8_spec();
    s.layers[0].wq.data.pop_back();  // truncated weights
    expect_refused(s, "bytes, expected");
  }
}
