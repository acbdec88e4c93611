// The loader's checks of the model's parts, one file per concern (format/*_checks.cpp); load_model_data
// (format/loader.cpp) runs them in order. Runtime-internal.
#pragma once

#include <vector>

#include "format/load_checks.hpp"
#include "model_data.hpp"
#include "ordinal/status.hpp"
#include "ordinal/tokenizer.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

// Container: no two tensors, scale or zero-point arrays claim overlapping bytes (tensor_checks.cpp).
Status check_no_overlap(std::vector<ClaimedRange>* claimed);

// Config: enum values known, dimensions in range and consistent (config_checks.cpp).
Status check_config(const schema::Config* c, ModelConfig* cfg);

// Tokenizer block against the vocabulary (tokenizer_checks.cpp).
Status check_tokenizer(const schema::Tokenizer* t, uint32_t vocab, Tokenizer* out);

// Per-architecture weights: every layer's tensors against the config (layer_checks.cpp), and a linear
// weight's storage format against what the linear kernels run.
Status check_layers(const Ctx& ctx, const schema::Model* m, detail::ModelData* md);
Status check_linear_weight(const TensorView& v);

// Positional block, through its scheme's module (positional_checks.cpp).
Status check_positional(const Ctx& ctx, const schema::Model* m, detail::ModelData* md);

}  // namespace ordinal::format
