// Loader acceptance of group-wise weights (int8-gN, int4-gN, int4-gN-zp; f16 scales): what `quantize
// --weights` writes loads and runs close to the f32 model; malformed variants are refused with a message
// naming the tensor.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "numerics/half.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/weight_quantize.hpp"
#include "quant/weights.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

testing::SyntheticOptions options() {
  testing::SyntheticOptions o;
  o.dim = 64;
  o.hidden = 128;
  o.heads = 4;
  o.kv_heads = 2;
  o.weight_scale = 0.1f;
  return o;
}

modelio::ModelSpec quantized(const std::string& weights, testing::SyntheticOptions o = options()) {
  modelio::ModelSpec s = testing::make_synthetic_model(o);
  auto r = cli::quantize::convert_model_weights(s, weights);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return s;
}

Result<std::shared_ptr<const Model>> load(const modelio::ModelSpec& spec) {
  const std::string path = testing::temp_path("loader_group.ordinal");
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

std::vector<float> logits_after(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& tokens) {
  SessionOptions so;
  so.threads = 1;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  REQUIRE(s.value()->prefill(tokens.data(), tokens.size()).ok());
  const float* l = s.value()->logits();
  return std::vector<float>(l, l + s.value()->vocab_size());
}

double relative_rms(const std::vector<float>& a, const std::vector<float>& b) {
  double e = 0, r = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    e += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    r += double(b[i]) * b[i];
  }
  return std::sqrt(e / r);
}

}  // namespace

TEST_CASE("group-wise weights load with their scales and run close to the f32 model") {
  auto f32 = load(testing::make_synthetic_model(options()));
  REQUIRE(f32.ok());
  const std::vector<int32_t> tokens = {1, 72, 105, 300, 44, 9};
  const std::vector<float> want = logits_after(f32.value(), tokens);
  struct Case {
    const char* weights;
    format::DType dtype;
    uint32_t group;
    bool zero_points;
    double max_rel_rms;
  };
  for (const Case& c : {Case{"int8-g32", format::DType::kI8, 32, false, 0.02},
                        Case{"int4", format::DType::kI4, 32, false, 0.25},
                        Case{"int4-g64", format::DType::kI4, 64, false, 0.3},
                        Case{"int4-g32-zp", format::DType::kI4, 32, true, 0.3}}) {
    INFO(std::string(c.weights));
    auto m = load(quantized(c.weights));
    REQUIRE_MESSAGE(m.ok(), m.status().to_string());
    const detail::ModelData& d = ordinal::detail::model_data(*m.value());
    for (const detail::LayerWeights& w : d.layers) {
      for (const format::TensorView* v : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3}) {
        CHECK(v->dtype == c.dtype);
        CHECK(v->quant.granularity == format::QuantGranularity::kPerGroup);
        CHECK(v->quant.group_size == c.group);
        CHECK(v->quant.scale_dtype == format::DType::kF16);
        CHECK(v->quant.scale_count == uint64_t{v->rows()} * (v->cols() / c.group));
        CHECK((v->quant.zero_points != nullptr) == c.zero_points);
      }
    }
    CHECK(d.token_embedding.dtype == c.dtype);  // tied: also the classifier
    const std::vector<float> got = logits_after(m.value(), tokens);
    const double e = relative_rms(got, want);
    MESSAGE(std::string(c.weights) << ": logits rms error / rms " << e);
    CHECK(e < c.max_rel_rms);
  }
}

TEST_CASE("columns the group does not divide stay per-row int8 and the model runs") {
  testing::SyntheticOptions o = options();
  o.hidden = 40;
  modelio::ModelSpec s = testing::make_synthetic_model(o);
  auto r = cli::quantize::convert_model_weights(s, "int4");
  REQUIRE(r.ok());
  CHECK(r.value().per_row_fallbacks == int(o.layers));  // w2 [dim, 40] in every layer
  auto m = load(s);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  CHECK(ordinal::detail::model_data(*m.value()).layers[0].w2.dtype == format::DType::kI8);
  CHECK(ordinal::detail::model_data(*m.value()).layers[0].w1.dtype == format::DType::kI4);
  const std::vector<float> l = logits_after(m.value(), {1, 2, 3});
  for (float v : l) REQUIRE(std::isfinite(v));
}

