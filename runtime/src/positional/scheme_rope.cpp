// Rotary position embedding: q and k of every head rotated by position (full or partial rotary, interleaved
// or split-half pairs). Q15/Q31 models carry host-computed uint64 frequencies (exact phase, integer sin/cos:
// bit-identical everywhere); F32 models rotate by float angles as llama2.c / HF do, from the stored
// frequencies when the host scaled them, else from base^(-2j/rotary_dims) in float.
#include <algorithm>
#include <cmath>

#include "positional/scheme.hpp"

namespace ordinal::positional {

namespace fb = ::ordinal::schema;

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Largest F32 angle table a session keeps (positions past it compute their angles as they come): 1024
// positions of a head_dim 128 model, all 1024 of the 110M shape's head_dim 64.
constexpr uint64_t kMaxRopeTableBytes = 512 * 1024;

// Positions [0, n) the F32 angle table covers: the model's max_positions, as many as fit the cap.
uint32_t rope_table_positions(const detail::ModelData& model) {
  const detail::PositionalParams& p = model.positional;
  if (p.scheme != PositionalScheme::kRope || p.precision != detail::TrigPrecision::kF32 || p.rotary_dims < 2)
    return 0;
  const uint64_t bytes_per_position = uint64_t{p.rotary_dims / 2} * 2 * sizeof(float);
  return static_cast<uint32_t>(
      std::min<uint64_t>(model.config.max_positions, kMaxRopeTableBytes / bytes_per_position));
}

// The RoPE block's enum pairs (schema <-> runtime); format/schema_enums.hpp holds the shared ones.
static_assert(format::same_value(fb::RopeLayout::Interleaved, detail::RopeLayoutKind::kInterleaved) &&
                  format::same_value(fb::RopeLayout::SplitHalf, detail::RopeLayoutKind::kSplitHalf) &&
                  format::same_value(fb::RopeLayout::MAX, detail::RopeLayoutKind::kSplitHalf),
              "schema and runtime RoPE layouts must agree");
static_assert(format::same_value(fb::RopeScalingType::None, detail::RopeScalingKind::kNone) &&
                  format::same_value(fb::RopeScalingType::Linear, detail::RopeScalingKind::kLinear) &&
                  format::same_value(fb::RopeScalingType::NTK, detail::RopeScalingKind::kNTK) &&
                  format::same_value(fb::RopeScalingType::YaRN, detail::RopeScalingKind::kYaRN) &&
                  format::same_value(fb::RopeScalingType::Llama3, detail::RopeScalingKind::kLlama3) &&
                  format::same_value(fb::RopeScalingType::MAX, detail::RopeScalingKind::kLlama3),
              "schema and runtime RoPE scaling types must agree");

Status load(const format::Ctx&, const schema::Model& m, const ModelConfig& cfg, detail::PositionalParams* p) {
  const auto* t = m.positional_as_Rope();
  const uint32_t rot = t->rotary_dims() == 0 ? cfg.head_dim : t->rotary_dims();
  if (rot == 0 || rot % 2 != 0 || rot > cfg.head_dim) {
    return invalid_model("rope: rotary_dims " + std::to_string(rot) + " must be even and <= head_dim " +
                         std::to_string(cfg.head_dim));
  }
  if (!std::isfinite(t->base()) || t->base() <= 1.0) return invalid_model("rope: base must be > 1");
  if (static_cast<uint8_t>(t->layout()) > static_cast<uint8_t>(fb::RopeLayout::MAX))
    return invalid_model("rope: unknown layout");
  if (static_cast<uint8_t>(t->precision()) > static_cast<uint8_t>(fb::TrigPrecision::MAX))
    return invalid_model("rope: unknown precision");
  p->rotary_dims = rot;
  p->base = t->base();
  p->rope_layout = static_cast<detail::RopeLayoutKind>(t->layout());
  p->precision = static_cast<detail::TrigPrecision>(t->precision());
  if (const auto* s = t->scaling()) {
    if (static_cast<uint8_t>(s->type()) > static_cast<uint8_t>(fb::RopeScalingType::MAX))
      return invalid_model("rope: unknown scaling type");
    if (!std::isfinite(s->factor()) || s->factor() < 1.0f || !std::isfinite(s->attention_factor()) ||
        s->attention_factor() <= 0.0f) {
      return invalid_model("rope: scaling factor must be >= 1 and attention factor > 0");
    }
    p->scaling = static_cast<detail::RopeScalingKind>(s->type());
    p->scaling_factor = s->factor();
    p->original_context = s->original_context();
    p->beta_fast = s->beta_fast();
    p->beta_slow = s->beta_slow();
    p->low_freq_factor = s->low_freq_factor();
    p->high_freq_factor = s->high_freq_factor();
    if (p->scaling == detail::RopeScalingKind::kLlama3 &&
        (p->original_context == 0 || !std::isfinite(p->low_freq_factor) ||
         !std::isfinite(p->high_freq_factor) || !(p->low_freq_factor > 0.0f) ||
         !(p->high_freq_factor > p->low_freq_factor))) {
      return invalid_model(
          "rope: llama3 scaling needs an original context and 0 < low_freq_factor < high_freq_factor");
    }
    p->attention_factor = s->attention_factor();
    if (p->scaling != detail::RopeScalingKind::kNone && p->precision == detail::TrigPrecision::kF32 &&
        t->frequencies() == nullptr) {
      return invalid_model("rope: scaled RoPE needs precomputed frequencies");
    }
  }
  if (t->frequencies() != nullptr) {
    if (t->frequencies()->size() != rot / 2) {
      return invalid_model("rope: " + std::to_string(t->frequencies()->size()) +
                           " frequencies, expected rotary_dims/2 = " + std::to_string(rot / 2));
    }
    p->frequencies = t->frequencies()->data();
    p->frequency_count = t->frequencies()->size();
    p->bytes = uint64_t{p->frequency_count} * 8;
  } else if (p->precision != detail::TrigPrecision::kF32) {
    return invalid_model("rope: fixed-point precision needs rotary_dims/2 frequencies");
  }
  p->policy = detail::OutOfRangePolicy::kError;
  return Status::Ok();
}

int64_t position_limit(const detail::PositionalParams&) {
  return format::kComputedPositionLimit;
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  const detail::PositionalParams& p = model.positional;
  const uint32_t pairs = p.rotary_dims / 2;
  s->rope_shape.head_dim = static_cast<int>(s->head_dim);
  s->rope_shape.rotary_dims = static_cast<int>(p.rotary_dims);
  s->rope_shape.layout = p.rope_layout == detail::RopeLayoutKind::kInterleaved ? RopeLayout::kInterleaved
                                                                               : RopeLayout::kSplitHalf;
  if (p.precision == detail::TrigPrecision::kF32) {
    s->f32_frequencies.resize(pairs);
    for (uint32_t j = 0; j < pairs; ++j) {
      if (p.frequencies != nullptr) {
        // Scaled RoPE: the host computed exact frequencies; use them as radians per position.
        s->f32_frequencies[j] = static_cast<float>(static_cast<double>(p.frequencies[j]) * 0x1p-64 * kTwoPi);
      } else {
        // As llama2.c run.c and HF compute them, in float.
        s->f32_frequencies[j] = 1.0f / powf(static_cast<float>(p.base),
                                            static_cast<float>(2 * j) / static_cast<float>(p.rotary_dims));
      }
    }
    // cosf/sinf of every covered position once, here, with the expressions rotate() used to evaluate per
    // call (fl(fpos * f) and the same libm calls), so a table entry has the bits rotate() computed before.
    s->rope_table_positions = rope_table_positions(model);
    s->rope_angle_table.resize(size_t{s->rope_table_positions} * pairs * 2);
    for (uint32_t pos = 0; pos < s->rope_table_positions; ++pos) {
      float* row = s->rope_angle_table.data() + size_t{pos} * pairs * 2;
      const float fpos = static_cast<float>(pos);
      for (uint32_t j = 0; j < pairs; ++j) {
        const float angle = fpos * s->f32_frequencies[j];
        row[2 * j] = cosf(angle);
        row[2 * j + 1] = sinf(angle);
      }
    }
    // The shape's frequencies are unused by the float path; validate_rope_shape wants them non-null.
    s->rope_shape.freqs = p.frequencies;
    if (s->rope_shape.head_dim <= 0 || p.rotary_dims < 2 || p.rotary_dims % 2 != 0 ||
        p.rotary_dims > s->head_dim)
      return invalid_argument("rope: rotary_dims must be even and in [2, head_dim]");
  } else {
    if (p.frequencies == nullptr || p.frequency_count != pairs)
      return invalid_argument("rope: fixed-point precision needs rotary_dims/2 frequencies");
    s->rope_shape.freqs = p.frequencies;
    ORDINAL_RETURN_IF_ERROR(validate_rope_shape(s->rope_shape));
    s->rope_precision =
        p.precision == detail::TrigPrecision::kQ15 ? RopePrecision::kQ15 : RopePrecision::kQ31;
  }
  if (p.scaling == detail::RopeScalingKind::kYaRN) s->logit_scale = p.attention_factor * p.attention_factor;
  return Status::Ok();
}

void rotate(const EncoderState& s, int64_t pos, float* heads, uint32_t n_heads) {
  if (s.p->precision != detail::TrigPrecision::kF32) {
    // Exact phase (pos * f mod 1 turn in uint64) and integer sin/cos: identical bits on every CPU.
    rope_rotate_f32_unchecked(heads, static_cast<int>(n_heads), s.rope_shape, pos, s.rope_precision);
    return;
  }
  const uint32_t pairs = s.p->rotary_dims / 2;
  const bool interleaved = s.rope_shape.layout == RopeLayout::kInterleaved;
  const float* table = pos < int64_t{s.rope_table_positions}
                           ? s.rope_angle_table.data() + static_cast<size_t>(pos) * pairs * 2
                           : nullptr;
  const float fpos = static_cast<float>(pos);
  for (uint32_t j = 0; j < pairs; ++j) {
    float c, sn;
    if (table != nullptr) {
      c = table[2 * j];
      sn = table[2 * j + 1];
    } else {  // past the table: the same expressions prepare() evaluated
      const float angle = fpos * s.f32_frequencies[j];
      c = cosf(angle);
      sn = sinf(angle);
    }
    const uint32_t a = interleaved ? 2 * j : j;
    const uint32_t b = interleaved ? 2 * j + 1 : j + pairs;
    for (uint32_t h = 0; h < n_heads; ++h) {
      float* v = heads + static_cast<size_t>(h) * s.head_dim;
      const float v0 = v[a], v1 = v[b];
      v[a] = v0 * c - v1 * sn;
      v[b] = v0 * sn + v1 * c;
    }
  }
}

}  // namespace

uint64_t rope_angle_table_bytes(const detail::ModelData& model) {
  return uint64_t{rope_table_positions(model)} * (model.positional.rotary_dims / 2) * 2 * sizeof(float);
}

const SchemeModule kRopeModule = {
    PositionalScheme::kRope,
    schema::Positional::Rope,
    "rope",
    load,
    position_limit,
    prepare,
    nullptr,
    rotate,
    nullptr,
    nullptr,
};

}  // namespace ordinal::positional
