// `ordinal quantize --weights f32|f16|int8`: converts every linear layer, the token embedding and the
// classifier. int8 is per output channel (row) with f32 scales, symmetric [-127, 127]; the runtime runs
// it on its int8 kernel (activations quantized per token) and reads embedding rows with their scale.
#pragma once

#include <string>

#include "modelio/model_spec.hpp"
#include "ordinal/status.hpp"

namespace ordinal::cli::quantize {

struct WeightConversion {
  int tensors = 0;           // tensors converted
  double max_abs_error = 0;  // over every converted weight
  double max_rel_rms = 0;    // worst tensor's rms(error) / rms(weights)
};

// weights: "keep" (no change), "f32" (widen f16/int8), "f16", "int8".
Result<WeightConversion> convert_model_weights(modelio::ModelSpec& spec, const std::string& weights);

}  // namespace ordinal::cli::quantize
