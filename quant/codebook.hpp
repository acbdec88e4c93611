// Codebook (vector-quantized) position tables: k-means over the P rows, each position stores a u8/u16 index
// into K codewords; the codebook itself may be stored f32, int8-per-row or int4-group (table_quantizers).
// Deterministic: k-means++ seeding and every random draw come from numerics::SplitMix64 with the given seed
// (no std:: distributions), sums are accumulated in double in a fixed order, ties go to the lowest index.
#pragma once

#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"
#include "quant/table_dequant.hpp"
#include "quant/table_quantizers.hpp"

namespace ordinal::quant {

struct CodebookOptions {
  int k = 256;               // number of codewords, 1..65536 (clamped to the number of positions)
  int max_iterations = 100;  // Lloyd iterations after seeding
  uint64_t seed = 1;
  quant::RowFormat codebook_format = quant::RowFormat::kF32;
  int group = 32;                           // int4 codebook formats
  bool reassign_after_quantization = true;  // re-pick each position's nearest *stored* codeword
};

struct Codebook {
  int k = 0;
  int cols = 0;
  int64_t num_positions = 0;
  std::vector<float> centroids;       // k x cols, f32 k-means result (before storage quantization)
  QuantizedTable storage;             // the codebook as stored
  std::vector<uint8_t> indices_u8;    // used when k <= 256
  std::vector<uint16_t> indices_u16;  // used when k > 256
  int iterations = 0;                 // Lloyd iterations run
  double inertia = 0;                 // sum of squared distances to the assigned stored codeword

  quant::CodebookTable view() const;
  int64_t bytes() const;  // codebook storage + indices
  int64_t index_of(int64_t pos) const { return k <= 256 ? indices_u8[pos] : indices_u16[pos]; }
};

Result<Codebook> build_codebook(const float* table, int64_t positions, int cols,
                                const CodebookOptions& options);

// Reconstructed [positions x cols] table through the runtime's add_row_codebook.
std::vector<float> reconstruct_codebook(const Codebook& codebook);

}  // namespace ordinal::quant
