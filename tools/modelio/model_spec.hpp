// Host-side, owned description of a whole model: what importers build, quantizers transform and the
// writer serialises. Mirrors models/schema/ordinal.fbs field for field.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/tensor_view.hpp"
#include "model_data.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"
#include "ordinal/tokenizer.hpp"

namespace ordinal::modelio {

struct HostTensor {
  std::string name;
  format::DType dtype = format::DType::kF32;
  std::vector<uint32_t> shape;  // empty = absent
  std::vector<uint8_t> data;
  format::QuantGranularity granularity = format::QuantGranularity::kNone;
  uint32_t group_size = 0;
  format::DType scale_dtype = format::DType::kF32;
  std::vector<uint8_t> scales;
  std::vector<uint8_t> zero_points;

  bool present() const { return !shape.empty(); }
  uint64_t elements() const;
  // Storage bytes of data + scales + zero points.
  uint64_t total_bytes() const { return data.size() + scales.size() + zero_points.size(); }

  static HostTensor f32(std::string name, std::vector<uint32_t> shape, const float* values);
  static HostTensor f32(std::string name, std::vector<uint32_t> shape, const std::vector<float>& values) {
    return f32(std::move(name), std::move(shape), values.data());
  }
  // Copies a loaded tensor (data and quantization) out of a mapped model.
  static HostTensor from_view(const format::TensorView& v);
  // Dequantized f32 values (f32/f16/i8/i4 of any granularity).
  std::vector<float> to_f32() const;
};

struct HostLayer {
  HostTensor attn_norm, attn_norm_bias, wq, wk, wv, wo, bq, bk, bv, bo, ffn_norm, ffn_norm_bias, w1, w2, w3,
      b1, b2;
};

// The positional component of a spec: the settings the runtime reads (detail::PositionalSettings, one
// type for both sides) plus owned arrays.
struct HostPositional : detail::PositionalSettings {
  HostTensor table, codebook, indices, low_a, low_b;
  uint32_t positions = 0;  // bucketed: positions the table covers
  std::vector<uint64_t> frequencies;
  std::vector<uint32_t> slopes_q32;

  uint64_t bytes() const;
};

struct ModelSpec {
  ModelConfig config;
  HostTensor token_embedding;
  std::vector<HostLayer> layers;
  HostTensor final_norm, final_norm_bias, classifier;
  HostPositional positional;
  Tokenizer::Spec tokenizer;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string task_spec;
};

// Serialises a spec into a model file image (size-prefixed FlatBuffer + 64-byte aligned data segment).
Result<std::vector<uint8_t>> serialize_model(const ModelSpec& spec);
Status write_model(const ModelSpec& spec, const std::string& path);
// Copies a loaded model back into an owned spec (tools transform it and write a new file).
ModelSpec spec_from_model(const Model& model);

}  // namespace ordinal::modelio
