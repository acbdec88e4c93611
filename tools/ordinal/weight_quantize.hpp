// `ordinal quantize --weights W`: converts every linear layer, the token embedding and the classifier.
//  - int8: per output channel (row) with f32 scales, symmetric [-127, 127].
//  - int8-gN, int4, int4-gN, int4-gN-zp: group-wise with f16 scales (groups of N, default 32; N a multiple of
//    32), the arithmetic in quant/weights.hpp, run by kernels/group_gemm. A tensor whose columns N does not
//    divide (stories260K's hidden 172) is stored per-row int8 instead, and counted.
#pragma once

#include <string>

#include "modelio/model_spec.hpp"
#include "ordinal/status.hpp"

namespace ordinal::cli::quantize {

struct WeightConversion {
  int tensors = 0;            // tensors converted
  double max_abs_error = 0;   // over every converted weight
  double max_rel_rms = 0;     // worst tensor's rms(error) / rms(weights)
  int per_row_fallbacks = 0;  // group-wise formats: tensors stored per-row int8 (columns not a multiple of N)
};

// weights: "keep" (no change), "f32" (widen f16/int8), "f16", "int8", "int8-gN", "int4[-gN][-zp]".
Result<WeightConversion> convert_model_weights(modelio::ModelSpec& spec, const std::string& weights);

}  // namespace ordinal::cli::quantize
