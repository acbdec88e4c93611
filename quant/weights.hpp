// Host-side weight quantizers for linear layers, embeddings and classifiers (`ordinal quantize --weights`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"

namespace ordinal::quant {

struct Int8Rows {
  std::vector<int8_t> q;      // [rows, cols], every value in [-127, 127]
  std::vector<float> scales;  // [rows]
};

// Per-row (per output channel) symmetric int8: s_r = max|w_r| / 127, q = round-half-even(w / s_r) clamped
// to [-127, 127] (never -128: the runtime's int8 kernel needs the symmetric range). All-zero rows get s = 0.
// Error per weight: |w - s_r q| <= 0.5001 s_r (rounding plus float error of the division).
Int8Rows quantize_rows_int8(const float* w, size_t rows, size_t cols);

// Group-wise formats of the runtime's group kernels (kernels/group_gemm.hpp): one f16 scale per `group`
// consecutive elements of a row.
enum class GroupFormat : uint8_t {
  kInt8,      // q in [-127, 127], w = q d                  (GGUF Q8_0's numbers)
  kInt4,      // s in [-8, 7], w = s d, nibble = s & 15     (GGUF Q4_0's numbers: s = q - 8)
  kInt4Zero,  // u in [0, 15], w = (u - z) d, u8 z per group (asymmetric)
};

struct GroupQuantized {
  std::vector<uint8_t> codes;        // int8: one per element; int4: rows of cols / 2 bytes, low nibble first
  std::vector<uint16_t> scales;      // f16 bits, [rows * cols / group]
  std::vector<uint8_t> zero_points;  // kInt4Zero only, [rows * cols / group]
};

// Quantizes w [rows, cols] (group even, dividing cols; int8 any group). Per group, with d the f16-rounded
// scale actually stored (so the codes fit the scale the runtime reads):
//  - kInt8: d = f16(max|w| / 127), q = round-half-even(w / d) clamped to [-127, 127]; |w - q d| <= 0.5 d
//    except where f16 rounding of d clipped the largest value (then <= 0.5 d + 127 * 2^-11 d).
//  - kInt4: the scale that minimises the group's squared error over 17 candidates d = f16(max|w| / c),
//    c in [6.5, 8.5] step 1/8, then one least-squares step (d = sum(w q) / sum(q q) for those codes, kept
//    when it lowers the error); codes round-half-even(w / d) clamped to [-8, 7]. Per weight
//    |w - s d| <= max(d / 2, max w - 7 d, -min w - 8 d) (clipping traded against rounding; <= 0.18 max|w| for
//    every candidate scale, and the least-squares step is kept only when it lowers the group's error).
//  - kInt4Zero: range [min(w, 0), max(w, 0)] over 15 steps, z = round(-min / d), u = clamp(round(w / d) + z);
//    |w - (u - z) d| <= d.
// An all-zero group gets d = 0. Fails when a scale does not fit f16 (|w| above ~8e6) or w is not finite.
Result<GroupQuantized> quantize_groups(const float* w, size_t rows, size_t cols, size_t group, GroupFormat f);

// The values the runtime reconstructs from q (row-major [rows, cols]), in double.
std::vector<double> dequantize_groups(const GroupQuantized& q, size_t rows, size_t cols, size_t group,
                                      GroupFormat f);

}  // namespace ordinal::quant
