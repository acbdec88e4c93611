#include "positional/encoder.hpp"

#include <cmath>
#include <cstring>

#include "kernels/linear.hpp"

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
    case PositionalScheme::kNone: break;
    case PositionalScheme::kLearnedTable:
      e.adds_ = true;
      e.scratch_floats_ = e.dim_;
      break;
    case PositionalScheme::kRope: {
      const uint32_t pairs = p.rotary_dims / 2;
      if (p.precision == detail::TrigPrecision::kF32) {
        e.f32_frequencies_.resize(pairs);
        for (uint32_t j = 0; j < pairs; ++j) {
          if (p.frequencies != nullptr) {
            // Scaled RoPE: the host computed exact frequencies; use them as radians per position.
            e.f32_frequencies_[j] = static_cast<float>(static_cast<double>(p.frequencies[j]) * 0x1p-64 * kTwoPi);
          } else {
            // As llama2.c run.c and HF compute them, in float.
            e.f32_frequencies_[j] =
                1.0f / powf(static_cast<float>(p.base), static_cast<float>(2 * j) / static_cast<float>(p.rotary_dims));
          }
        }
      } else {
        return unsupported("rope: fixed-point precision is not available in this build");
      }
      if (p.scaling == detail::RopeScalingKind::kYaRN) e.logit_scale_ = p.attention_factor * p.attention_factor;
      break;
    }
    default:
      return unsupported(std::string("positional scheme '") + positional_scheme_name(p.scheme) +
                         "' is not available in this build");
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
  for (uint32_t j = 0; j < dim_; ++j) x[j] += weight * scratch[j];
}

void PositionalEncoder::add_stored_position(int64_t stored_row, float weight, float* x, float* scratch) const {
  add_table_row(p_->table, static_cast<uint32_t>(stored_row), weight, x, scratch);
}

void PositionalEncoder::add_to_embedding(int64_t pos, float* x, float* scratch) const {
  const int64_t rows = p_->stored_positions;
  switch (p_->policy) {
    case detail::OutOfRangePolicy::kError: add_stored_position(pos, 1.0f, x, scratch); return;
    case detail::OutOfRangePolicy::kClamp: add_stored_position(pos < rows ? pos : rows - 1, 1.0f, x, scratch); return;
    case detail::OutOfRangePolicy::kInterpolate: {
      // Row p / factor, linear between the two stored rows around it.
      const double r = static_cast<double>(pos) / p_->interpolation_factor;
      int64_t lo = static_cast<int64_t>(std::floor(r));
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
  for (size_t j = 0; j < n; ++j) bias[j] = 0.0f;
}

}  // namespace ordinal::positional
