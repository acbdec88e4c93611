// The host side of a positional scheme module (the device side is runtime/src/positional/scheme_*.cpp):
// how the scheme's block is written to a model file and described by `ordinal inspect`. One table
// (host_scheme_registry.cpp) connects them; host tools never switch over the scheme themselves.
#pragma once

#include <string>
#include <utility>

#include "format/schema_enums.hpp"  // the enum pairs host schemes cast
#include "model_data.hpp"
#include "modelio/model_spec.hpp"
#include "modelio/tensor_writer.hpp"
#include "ordinal_generated.h"

namespace ordinal::modelio {

using PositionalBlock = std::pair<schema::Positional, flatbuffers::Offset<void>>;

struct HostSchemeModule {
  PositionalScheme scheme;
  // Serialises the scheme's block (tables go to the data segment through `tensors`).
  PositionalBlock (*write)(flatbuffers::FlatBufferBuilder& b, TensorWriter& tensors, const HostPositional& p);
  // One line for inspect: the settings that matter for this scheme.
  std::string (*describe)(const detail::PositionalParams& p, const ModelConfig& config);
  // Table schemes: views of the spec's arrays as the loader would make them from a file (null otherwise),
  // so the runtime's module can reconstruct the table before anything is written.
  void (*view)(const HostPositional& p, detail::PositionalParams* out);
};

// A runtime view of a host tensor (valid while the tensor lives and is not modified).
format::TensorView view_of(const HostTensor& t);

// Every stored position vector [positions x dim] of a spec's table scheme, computed by the runtime's own
// module and kernels (positional::PositionalEncoder::stored_row): bit for bit what a session adds. Error
// for schemes without a stored table.
Result<std::vector<float>> runtime_position_rows(const ModelSpec& spec);

// A relative-bias spec's table [num_buckets x n_heads] as the runtime's module reads it (the bias a session
// adds for a query/key pair in each bucket): bit for bit what attention sees. Error for other schemes.
Result<std::vector<float>> runtime_relative_bias_table(const ModelSpec& spec);

// The host module of a scheme; null for a value outside the enum (test_positional_registry walks them all).
const HostSchemeModule* find_host_scheme(PositionalScheme scheme);

// Describes a loaded model's positional settings ("base 10000, rotary dims 64 of 64, ..."), or says why not.
std::string describe_positional(const detail::PositionalParams& p, const ModelConfig& config);

// RoPE settings on the host (host_scheme_computed.cpp). The --rope-scaling grammar is defined once, here:
// quantize's usage text prints kRopeScalingGrammar and its parser is parse_rope_scaling.
extern const char* const kRopeScalingGrammar;
// Parses "KIND:ARGS" (see kRopeScalingGrammar) into s's scaling fields.
Status parse_rope_scaling(const std::string& text, detail::PositionalSettings* s);
// Stores the frequencies a RoPE spec's precision and scaling need (none for unscaled F32: float angles as
// llama2.c/HF compute them) and the YaRN attention factor. rotary_dims 0 means head_dim.
Status compute_rope_frequencies(uint32_t head_dim, HostPositional* p);

extern const HostSchemeModule kHostNoPosition;
extern const HostSchemeModule kHostLearnedTable;
extern const HostSchemeModule kHostCodebookTable;
extern const HostSchemeModule kHostBucketedTable;
extern const HostSchemeModule kHostLowRankTable;
extern const HostSchemeModule kHostSinusoidal;
extern const HostSchemeModule kHostRope;
extern const HostSchemeModule kHostAlibi;
extern const HostSchemeModule kHostRelativeBias;
extern const HostSchemeModule kHostHybridTable;

}  // namespace ordinal::modelio
