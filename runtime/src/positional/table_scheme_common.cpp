#include "positional/table_scheme_common.hpp"

#include <cmath>

#include "kernels/linear.hpp"
#include "kernels/simd.hpp"
#include "kernels/vector_ops.hpp"

namespace ordinal::positional {

namespace fb = ::ordinal::schema;

Status load_table_policy(fb::OutOfRangePolicy policy, float factor, const std::string& what,
                         detail::PositionalParams* p) {
  if (static_cast<uint8_t>(policy) > static_cast<uint8_t>(fb::OutOfRangePolicy::Interpolate)) {
    return invalid_model(what + ": unknown out-of-range policy");
  }
  if (policy == fb::OutOfRangePolicy::Interpolate &&
      (!std::isfinite(factor) || factor < 1.0f || factor > 1024.0f)) {
    return invalid_model(what + ": interpolation factor must be in [1, 1024]");
  }
  p->policy = static_cast<detail::OutOfRangePolicy>(static_cast<uint8_t>(policy));
  p->interpolation_factor = factor;
  return Status::Ok();
}

int64_t table_position_limit(const detail::PositionalParams& p) {
  const uint32_t rows = p.stored_positions;
  switch (p.policy) {
    case detail::OutOfRangePolicy::kError:
      return rows;
    case detail::OutOfRangePolicy::kClamp:
      return format::kComputedPositionLimit;
    case detail::OutOfRangePolicy::kInterpolate: {
      // Position p reads fractional row p / factor; the last valid p has p / factor <= rows - 1.
      double last = std::floor(static_cast<double>(rows - 1) * p.interpolation_factor);
      return static_cast<int64_t>(last) + 1;
    }
  }
  return rows;
}

void add_with_policy(const EncoderState& s, int64_t pos, float* x, float* scratch, AddStoredRow add_row) {
  const int64_t rows = s.p->stored_positions;
  switch (s.p->policy) {
    case detail::OutOfRangePolicy::kError:
      add_row(s, static_cast<uint32_t>(pos), 1.0f, x, scratch);
      return;
    case detail::OutOfRangePolicy::kClamp:
      add_row(s, static_cast<uint32_t>(pos < rows ? pos : rows - 1), 1.0f, x, scratch);
      return;
    case detail::OutOfRangePolicy::kInterpolate: {
      // Row p / factor, linear between the two stored rows around it.
      const double r = static_cast<double>(pos) / s.p->interpolation_factor;
      const int64_t lo = static_cast<int64_t>(std::floor(r));
      if (lo >= rows - 1) {
        add_row(s, static_cast<uint32_t>(rows - 1), 1.0f, x, scratch);
        return;
      }
      const float frac = static_cast<float>(r - static_cast<double>(lo));
      add_row(s, static_cast<uint32_t>(lo), 1.0f - frac, x, scratch);
      if (frac != 0.0f) add_row(s, static_cast<uint32_t>(lo + 1), frac, x, scratch);
      return;
    }
  }
}

void stored_row_of(const EncoderState& s, uint32_t row, float* out, float* scratch, AddStoredRow add_row) {
  for (uint32_t i = 0; i < s.dim; ++i) out[i] = 0.0f;
  add_row(s, row, 1.0f, out, scratch);  // 0 + 1 * v == v exactly
}

void add_table_row(const format::TensorView& table, uint32_t row, float weight, uint32_t dim, float* x,
                   float* scratch) {
  kernels::dequantize_row(table, row, scratch);
  kernels::axpy_f32(x, weight, scratch, dim);
}

void prepare_lowrank(const format::TensorView& a, const format::TensorView& b, EncoderState* s) {
  const uint32_t rank = b.rows();
  s->lowrank_fused = b.dtype == format::DType::kI8 && rank <= EncoderState::kLowRankFusedMaxRank &&
                     rank == a.cols() &&
                     (b.quant.granularity == format::QuantGranularity::kPerRow ||
                      b.quant.granularity == format::QuantGranularity::kPerTensor);
  if (!s->lowrank_fused) return;
  for (uint32_t r = 0; r < rank; ++r) {
    s->lowrank_b_scales[r] =
        format::scale_at(b.quant, b.quant.granularity == format::QuantGranularity::kPerRow ? r : 0);
  }
}

void add_lowrank_row(const EncoderState& s, const format::TensorView& a, const format::TensorView& b,
                     uint32_t row, float weight, float* x, float* scratch) {
  const uint32_t rank = a.cols(), dim = s.dim;
  float* coefficients = scratch + dim;
  kernels::dequantize_row(a, row, coefficients);
  if (s.lowrank_fused) {
    float cw[EncoderState::kLowRankFusedMaxRank];
    const int8_t* q[EncoderState::kLowRankFusedMaxRank];
    const uint64_t row_bytes = b.row_bytes();
    for (uint32_t r = 0; r < rank; ++r) {
      cw[r] = weight * coefficients[r];
      q[r] = reinterpret_cast<const int8_t*>(b.data + r * row_bytes);
    }
    kernels::active_kernels().axpy_i8_rows(x, dim, q, cw, s.lowrank_b_scales, rank);
    return;
  }
  for (uint32_t r = 0; r < rank; ++r) {
    kernels::dequantize_row(b, r, scratch);
    kernels::axpy_f32(x, weight * coefficients[r], scratch, dim);
  }
}

}  // namespace ordinal::positional
