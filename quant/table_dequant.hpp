// quant/'s host-side descriptions of quantized position tables (RowTable, CodebookTable, LowRankTable:
// the arrays a quantizer produces before they become model tensors) and their dequantization, for
// quantizers' own fitting loops and tests. Host-only: not in the device library. What a session adds is
// the runtime positional module's row (positional/encoder.hpp); errors reported to users are measured on
// that (modelio::runtime_position_rows), never on these functions.
//
// Value semantics (identical bits on every target and for the later NEON paths): each element is
// v = float(q - z) * scale with q - z an exact small integer, i.e. ONE float rounding, round to nearest even,
// |v - (q - z) * scale| <= 2^-24 |v| (f32/f16 storage: v is the stored value, exact); add_* then does
// x += v (one more rounding); dequant_* stores x = v. Quantization error itself is quant/'s, see there.
// Layouts are row-major; packed int4 uses the flattened element index (row * cols + c), two per byte,
// even index in the low nibble, so with even cols every row starts on a byte boundary.
#pragma once

#include <cstdint>

#include "ordinal/status.hpp"

namespace ordinal::quant {

// ---- Raw kernels: no checks (validate with validate_row_table once at load). `row` in [0, rows). ----
void add_row_f32(const float* table, int cols, int64_t row, float* x);
void add_row_f16(const uint16_t* table_f16, int cols, int64_t row, float* x);
// int8 symmetric per row: v = q[row, c] * row_scales[row].
void add_row_int8_row_f32scale(const int8_t* q, const float* row_scales, int cols, int64_t row, float* x);
void add_row_int8_row_f16scale(const int8_t* q, const uint16_t* row_scales_f16, int cols, int64_t row,
                               float* x);
// int8 per channel: v = q[row, c] * col_scales[c] (one scale per column, shared by all rows).
void add_row_int8_col(const int8_t* q, const float* col_scales, int cols, int64_t row, float* x);
// int4 group-wise along the row, one f16 scale per group ([rows][cols/group]).
// zero_points == nullptr: signed codes in [-8, 7], v = q * scale.
// zero_points != nullptr: unsigned codes u in [0, 15], uint8 zero point per group, v = (u - z) * scale.
void add_row_int4_group(const uint8_t* packed, const uint16_t* scales_f16, const uint8_t* zero_points,
                        int cols, int group, int64_t row, float* x);
// As above with 4-bit zero points packed two per byte over the flattened [rows][cols/group] index.
void add_row_int4_group_zp4(const uint8_t* packed, const uint16_t* scales_f16,
                            const uint8_t* zero_points_packed, int cols, int group, int64_t row, float* x);

// ---- Described tables (checked entry points) ----
enum class RowFormat {
  kF32,              // data: float[rows][cols]
  kF16,              // data: uint16 (IEEE half)[rows][cols]
  kInt8RowF32Scale,  // data: int8[rows][cols], scales: float[rows]
  kInt8RowF16Scale,  // data: int8[rows][cols], scales: uint16 half[rows]
  kInt8Col,          // data: int8[rows][cols], scales: float[cols]
  kInt4Group,        // data: packed int4, scales: half[rows][cols/group]
  kInt4GroupZpU8,    // + zero_points: uint8[rows][cols/group]
  kInt4GroupZpU4,    // + zero_points: packed uint4 over [rows][cols/group]
};

struct RowTable {
  RowFormat format = RowFormat::kF32;
  int64_t rows = 0;
  int cols = 0;
  int group = 0;  // int4 formats only: > 0 and divides cols
  const void* data = nullptr;
  const void* scales = nullptr;
  const uint8_t* zero_points = nullptr;
};

const char* row_format_name(RowFormat format);
// Non-null pointers the format needs, rows/cols > 0, cols even and group | cols for int4.
Status validate_row_table(const RowTable& table);
// Bytes of data + scales + zero points: the storage cost of the table.
int64_t row_table_bytes(const RowTable& table);
// Checks row in [0, rows) then runs the raw kernel. dequant_row stores, add_row accumulates.
Status add_row(const RowTable& table, int64_t row, float* x);
Status dequant_row(const RowTable& table, int64_t row, float* out);

// ---- Codebook: position p uses codebook row indices[p] (u8 or u16; exactly one non-null) ----
struct CodebookTable {
  RowTable codebook;  // K rows of any RowFormat
  int64_t num_positions = 0;
  const uint8_t* indices_u8 = nullptr;
  const uint16_t* indices_u16 = nullptr;
};
Status validate_codebook_table(const CodebookTable& table);  // also checks every index < K
Status add_row_codebook(const CodebookTable& table, int64_t pos, float* x);

// ---- Low rank: row p = A[p, :] * B, A [rows x rank], B [rank x cols], rank <= kMaxLowRank ----
constexpr int kMaxLowRank = 256;
// f32: acc_c = sum over k ascending of fl(a[p,k] * b[k,c]) accumulated in float from 0, then x[c] += acc_c.
void add_row_lowrank_f32(const float* a, const float* b, int rank, int cols, int64_t row, float* x);
// int8 per row: a[p,k] = qa[p,k] * a_scales[p], b[k,c] = qb[k,c] * b_scales[k]. Coefficient
// alpha_k = fl(fl(qa[p,k] * a_scales[p]) * b_scales[k]); acc_c = sum_k fl(alpha_k * qb[k,c]); x[c] += acc_c.
void add_row_lowrank_int8(const int8_t* qa, const float* a_scales, const int8_t* qb, const float* b_scales,
                          int rank, int cols, int64_t row, float* x);

enum class LowRankFormat { kF32, kInt8Row };
struct LowRankTable {
  LowRankFormat format = LowRankFormat::kF32;
  int64_t rows = 0;
  int rank = 0;
  int cols = 0;
  const float* a = nullptr;  // kF32
  const float* b = nullptr;
  const int8_t* qa = nullptr;  // kInt8Row
  const float* a_scales = nullptr;
  const int8_t* qb = nullptr;
  const float* b_scales = nullptr;
};
Status validate_lowrank_table(const LowRankTable& table);
int64_t lowrank_table_bytes(const LowRankTable& table);
Status add_row_lowrank(const LowRankTable& table, int64_t row, float* x);

}  // namespace ordinal::quant
