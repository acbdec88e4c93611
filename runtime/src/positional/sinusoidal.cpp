#include "positional/sinusoidal.hpp"

#include <cmath>
#include <string>

#include "numerics/strict_float.hpp"  // no FMA contraction in the definitions below
#include "numerics/trig_fixed.hpp"

namespace ordinal::positional {

namespace {

Status validate(const void* x, int d, bool needs_freqs, const uint64_t* freqs) {
  if (x == nullptr) return invalid_argument("sinusoidal: output is null");
  if (d <= 0 || d % 2 != 0)
    return invalid_argument("sinusoidal: d=" + std::to_string(d) + " must be even and positive");
  if (needs_freqs && freqs == nullptr) return invalid_argument("sinusoidal: frequencies are missing");
  return Status::Ok();
}

int sin_index(int i, SinusoidalLayout layout) {
  return layout == SinusoidalLayout::kInterleaved ? 2 * i : i;
}
int cos_index(int i, int d, SinusoidalLayout layout) {
  return layout == SinusoidalLayout::kInterleaved ? 2 * i + 1 : i + d / 2;
}

double exact_angle_radians(uint64_t phase) {
  const int64_t signed_phase =
      phase < numerics::kHalfTurn ? static_cast<int64_t>(phase) : -static_cast<int64_t>(~phase) - 1;
  return static_cast<double>(signed_phase) * (6.283185307179586476925286766559 / 18446744073709551616.0);
}

}  // namespace

Status add_sinusoidal_f32(float* x, int d, int64_t pos, double base, SinusoidalLayout layout) {
  ORDINAL_RETURN_IF_ERROR(validate(x, d, false, nullptr));
  if (!(base > 1.0)) return invalid_argument("sinusoidal: base must be > 1");
  add_sinusoidal_f32_unchecked(x, d, pos, base, layout);
  return Status::Ok();
}

void add_sinusoidal_f32_unchecked(float* x, int d, int64_t pos, double base, SinusoidalLayout layout) {
  const double log_base = std::log(base);
  for (int i = 0; i < d / 2; ++i) {
    const double omega = std::exp(-2.0 * i / d * log_base);
    const double angle = static_cast<double>(pos) * omega;
    const float s = static_cast<float>(std::sin(angle)), c = static_cast<float>(std::cos(angle));
    x[sin_index(i, layout)] += s;
    x[cos_index(i, d, layout)] += c;
  }
}

Status add_sinusoidal_fixed(float* x, int d, int64_t pos, const uint64_t* freqs, RopePrecision precision,
                            SinusoidalLayout layout) {
  ORDINAL_RETURN_IF_ERROR(validate(x, d, true, freqs));
  add_sinusoidal_fixed_unchecked(x, d, pos, freqs, precision, layout);
  return Status::Ok();
}

void add_sinusoidal_fixed_unchecked(float* x, int d, int64_t pos, const uint64_t* freqs,
                                    RopePrecision precision, SinusoidalLayout layout) {
  for (int i = 0; i < d / 2; ++i) {
    const uint64_t phase = phase_for(pos, freqs[i]);
    float s, c;
    if (precision == RopePrecision::kQ31) {
      int32_t sq, cq;
      numerics::sincos_q31(phase, &sq, &cq);
      s = static_cast<float>(sq) * 0x1p-31f;
      c = static_cast<float>(cq) * 0x1p-31f;
    } else if (precision == RopePrecision::kQ15) {
      int16_t sq, cq;
      numerics::sincos_q15(phase, &sq, &cq);
      s = static_cast<float>(sq) * 0x1p-15f;
      c = static_cast<float>(cq) * 0x1p-15f;
    } else {
      const double angle = exact_angle_radians(phase);
      s = static_cast<float>(std::sin(angle));
      c = static_cast<float>(std::cos(angle));
    }
    x[sin_index(i, layout)] += s;
    x[cos_index(i, d, layout)] += c;
  }
}

Status sinusoidal_row_q15(int16_t* out, int d, int64_t pos, const uint64_t* freqs, SinusoidalLayout layout) {
  ORDINAL_RETURN_IF_ERROR(validate(out, d, true, freqs));
  for (int i = 0; i < d / 2; ++i) {
    numerics::sincos_q15(phase_for(pos, freqs[i]), &out[sin_index(i, layout)], &out[cos_index(i, d, layout)]);
  }
  return Status::Ok();
}

}  // namespace ordinal::positional
