// Sinusoidal absolute positions (Vaswani), computed, added to the token embedding: F32 in double math,
// Q15/Q31 from the exact uint64 phase with integer sin/cos (bit-identical on every CPU).
#include <cmath>

#include "positional/scheme.hpp"
#include "positional/sinusoidal.hpp"

namespace ordinal::positional {

namespace {

Status load(const format::Ctx& ctx, const schema::Model& m, const ModelConfig& cfg,
            detail::PositionalParams* p) {
  const auto* t = m.positional_as_Sinusoidal();
  const uint32_t dim = cfg.dim;
  if (dim % 2 != 0) return invalid_model("sinusoidal: dim must be even");
  if (!std::isfinite(t->base()) || t->base() <= 1.0) return invalid_model("sinusoidal: base must be > 1");
  if (static_cast<uint8_t>(t->precision()) > 2) return invalid_model("sinusoidal: unknown precision");
  p->base = t->base();
  p->precision = static_cast<detail::TrigPrecision>(t->precision());
  if (p->precision != detail::TrigPrecision::kF32) {
    if (t->frequencies() == nullptr || t->frequencies()->size() != dim / 2) {
      return invalid_model("sinusoidal: fixed-point precision needs dim/2 = " + std::to_string(dim / 2) +
                           " frequencies");
    }
    p->frequencies = t->frequencies()->data();
    p->frequency_count = t->frequencies()->size();
    p->bytes = uint64_t{p->frequency_count} * 8;
  }
  p->policy = detail::OutOfRangePolicy::kError;
  return Status::Ok();
}

int64_t position_limit(const detail::PositionalParams&) {
  return format::kComputedPositionLimit;
}

Status prepare(const detail::ModelData& model, EncoderState* s) {
  const detail::PositionalParams& p = model.positional;
  if (s->dim == 0 || s->dim % 2 != 0) return invalid_argument("sinusoidal: dim must be even and positive");
  if (!(p.base > 1.0)) return invalid_argument("sinusoidal: base must be > 1");
  if (p.precision != detail::TrigPrecision::kF32 &&
      (p.frequencies == nullptr || p.frequency_count != s->dim / 2)) {
    return invalid_argument("sinusoidal: fixed-point precision needs dim/2 frequencies");
  }
  s->sin_precision = p.precision == detail::TrigPrecision::kQ31 ? RopePrecision::kQ31 : RopePrecision::kQ15;
  return Status::Ok();
}

void add_to_embedding(const EncoderState& s, int64_t pos, float* x, float*) {
  if (s.p->precision == detail::TrigPrecision::kF32) {
    add_sinusoidal_f32_unchecked(x, static_cast<int>(s.dim), pos, s.p->base, SinusoidalLayout::kInterleaved);
  } else {
    add_sinusoidal_fixed_unchecked(x, static_cast<int>(s.dim), pos, s.p->frequencies, s.sin_precision,
                                   SinusoidalLayout::kInterleaved);
  }
}

}  // namespace

const SchemeModule kSinusoidalModule = {
    PositionalScheme::kSinusoidal,
    schema::Positional::Sinusoidal,
    "sinusoidal",
    load,
    position_limit,
    prepare,
    add_to_embedding,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace ordinal::positional
