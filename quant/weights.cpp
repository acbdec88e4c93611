#include "quant/weights.hpp"

#include <cmath>

namespace ordinal::quant {

Int8Rows quantize_rows_int8(const float* w, size_t rows, size_t cols) {
  Int8Rows out;
  out.q.assign(rows * cols, 0);
  out.scales.assign(rows, 0.0f);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float amax = 0.0f;
    for (size_t j = 0; j < cols; ++j) amax = std::fmax(amax, std::fabs(row[j]));
    if (!(amax > 0.0f)) continue;
    const float s = amax / 127.0f;
    if (!(s > 0.0f)) continue;  // max |w| below ~1.5e-43: the scale underflows; the row quantizes to zero
    out.scales[r] = s;
    for (size_t j = 0; j < cols; ++j) {
      long v = std::lrint(static_cast<double>(row[j]) / s);  // nearest, ties to even
      v = v > 127 ? 127 : (v < -127 ? -127 : v);
      out.q[r * cols + j] = static_cast<int8_t>(v);
    }
  }
  return out;
}

}  // namespace ordinal::quant
