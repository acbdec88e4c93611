// Host-side weight quantizers for linear layers, embeddings and classifiers (`ordinal quantize --weights`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ordinal::quant {

struct Int8Rows {
  std::vector<int8_t> q;      // [rows, cols], every value in [-127, 127]
  std::vector<float> scales;  // [rows]
};

// Per-row (per output channel) symmetric int8: s_r = max|w_r| / 127, q = round-half-even(w / s_r) clamped
// to [-127, 127] (never -128: the runtime's int8 kernel needs the symmetric range). All-zero rows get s = 0.
// Error per weight: |w - s_r q| <= 0.5001 s_r (rounding plus float error of the division).
Int8Rows quantize_rows_int8(const float* w, size_t rows, size_t cols);

}  // namespace ordinal::quant
