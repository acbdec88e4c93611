#include "quant/table_dequant.hpp"

#include <string>

#include "kernels/simd.hpp"
#include "numerics/fixed_point.hpp"
#include "numerics/half.hpp"
#include "numerics/strict_float.hpp"  // no FMA contraction in the definitions below

namespace ordinal::quant {

namespace {

using numerics::half_to_float;

// Store or accumulate one dequantized value; `v` is already a single-rounded float.
template <bool kAccumulate>
inline void put(float* x, int c, float v) {
  if (kAccumulate) {
    x[c] += v;
  } else {
    x[c] = v;
  }
}

template <bool kAccumulate>
void row_f32(const float* table, int cols, int64_t row, float* x) {
  const float* r = table + row * cols;
  for (int c = 0; c < cols; ++c) put<kAccumulate>(x, c, r[c]);
}

template <bool kAccumulate>
void row_f16(const uint16_t* table, int cols, int64_t row, float* x) {
  numerics::halves_to_floats(table + row * cols, static_cast<size_t>(cols), x, kAccumulate);
}

// int8 and int4 rows go through the SIMD table (kernels/simd.hpp): the same single rounding per element.
template <bool kAccumulate>
void row_int8_scaled(const int8_t* q, float scale, int cols, int64_t row, float* x) {
  kernels::active_kernels().dequant_i8(q + row * cols, scale, x, static_cast<size_t>(cols), kAccumulate);
}

template <bool kAccumulate>
void row_int8_col(const int8_t* q, const float* col_scales, int cols, int64_t row, float* x) {
  kernels::active_kernels().dequant_i8_scales(q + row * cols, col_scales, x, static_cast<size_t>(cols),
                                              kAccumulate);
}

enum class ZeroPoints { kNone, kU8, kU4 };

template <bool kAccumulate, ZeroPoints kZp>
void row_int4_group(const uint8_t* packed, const uint16_t* scales_f16, const uint8_t* zero_points, int cols,
                    int group, int64_t row, float* x) {
  const int groups = cols / group;
  const int64_t first_element = row * cols;
  const int64_t first_group = row * groups;
  for (int g = 0; g < groups; ++g) {
    const float scale = half_to_float(scales_f16[first_group + g]);
    int32_t zero = 0;
    if (kZp == ZeroPoints::kU8) zero = zero_points[first_group + g];
    if (kZp == ZeroPoints::kU4) zero = numerics::unpack_uint4(zero_points, first_group + g);
    // Signed codes are (nibble ^ 8) - 8; unsigned ones nibble - zero (simd.hpp).
    const uint8_t flip = kZp == ZeroPoints::kNone ? 8 : 0;
    if (kZp == ZeroPoints::kNone) zero = 8;
    int64_t e = first_element + int64_t{g} * group;  // flattened index of the group's first element
    int c = g * group;
    if (e % 2 != 0) {  // an odd group size can start a group on a high nibble: that element alone here
      const int32_t code = static_cast<int32_t>(numerics::unpack_uint4(packed, e) ^ flip) - zero;
      put<kAccumulate>(x, c, static_cast<float>(code) * scale);
      ++e;
      ++c;
    }
    kernels::active_kernels().dequant_i4(packed + e / 2, flip, zero, scale, x + c,
                                         static_cast<size_t>(g * group + group - c), kAccumulate);
  }
}

template <bool kAccumulate>
void row_dispatch(const RowTable& t, int64_t row, float* x) {
  switch (t.format) {
    case RowFormat::kF32:
      row_f32<kAccumulate>(static_cast<const float*>(t.data), t.cols, row, x);
      return;
    case RowFormat::kF16:
      row_f16<kAccumulate>(static_cast<const uint16_t*>(t.data), t.cols, row, x);
      return;
    case RowFormat::kInt8RowF32Scale:
      row_int8_scaled<kAccumulate>(static_cast<const int8_t*>(t.data),
                                   static_cast<const float*>(t.scales)[row], t.cols, row, x);
      return;
    case RowFormat::kInt8RowF16Scale:
      row_int8_scaled<kAccumulate>(static_cast<const int8_t*>(t.data),
                                   half_to_float(static_cast<const uint16_t*>(t.scales)[row]), t.cols, row,
                                   x);
      return;
    case RowFormat::kInt8Col:
      row_int8_col<kAccumulate>(static_cast<const int8_t*>(t.data), static_cast<const float*>(t.scales),
                                t.cols, row, x);
      return;
    case RowFormat::kInt4Group:
      row_int4_group<kAccumulate, ZeroPoints::kNone>(static_cast<const uint8_t*>(t.data),
                                                     static_cast<const uint16_t*>(t.scales), nullptr, t.cols,
                                                     t.group, row, x);
      return;
    case RowFormat::kInt4GroupZpU8:
      row_int4_group<kAccumulate, ZeroPoints::kU8>(static_cast<const uint8_t*>(t.data),
                                                   static_cast<const uint16_t*>(t.scales), t.zero_points,
                                                   t.cols, t.group, row, x);
      return;
    case RowFormat::kInt4GroupZpU4:
      row_int4_group<kAccumulate, ZeroPoints::kU4>(static_cast<const uint8_t*>(t.data),
                                                   static_cast<const uint16_t*>(t.scales), t.zero_points,
                                                   t.cols, t.group, row, x);
      return;
  }
}

bool is_int4(RowFormat f) {
  return f == RowFormat::kInt4Group || f == RowFormat::kInt4GroupZpU8 || f == RowFormat::kInt4GroupZpU4;
}

Status check_row(const RowTable& t, int64_t row, const float* x) {
  ORDINAL_RETURN_IF_ERROR(validate_row_table(t));
  if (x == nullptr) return invalid_argument("table row: output is null");
  if (row < 0 || row >= t.rows) {
    return out_of_range("table row " + std::to_string(row) + " outside [0, " + std::to_string(t.rows) + ")");
  }
  return Status::Ok();
}

}  // namespace

void add_row_f32(const float* table, int cols, int64_t row, float* x) {
  row_f32<true>(table, cols, row, x);
}
void add_row_f16(const uint16_t* table_f16, int cols, int64_t row, float* x) {
  row_f16<true>(table_f16, cols, row, x);
}
void add_row_int8_row_f32scale(const int8_t* q, const float* row_scales, int cols, int64_t row, float* x) {
  row_int8_scaled<true>(q, row_scales[row], cols, row, x);
}
void add_row_int8_row_f16scale(const int8_t* q, const uint16_t* row_scales_f16, int cols, int64_t row,
                               float* x) {
  row_int8_scaled<true>(q, half_to_float(row_scales_f16[row]), cols, row, x);
}
void add_row_int8_col(const int8_t* q, const float* col_scales, int cols, int64_t row, float* x) {
  row_int8_col<true>(q, col_scales, cols, row, x);
}
void add_row_int4_group(const uint8_t* packed, const uint16_t* scales_f16, const uint8_t* zero_points,
                        int cols, int group, int64_t row, float* x) {
  if (zero_points == nullptr) {
    row_int4_group<true, ZeroPoints::kNone>(packed, scales_f16, nullptr, cols, group, row, x);
  } else {
    row_int4_group<true, ZeroPoints::kU8>(packed, scales_f16, zero_points, cols, group, row, x);
  }
}
void add_row_int4_group_zp4(const uint8_t* packed, const uint16_t* scales_f16,
                            const uint8_t* zero_points_packed, int cols, int group, int64_t row, float* x) {
  row_int4_group<true, ZeroPoints::kU4>(packed, scales_f16, zero_points_packed, cols, group, row, x);
}

const char* row_format_name(RowFormat format) {
  switch (format) {
    case RowFormat::kF32:
      return "f32";
    case RowFormat::kF16:
      return "f16";
    case RowFormat::kInt8RowF32Scale:
      return "int8-row(f32 scale)";
    case RowFormat::kInt8RowF16Scale:
      return "int8-row(f16 scale)";
    case RowFormat::kInt8Col:
      return "int8-col";
    case RowFormat::kInt4Group:
      return "int4-group";
    case RowFormat::kInt4GroupZpU8:
      return "int4-group+u8 zero point";
    case RowFormat::kInt4GroupZpU4:
      return "int4-group+u4 zero point";
  }
  return "unknown";
}

Status validate_row_table(const RowTable& t) {
  const std::string name = row_format_name(t.format);
  if (t.rows <= 0 || t.cols <= 0)
    return invalid_argument("table (" + name + "): rows and cols must be positive");
  if (t.data == nullptr) return invalid_argument("table (" + name + "): data is null");
  if (t.format != RowFormat::kF32 && t.format != RowFormat::kF16 && t.scales == nullptr) {
    return invalid_argument("table (" + name + "): scales are null");
  }
  if (is_int4(t.format)) {
    if (t.cols % 2 != 0) return invalid_argument("table (" + name + "): cols must be even for int4 packing");
    if (t.group <= 0 || t.cols % t.group != 0) {
      return invalid_argument("table (" + name + "): group " + std::to_string(t.group) +
                              " must divide cols " + std::to_string(t.cols));
    }
    if (t.format != RowFormat::kInt4Group && t.zero_points == nullptr) {
      return invalid_argument("table (" + name + "): zero points are null");
    }
  }
  return Status::Ok();
}

int64_t row_table_bytes(const RowTable& t) {
  const int64_t elements = t.rows * t.cols;
  const int64_t groups = is_int4(t.format) && t.group > 0 ? t.rows * (t.cols / t.group) : 0;
  switch (t.format) {
    case RowFormat::kF32:
      return elements * 4;
    case RowFormat::kF16:
      return elements * 2;
    case RowFormat::kInt8RowF32Scale:
      return elements + t.rows * 4;
    case RowFormat::kInt8RowF16Scale:
      return elements + t.rows * 2;
    case RowFormat::kInt8Col:
      return elements + int64_t{t.cols} * 4;
    case RowFormat::kInt4Group:
      return elements / 2 + groups * 2;
    case RowFormat::kInt4GroupZpU8:
      return elements / 2 + groups * 3;
    case RowFormat::kInt4GroupZpU4:
      return elements / 2 + groups * 2 + (groups + 1) / 2;
  }
  return 0;
}

Status add_row(const RowTable& t, int64_t row, float* x) {
  ORDINAL_RETURN_IF_ERROR(check_row(t, row, x));
  row_dispatch<true>(t, row, x);
  return Status::Ok();
}

Status dequant_row(const RowTable& t, int64_t row, float* out) {
  ORDINAL_RETURN_IF_ERROR(check_row(t, row, out));
  row_dispatch<false>(t, row, out);
  return Status::Ok();
}

Status validate_codebook_table(const CodebookTable& t) {
  ORDINAL_RETURN_IF_ERROR(validate_row_table(t.codebook));
  if ((t.indices_u8 == nullptr) == (t.indices_u16 == nullptr)) {
    return invalid_argument("codebook: exactly one of the u8 / u16 index arrays must be set");
  }
  if (t.num_positions <= 0) return invalid_argument("codebook: num_positions must be positive");
  for (int64_t p = 0; p < t.num_positions; ++p) {
    const int64_t index = t.indices_u8 ? t.indices_u8[p] : t.indices_u16[p];
    if (index >= t.codebook.rows) {
      return invalid_model("codebook: position " + std::to_string(p) + " uses entry " +
                           std::to_string(index) + " of " + std::to_string(t.codebook.rows));
    }
  }
  return Status::Ok();
}

Status add_row_codebook(const CodebookTable& t, int64_t pos, float* x) {
  if (pos < 0 || pos >= t.num_positions) {
    return out_of_range("codebook: position " + std::to_string(pos) + " outside [0, " +
                        std::to_string(t.num_positions) + ")");
  }
  if (t.indices_u8 == nullptr && t.indices_u16 == nullptr) return invalid_argument("codebook: no indices");
  const int64_t index = t.indices_u8 ? t.indices_u8[pos] : t.indices_u16[pos];
  return add_row(t.codebook, index, x);
}

void add_row_lowrank_f32(const float* a, const float* b, int rank, int cols, int64_t row, float* x) {
  const float* coeff = a + row * rank;
  for (int c = 0; c < cols; ++c) {
    float acc = 0.0f;
    for (int k = 0; k < rank; ++k) {
      const float term = coeff[k] * b[static_cast<int64_t>(k) * cols + c];
      acc += term;
    }
    x[c] += acc;
  }
}

void add_row_lowrank_int8(const int8_t* qa, const float* a_scales, const int8_t* qb, const float* b_scales,
                          int rank, int cols, int64_t row, float* x) {
  float alpha[kMaxLowRank];  // per-row coefficients, computed once
  const int8_t* qa_row = qa + row * rank;
  for (int k = 0; k < rank; ++k) {
    const float a_value = static_cast<float>(qa_row[k]) * a_scales[row];
    alpha[k] = a_value * b_scales[k];
  }
  for (int c = 0; c < cols; ++c) {
    float acc = 0.0f;
    for (int k = 0; k < rank; ++k) {
      const float term = alpha[k] * static_cast<float>(qb[static_cast<int64_t>(k) * cols + c]);
      acc += term;
    }
    x[c] += acc;
  }
}

Status validate_lowrank_table(const LowRankTable& t) {
  if (t.rows <= 0 || t.rank <= 0 || t.cols <= 0)
    return invalid_argument("low-rank table: sizes must be positive");
  if (t.format == LowRankFormat::kF32 && (t.a == nullptr || t.b == nullptr)) {
    return invalid_argument("low-rank table (f32): A or B is null");
  }
  if (t.format == LowRankFormat::kInt8Row &&
      (t.qa == nullptr || t.a_scales == nullptr || t.qb == nullptr || t.b_scales == nullptr)) {
    return invalid_argument("low-rank table (int8): a factor or its scales are null");
  }
  return Status::Ok();
}

int64_t lowrank_table_bytes(const LowRankTable& t) {
  const int64_t a = t.rows * t.rank, b = int64_t{t.rank} * t.cols;
  return t.format == LowRankFormat::kF32 ? 4 * (a + b) : a + b + 4 * (t.rows + t.rank);
}

Status add_row_lowrank(const LowRankTable& t, int64_t row, float* x) {
  ORDINAL_RETURN_IF_ERROR(validate_lowrank_table(t));
  if (x == nullptr) return invalid_argument("low-rank table: output is null");
  if (row < 0 || row >= t.rows) {
    return out_of_range("low-rank row " + std::to_string(row) + " outside [0, " + std::to_string(t.rows) +
                        ")");
  }
  if (t.format == LowRankFormat::kF32) {
    add_row_lowrank_f32(t.a, t.b, t.rank, t.cols, row, x);
  } else {
    add_row_lowrank_int8(t.qa, t.a_scales, t.qb, t.b_scales, t.rank, t.cols, row, x);
  }
  return Status::Ok();
}

}  // namespace ordinal::quant
