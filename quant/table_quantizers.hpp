// Host-side quantizers for learned position tables. Each produces exactly the byte layout that
// positional/table_dequant reads (RowTable), so reconstruction through the runtime kernels is the truth.
#pragma once

#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"
#include "quant/table_dequant.hpp"

namespace ordinal::quant {

struct QuantizedTable {
  quant::RowFormat format = quant::RowFormat::kF32;
  int64_t rows = 0;
  int cols = 0;
  int group = 0;
  std::vector<uint8_t> data;         // float / half / int8 / packed int4 bytes (host endianness: little)
  std::vector<uint8_t> scales;       // float or half per the format
  std::vector<uint8_t> zero_points;  // uint8 or packed uint4

  quant::RowTable view() const;  // points into the vectors above
  int64_t bytes() const { return quant::row_table_bytes(view()); }
};

// Quantization rules (all round-to-nearest-even via std::nearbyint, saturating):
//  kF16              float_to_half (RNE).
//  kInt8RowF32Scale  scale = max|row| / 127, q in [-127, 127].
//  kInt8RowF16Scale  as above with the scale rounded UP to the next half (so no value clips).
//  kInt8Col          scale per column = max|column| / 127 (f32).
//  kInt4Group        symmetric per group: scale from {max|g|/7, max|g|/8} (the one with lower group squared
//                    error; /8 lets -8 be used and clips positives to 7*scale), half rounded up, q in [-8,
//                    7].
//  kInt4GroupZpU8/U4 asymmetric per group over [min(g, 0), max(g, 0)]: scale = range / 15 (half, rounded
//                    up), zero point z = round(-min/scale) in [0, 15], u = clamp(round(x/scale) + z, 0, 15).
// group must divide cols (16/32/64 typical); int4 formats need even cols.
Result<QuantizedTable> quantize_table(const float* table, int64_t rows, int cols, quant::RowFormat format,
                                      int group = 32);

// Full reconstruction (host only) through quant::dequant_row.
std::vector<float> dequantize_table(const QuantizedTable& table);

}  // namespace ordinal::quant
