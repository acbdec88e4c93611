// ggml block formats -> Ordinal tensor storage.
//
// Lossless takeovers into the schema's group-wise formats (group 32 along each row, F16 scales):
//   Q8_0 (d: f16, 32 x int8 q; x = q * d)            -> I8 per-group, scale d, codes copied.
//   Q4_0 (d: f16, 16 bytes; x = (nibble - 8) * d)     -> I4 per-group (signed, low nibble = even element),
//        ggml stores element j in the low and j + 16 in the high nibble of byte j: repacked to pairs.
// Everything else is dequantized to f32 with ggml's reference arithmetic (dequantize_row_*), which is exact
// for F16/BF16/Q8_0/Q4_0/Q5_0 (a small integer times an f16 scale fits f32's mantissa) and reproduces
// ggml's own float rounding for Q4_1/Q5_1 (d * q + m) and the K-quants (d * sc * q - dmin * m).
#pragma once

#include <cstdint>
#include <vector>

#include "importers/gguf_file.hpp"

namespace ordinal::importers::gguf {

// Dequantizes `elements` values (a whole number of blocks) of ggml type `type` from `src` into `out`.
// False when the type is unsupported or `elements` is not a multiple of its block.
bool dequantize(uint32_t type, const uint8_t* src, uint64_t elements, float* out);

// Result of a lossless takeover. The schema's scales are finite and non-negative; ggml's d may be
// negative (gguf-py's and llama.cpp's Q4_0 take the sign of the largest-magnitude element), so a
// negative d is folded into the codes.
enum class Repack {
  kDone,
  kNotRepresentable,  // a negative Q8_0 scale over a code of -128 (negating it leaves int8): dequantize
  kNonFinite,         // a NaN or infinite scale: the tensor is broken
};

// Q8_0 rows (`rows` x `cols`, cols % 32 == 0) -> int8 codes (rows x cols) and F16 scale bits
// (rows x cols / 32), in row-major group order. A negative d becomes |d| with negated codes.
Repack repack_q8_0(const uint8_t* src, uint64_t rows, uint64_t cols, std::vector<uint8_t>* codes,
                   std::vector<uint8_t>* scales_f16);

// Q4_0 rows -> packed int4 (two per byte, element 2k in the low nibble of byte k) and F16 scales |d|.
// When every d >= 0 the codes are signed int4 (nibble - 8) and `zero_points` stays empty. Otherwise the
// codes are unsigned with one U8 zero point per group: q = nibble, zp = 8 where d >= 0, and
// q = 15 - nibble, zp = 7 where d < 0 (then (q - zp) * |d| = (nibble - 8) * d exactly).
Repack repack_q4_0(const uint8_t* src, uint64_t rows, uint64_t cols, std::vector<uint8_t>* packed,
                   std::vector<uint8_t>* scales_f16, std::vector<uint8_t>* zero_points);

}  // namespace ordinal::importers::gguf
