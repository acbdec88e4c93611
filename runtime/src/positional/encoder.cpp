#include "positional/encoder.hpp"

#include <cmath>
#include <cstring>

#include "kernels/linear.hpp"
#include "kernels/vector_ops.hpp"
#include "positional/alibi.hpp"
#include "positional/position_buckets.hpp"
#include "positional/relative_bias.hpp"
#include "positional/rope_fixed.hpp"
#include "positional/sinusoidal.hpp"

namespace ordinal::positional {

namespace {
constexpr double kTwoPi = 6.283185307179586476925286766559;
}

Result<PositionalEncoder> PositionalEncoder::create(const detail::ModelData& model) {
  PositionalEncoder e;
  e.model_ = &model;
  e.p_ = &model.positional;
  e.scheme_ = model.positional.scheme;
  e.dim_ = model.config.dim;
  e.head_dim_ = model.config.head_dim;
  e.n_heads_ = model.config.n_heads;
  const detail::PositionalParams& p = model.positional;
  switch (p.scheme) {
    case PositionalScheme::kNone:
      break;
    case PositionalScheme::kLearnedTable:
    case PositionalScheme::kCodebookTable:
    case PositionalScheme::kBucketedTable:
      // The same integer mapping quant/bucketed.cpp used to build the rows.
      if (p.bucket_rule == detail::BucketRuleKind::kT5Log) {
        ORDINAL_ASSIGN_OR_RETURN(e.buckets_,
                                 make_log_bucket_map(static_cast<int>(p.num_buckets), p.max_distance));
      } else {
        ORDINAL_ASSIGN_OR_RETURN(e.buckets_, make_stride_bucket_map(p.stride, p.stored_positions));
      }
      e.adds_ = true;
      e.scratch_floats_ = e.dim_;
      break;
    case PositionalScheme::kLowRankTable:
      e.adds_ = true;
      e.scratch_floats_ = e.dim_ + p.low_a.cols();
      break;
    case PositionalScheme::kSinusoidal:
      e.adds_ = true;
      break;
    case PositionalScheme::kRope: {
      const uint32_t pairs = p.rotary_dims / 2;
      if (p.precision == detail::TrigPrecision::kF32) {
        e.f32_frequencies_.resize(pairs);
        for (uint32_t j = 0; j < pairs; ++j) {
          if (p.frequencies != nullptr) {
            // Scaled RoPE: the host computed exact frequencies; use them as radians per position.
            e.f32_frequencies_[j] =
                static_cast<float>(static_cast<double>(p.frequencies[j]) * 0x1p-64 * kTwoPi);
          } else {
            // As llama2.c run.c and HF compute them, in float.
            e.f32_frequencies_[j] =
                1.0f / powf(static_cast<float>(p.base),
                            static_cast<float>(2 * j) / static_cast<float>(p.rotary_dims));
          }
        }
      }
      if (p.scaling == detail::RopeScalingKind::kYaRN)
        e.logit_scale_ = p.attention_factor * p.attention_factor;
      break;
    }
    case PositionalScheme::kAlibi:
      break;
    case PositionalScheme::kRelativeBias:
      ORDINAL_ASSIGN_OR_RETURN(
          e.t5_, make_t5_bucket_table(static_cast<int>(p.num_buckets), p.max_distance, p.bidirectional));
      if (p.table.dtype == format::DType::kI8) {
        e.bias_scales_.resize(p.table.quant.scale_count);
        for (uint64_t i = 0; i < p.table.quant.scale_count; ++i)
          e.bias_scales_[i] = format::scale_at(p.table.quant, i);
      }
      break;
  }
  return e;
}

Status PositionalEncoder::check_position(int64_t pos) const {
  if (pos < 0) return out_of_range("position " + std::to_string(pos) + " is negative");
  if (pos >= model_->position_limit) {
    return out_of_range("position " + std::to_string(pos) + " is beyond what the model addresses (limit " +
                        std::to_string(model_->position_limit) + ", " + positional_scheme_name(scheme_) +
                        " with out-of-range policy '" + detail::out_of_range_policy_name(p_->policy) + "')");
  }
  return Status::Ok();
}

void PositionalEncoder::add_table_row(const format::TensorView& table, uint32_t row, float weight, float* x,
                                      float* scratch) const {
  kernels::dequantize_row(table, row, scratch);
  kernels::axpy_f32(x, weight, scratch, dim_);
}

void PositionalEncoder::add_stored_position(int64_t stored_row, float weight, float* x,
                                            float* scratch) const {
  const uint32_t row = static_cast<uint32_t>(stored_row);
  switch (scheme_) {
    case PositionalScheme::kLearnedTable:
      add_table_row(p_->table, row, weight, x, scratch);
      return;
    case PositionalScheme::kCodebookTable: {
      const format::TensorView& ix = p_->indices;
      uint32_t k = ix.dtype == format::DType::kU8 ? ix.data[row]
                                                  : static_cast<uint32_t>(ix.data[2 * row]) |
                                                        (static_cast<uint32_t>(ix.data[2 * row + 1]) << 8);
      // The loader checked every index, but they are read from the mapped file, which another process may
      // rewrite in place (docs/trust-boundary.md): an index is never trusted to address memory.
      const uint32_t k_rows = p_->codebook.rows();
      if (k >= k_rows) k = k_rows - 1;
      add_table_row(p_->codebook, k, weight, x, scratch);
      return;
    }
    case PositionalScheme::kBucketedTable:
      add_table_row(p_->table, bucket_of(stored_row), weight, x, scratch);
      return;
    case PositionalScheme::kLowRankTable: {
      // x += weight * A[row] . B, one B row at a time (never materialising the table).
      const uint32_t rank = p_->low_a.cols();
      float* a = scratch + dim_;
      kernels::dequantize_row(p_->low_a, row, a);
      for (uint32_t r = 0; r < rank; ++r) {
        kernels::dequantize_row(p_->low_b, r, scratch);
        kernels::axpy_f32(x, weight * a[r], scratch, dim_);
      }
      return;
    }
    default:
      return;
  }
}

uint32_t PositionalEncoder::bucket_of(int64_t pos) const {
  return static_cast<uint32_t>(position_to_row(buckets_, pos));
}

void PositionalEncoder::add_to_embedding(int64_t pos, float* x, float* scratch) const {
  if (scheme_ == PositionalScheme::kSinusoidal) {
    if (p_->precision == detail::TrigPrecision::kF32) {
      (void)add_sinusoidal_f32(x, static_cast<int>(dim_), pos, p_->base);
    } else {
      (void)add_sinusoidal_fixed(
          x, static_cast<int>(dim_), pos, p_->frequencies,
          p_->precision == detail::TrigPrecision::kQ15 ? RopePrecision::kQ15 : RopePrecision::kQ31);
    }
    return;
  }
  const int64_t rows = p_->stored_positions;
  switch (p_->policy) {
    case detail::OutOfRangePolicy::kError:
      add_stored_position(pos, 1.0f, x, scratch);
      return;
    case detail::OutOfRangePolicy::kClamp:
      add_stored_position(pos < rows ? pos : rows - 1, 1.0f, x, scratch);
      return;
    case detail::OutOfRangePolicy::kInterpolate: {
      // Row p / factor, linear between the two stored rows around it.
      const double r = static_cast<double>(pos) / p_->interpolation_factor;
      const int64_t lo = static_cast<int64_t>(std::floor(r));
      if (lo >= rows - 1) {
        add_stored_position(rows - 1, 1.0f, x, scratch);
        return;
      }
      const float frac = static_cast<float>(r - static_cast<double>(lo));
      add_stored_position(lo, 1.0f - frac, x, scratch);
      if (frac != 0.0f) add_stored_position(lo + 1, frac, x, scratch);
      return;
    }
  }
}

void PositionalEncoder::rotate(int64_t pos, float* heads, uint32_t n_heads) const {
  const uint32_t pairs = p_->rotary_dims / 2;
  const bool interleaved = p_->rope_layout == detail::RopeLayoutKind::kInterleaved;
  if (p_->precision != detail::TrigPrecision::kF32) {
    // Exact phase (pos * f mod 1 turn in uint64) and integer sin/cos: identical bits on every CPU.
    RopeShape shape;
    shape.head_dim = static_cast<int>(head_dim_);
    shape.rotary_dims = static_cast<int>(p_->rotary_dims);
    shape.layout = interleaved ? RopeLayout::kInterleaved : RopeLayout::kSplitHalf;
    shape.freqs = p_->frequencies;
    (void)rope_rotate_f32(
        heads, static_cast<int>(n_heads), shape, pos,
        p_->precision == detail::TrigPrecision::kQ15 ? RopePrecision::kQ15 : RopePrecision::kQ31);
    return;
  }
  const float fpos = static_cast<float>(pos);
  for (uint32_t j = 0; j < pairs; ++j) {
    const float angle = fpos * f32_frequencies_[j];
    const float c = cosf(angle), s = sinf(angle);
    const uint32_t a = interleaved ? 2 * j : j;
    const uint32_t b = interleaved ? 2 * j + 1 : j + pairs;
    for (uint32_t h = 0; h < n_heads; ++h) {
      float* v = heads + static_cast<size_t>(h) * head_dim_;
      const float v0 = v[a], v1 = v[b];
      v[a] = v0 * c - v1 * s;
      v[b] = v0 * s + v1 * c;
    }
  }
}

void PositionalEncoder::attention_bias(uint32_t head, int64_t query_pos, int64_t key_pos0, size_t n,
                                       float* bias) const {
  if (scheme_ == PositionalScheme::kAlibi) {
    alibi_bias_row(
        p_->slopes_q32[head], query_pos, key_pos0, static_cast<int>(n),
        p_->alibi_form == detail::AlibiFormKind::kCausal ? AlibiForm::kCausal : AlibiForm::kSymmetric, bias);
    return;
  }
  if (scheme_ == PositionalScheme::kRelativeBias) {
    const format::TensorView& t = p_->table;
    if (t.dtype == format::DType::kI8) {
      t5_bias_row_int8(t5_, reinterpret_cast<const int8_t*>(t.data), bias_scales_.data(),
                       static_cast<int>(bias_scales_.size()), static_cast<int>(n_heads_),
                       static_cast<int>(head), query_pos, key_pos0, static_cast<int>(n), bias);
    } else {
      t5_bias_row_f32(t5_, reinterpret_cast<const float*>(t.data), static_cast<int>(n_heads_),
                      static_cast<int>(head), query_pos, key_pos0, static_cast<int>(n), bias);
    }
    return;
  }
  for (size_t j = 0; j < n; ++j) bias[j] = 0.0f;
}

}  // namespace ordinal::positional
