// `quantize --pos hybrid-K-lowrank-R[-qkv]`: a learned table becomes a hybrid table (exact int8 rows for
// positions < K, a rank-R int8 low-rank tail). The -qkv variant weights the tail fit by the metric of the
// model's first layer (model_metric below) instead of the plain squared error.
#pragma once

#include <string>
#include <vector>

#include "modelio/model_spec.hpp"
#include "ordinal/pos_grammar.hpp"
#include "ordinal/quantize.hpp"
#include "quant/table_quantizers.hpp"

namespace ordinal::cli::quantize {

// True when `scheme` names a hybrid setting (whether or not its numbers are valid).
bool is_hybrid_setting(const std::string& scheme);
// The --pos grammar's recogniser (pos_grammar.cpp): K in n, R in n2, variant = -qkv.
bool parse_hybrid_setting(const std::string& scheme, PosSetting* out);
// hybrid_candidates for any table length (the search drops settings whose K reaches the table's rows).
std::vector<std::string> hybrid_search_values();

// The --pos settings --search tries for a learned table of `positions` rows.
std::vector<std::string> hybrid_candidates(int64_t positions);

// Replaces spec.positional (a learned table whose f32 values are `table` [P x D]) by the hybrid table
// `scheme` describes. Errors: malformed setting, K or R out of range, a model without a first layer.
Status apply_hybrid_table(modelio::ModelSpec& spec, const std::vector<float>& table, int64_t P, int D,
                          const std::string& scheme);

// The metric [D x D] the -qkv fit minimises: how an error e in a position vector reaches the model's first
// layer. e enters the residual stream unchanged (identity term) and, through the first norm (centred,
// scaled by its gain g; the 1/sigma of the token-dependent norm is a common factor), the q/k/v projections
// W = [Wq; Wk; Wv]: G = C diag(g) W^T W diag(g) C with C the centring matrix (LayerNorm; RMSNorm: C = I).
// M = I / D + G / trace(G), so both paths weigh equally and M is positive definite.
Result<std::vector<double>> model_metric(const modelio::ModelSpec& spec);

// Defined in quantize_positional.cpp: a host tensor in the file's layout for a quantized table.
modelio::HostTensor tensor_from_quantized(const std::string& name, const quant::QuantizedTable& q);

}  // namespace ordinal::cli::quantize
