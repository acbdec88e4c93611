#include "ordinal/weight_quantize.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "numerics/half.hpp"
#include "ordinal/quantize.hpp"
#include "quant/weights.hpp"

namespace ordinal::cli::quantize {

namespace {

using modelio::HostTensor;

// Replaces t's storage with `values` in format `weights`; returns the stored values as floats.
std::vector<float> store(HostTensor& t, const std::vector<float>& values, const std::string& weights) {
  const size_t rows = t.shape[0];
  const size_t cols = t.shape.size() > 1 ? t.shape[1] : 1;
  std::vector<float> stored(values.size());
  t.granularity = format::QuantGranularity::kNone;
  t.group_size = 0;
  t.scale_dtype = format::DType::kF32;
  t.scales.clear();
  t.zero_points.clear();
  if (weights == "f32") {
    t.dtype = format::DType::kF32;
    t.data.resize(values.size() * 4);
    std::memcpy(t.data.data(), values.data(), t.data.size());
    stored = values;
  } else if (weights == "f16") {
    t.dtype = format::DType::kF16;
    t.data.resize(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint16_t h = numerics::float_to_half(values[i]);
      std::memcpy(t.data.data() + 2 * i, &h, 2);
      stored[i] = numerics::half_to_float(h);
    }
  } else {
    const quant::Int8Rows q = quant::quantize_rows_int8(values.data(), rows, cols);
    t.dtype = format::DType::kI8;
    t.granularity = format::QuantGranularity::kPerRow;
    t.data.assign(reinterpret_cast<const uint8_t*>(q.q.data()),
                  reinterpret_cast<const uint8_t*>(q.q.data()) + q.q.size());
    t.scales.resize(rows * 4);
    std::memcpy(t.scales.data(), q.scales.data(), t.scales.size());
    for (size_t i = 0; i < values.size(); ++i) stored[i] = static_cast<float>(q.q[i]) * q.scales[i / cols];
  }
  return stored;
}

}  // namespace

Result<WeightConversion> convert_model_weights(modelio::ModelSpec& spec, const std::string& weights) {
  WeightConversion r;
  if (weights == "keep") return r;
  if (weights != "f32" && weights != "f16" && weights != "int8") {
    return invalid_argument("--weights must be f32, f16 or int8 (got '" + weights + "')");
  }
  const format::DType target = weights == "f32"   ? format::DType::kF32
                               : weights == "f16" ? format::DType::kF16
                                                  : format::DType::kI8;
  auto convert = [&](HostTensor& t) {
    if (!t.present() || t.dtype == target) return;  // int8 tensors already per-row stay as they are
    const std::vector<float> values = t.to_f32();
    const std::vector<float> stored = store(t, values, weights);
    double err2 = 0, ref2 = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const double e = std::fabs(static_cast<double>(stored[i]) - values[i]);
      r.max_abs_error = std::max(r.max_abs_error, e);
      err2 += e * e;
      ref2 += static_cast<double>(values[i]) * values[i];
    }
    if (ref2 > 0) r.max_rel_rms = std::max(r.max_rel_rms, std::sqrt(err2 / ref2));
    ++r.tensors;
  };
  convert(spec.token_embedding);
  convert(spec.classifier);
  for (modelio::HostLayer& l : spec.layers) {
    for (HostTensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) convert(*t);
  }
  return r;
}

Result<double> convert_weights(modelio::ModelSpec& spec, const std::string& weights) {
  ORDINAL_ASSIGN_OR_RETURN(WeightConversion c, convert_model_weights(spec, weights));
  return c.max_abs_error;
}

}  // namespace ordinal::cli::quantize
