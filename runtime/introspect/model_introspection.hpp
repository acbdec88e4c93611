// Read-only introspection of a loaded Model for the host tools (inspect, quantize, verify, bench): what the
// loader verified, as typed views into the mapped file, and the positional module sessions use.
// Host-side: its own library (ordinal_introspect), linked by tools and tests, never by the device library;
// apps see only the public headers, where a Model's contents are opaque.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/tensor_view.hpp"
#include "model_data.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/status.hpp"
#include "positional/encoder.hpp"

namespace ordinal::introspect {

// Everything the loader verified: config, tensors, positional settings and arrays, tokenizer, metadata.
// Valid as long as `model` is.
const detail::ModelData& contents(const Model& model);

// The positional component: its settings (detail::PositionalSettings, the type the host tools' specs
// share) and typed views of its stored arrays.
const detail::PositionalParams& positional(const Model& model);

uint32_t format_version(const Model& model);
const std::vector<std::pair<std::string, std::string>>& metadata(const Model& model);

// Every present tensor, in file order of roles (token embedding, positional arrays, layers, final norm,
// classifier).
std::vector<const format::TensorView*> tensors(const Model& model);

// Stored bytes per component (data + scales + zero points), as inspect prints them.
struct ComponentBytes {
  uint64_t token_embedding = 0;
  uint64_t positional = 0;
  uint64_t attention = 0;  // q, k, v, o weights and biases
  uint64_t mlp = 0;
  uint64_t norms = 0;       // every layer's norms plus the final one
  uint64_t classifier = 0;  // 0 when tied to the token embedding
};
ComponentBytes component_bytes(const Model& model);

// The positional module a session of this model runs (same kernels, same bits): stored rows, rotation,
// attention bias. Fails as Session::create would for a model whose positional component has no module.
Result<positional::PositionalEncoder> positional_encoder(const Model& model);

}  // namespace ordinal::introspect
