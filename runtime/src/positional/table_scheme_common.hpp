// What the absolute-table schemes (learned, codebook, bucketed, low-rank) share: the out-of-range policy
// (error / clamp / interpolate between stored rows) and its position limit.
#pragma once

#include <cstdint>
#include <string>

#include "format/load_checks.hpp"
#include "model_data.hpp"
#include "positional/scheme.hpp"

namespace ordinal::positional {

// Checks a table block's policy and interpolation factor; fills p->policy and p->interpolation_factor.
Status load_table_policy(schema::OutOfRangePolicy policy, float factor, const std::string& what,
                         detail::PositionalParams* p);

// Highest addressable position + 1 for p.stored_positions rows under p.policy.
int64_t table_position_limit(const detail::PositionalParams& p);

// Adds `weight` times the stored position `row` (a row index < stored_positions) to x.
using AddStoredRow = void (*)(const EncoderState& s, uint32_t row, float weight, float* x, float* scratch);

// x += P(pos) with the policy applied: the stored row, the last row, or a blend of two rows.
void add_with_policy(const EncoderState& s, int64_t pos, float* x, float* scratch, AddStoredRow add_row);

// out[dim] = the stored position `row` exactly as add_row adds it with weight 1 (to zeros).
void stored_row_of(const EncoderState& s, uint32_t row, float* out, float* scratch, AddStoredRow add_row);

// A table scheme's module hooks (SchemeModule::add_to_embedding and ::stored_row) from its AddRow.
template <AddStoredRow AddRow>
void table_add_to_embedding(const EncoderState& s, int64_t pos, float* x, float* scratch) {
  add_with_policy(s, pos, x, scratch, AddRow);
}
template <AddStoredRow AddRow>
void table_stored_row(const EncoderState& s, uint32_t row, float* out, float* scratch) {
  stored_row_of(s, row, out, scratch, AddRow);
}

// x[dim] += weight * dequantized table[row] (scratch holds dim floats).
void add_table_row(const format::TensorView& table, uint32_t row, float weight, uint32_t dim, float* x,
                   float* scratch);

// At prepare: whether the factored table A [rows x rank], B [rank x dim] takes add_lowrank_row's one-pass
// int8 kernel (B int8 with per-row or per-tensor scales, rank <= kLowRankFusedMaxRank), and B's scales.
void prepare_lowrank(const format::TensorView& a, const format::TensorView& b, EncoderState* s);
// x[dim] += weight * (A[row] . B): with s.lowrank_fused, in one pass over x (the kernel table's
// axpy_i8_rows), else one B row at a time (one SIMD dequantization and one axpy per component); the same
// operations per element in the same order either way, so the same bits. scratch holds dim + rank floats.
void add_lowrank_row(const EncoderState& s, const format::TensorView& a, const format::TensorView& b,
                     uint32_t row, float weight, float* x, float* scratch);

}  // namespace ordinal::positional