TEST_CASE("malformed group-wise weights are refused, naming the tensor") {
  {
    modelio::ModelSpec s = quantized("int4");
    modelio::HostTensor& w = s.layers[0].w1;  // [128, 64]: group 16 divides, but the kernel's block is 32
    w.group_size = 16;
    w.scales.resize(size_t{w.shape[0]} * (w.shape[1] / 16) * 2, 0x20);
    expect_refused(s, "multiple of 32");
  }
  {
    modelio::ModelSpec s = quantized("int8-g32");
    modelio::HostTensor& w = s.layers[1].wo;
    std::vector<uint8_t> f32(w.scales.size() * 2);
    for (size_t i = 0; i < w.scales.size() / 2; ++i) {
      uint16_t h;
      std::memcpy(&h, w.scales.data() + 2 * i, 2);
      const float f = numerics::half_to_float(h);
      std::memcpy(f32.data() + 4 * i, &f, 4);
    }
    w.scales = f32;
    w.scale_dtype = format::DType::kF32;
    expect_refused(s, "need f16 scales");
  }
  {
    modelio::ModelSpec s = quantized("int4");
    const uint16_t nan = 0x7E00;
    std::memcpy(s.layers[0].wk.scales.data() + 2 * 5, &nan, 2);
    expect_refused(s, "scale 5 is not a finite non-negative number");
  }
  {
    modelio::ModelSpec s = quantized("int4");
    const uint16_t negative = 0xB000;
    std::memcpy(s.layers[1].w3.scales.data(), &negative, 2);
    expect_refused(s, "layers[1].w3");
  }
  {
    modelio::ModelSpec s = quantized("int4");
    s.layers[0].w2.scales.resize(s.layers[0].w2.scales.size() - 2);  // one scale short
    expect_refused(s, "w2");
  }
  {
    modelio::ModelSpec s = quantized("int4-g32-zp");
    s.layers[0].wv.zero_points[3] = 16;
    expect_refused(s, "exceeds the int4 range");
  }
  {
    modelio::ModelSpec s = quantized("int4-g32-zp");
    s.layers[0].wv.zero_points.pop_back();
    expect_refused(s, "zero points");
  }
  {
    modelio::ModelSpec s = quantized("int8-g32");
    s.layers[0].wq.zero_points.assign(s.layers[0].wq.scales.size() / 2, 0);
    expect_refused(s, "zero points are only supported for int4");
  }
  {
    modelio::ModelSpec s = quantized("int4");
    modelio::HostTensor& w = s.layers[0].wq;
    w.granularity = format::QuantGranularity::kPerRow;
    w.scales.resize(size_t{w.shape[0]} * 2);
    expect_refused(s, "int4 weights need per-group scales");
  }
  {
    modelio::ModelSpec s = quantized("int4");
    s.layers[0].w1.group_size = 48;  // does not divide 64
    expect_refused(s, "must be even and divide");
  }
  {
    modelio::ModelSpec s = quantized("int4");
    s.layers[0].w1.data.pop_back();  // truncated codes
    expect_refused(s, "bytes, expected");
  }
  {
    // The embedding alone takes any even group dividing dim; tied, it is also the classifier: refused.
    modelio::ModelSpec s = quantized("int4");
    modelio::HostTensor& e = s.token_embedding;
    e.group_size = 16;
    e.scales.resize(size_t{e.shape[0]} * (e.shape[1] / 16) * 2, 0x20);
    expect_refused(s, "tied classifier");
  }
}

TEST_CASE("an untied int4 embedding with a group of 16 loads (rows are dequantized one at a time)") {
  modelio::ModelSpec s = quantized("int4");
  s.config.tied_classifier = false;
  s.classifier = modelio::HostTensor::f32("classifier", s.token_embedding.shape, s.token_embedding.to_f32());
  modelio::HostTensor& e = s.token_embedding;
  const std::vector<float> values = e.to_f32();
  auto q = quant::quantize_groups(values.data(), e.shape[0], e.shape[1], 16, quant::GroupFormat::kInt4);
  REQUIRE(q.ok());
  e.group_size = 16;
  e.data = q.value().codes;
  e.scales.resize(q.value().scales.size() * 2);
  std::memcpy(e.scales.data(), q.value().scales.data(), e.scales.size());
  auto m = load(s);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  const std::vector<float> l = logits_after(m.value(), {1, 50, 60});
  for (float v : l) REQUIRE(std::isfinite(v));
}
