// Host tools' read-only view of a loaded model: thin accessors over the verified contents the runtime
// keeps behind Model's opaque Impl.
#include "introspect/model_introspection.hpp"

#include "format/load_checks.hpp"
#include "model_internals.hpp"

namespace ordinal::introspect {

const detail::ModelData& contents(const Model& model) {
  return detail::model_data(model);
}

const detail::PositionalParams& positional(const Model& model) {
  return contents(model).positional;
}

uint32_t format_version(const Model& model) {
  return contents(model).format_version;
}

const std::vector<std::pair<std::string, std::string>>& metadata(const Model& model) {
  return contents(model).metadata;
}

std::vector<const format::TensorView*> tensors(const Model& model) {
  return contents(model).tensors();
}

ComponentBytes component_bytes(const Model& model) {
  const detail::ModelData& m = contents(model);
  ComponentBytes b;
  b.token_embedding = format::stored_bytes(m.token_embedding);
  b.positional = m.positional.bytes;
  for (const detail::LayerWeights& w : m.layers) {
    for (const auto* v : {&w.wq, &w.wk, &w.wv, &w.wo, &w.bq, &w.bk, &w.bv, &w.bo})
      b.attention += format::stored_bytes(*v);
    for (const auto* v : {&w.w1, &w.w2, &w.w3, &w.b1, &w.b2}) b.mlp += format::stored_bytes(*v);
    for (const auto* v : {&w.attn_norm, &w.attn_norm_bias, &w.ffn_norm, &w.ffn_norm_bias})
      b.norms += format::stored_bytes(*v);
  }
  b.norms += format::stored_bytes(m.final_norm) + format::stored_bytes(m.final_norm_bias);
  b.classifier = format::stored_bytes(m.classifier);
  return b;
}

Result<positional::PositionalEncoder> positional_encoder(const Model& model) {
  return positional::PositionalEncoder::create(contents(model));
}

}  // namespace ordinal::introspect
