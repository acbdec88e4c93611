#include "quant/rope_frequencies.hpp"

#include <cmath>
#include <string>

namespace ordinal::quant {

namespace {

constexpr long double kPi = 3.14159265358979323846264338327950288L;
constexpr long double kTwoPi = 2 * kPi;

// HF find_correction_dim: the dimension index whose wavelength makes `rotations` turns over max_position.
long double correction_dim(long double rotations, int dim, long double base, int64_t max_position) {
  return dim * std::log(static_cast<long double>(max_position) / (rotations * kTwoPi)) / (2 * std::log(base));
}

}  // namespace

uint64_t radians_to_turns(long double radians) {
  long double turns = radians / kTwoPi;
  turns -= std::floor(turns);  // [0, 1)
  const long double scaled = std::round(std::ldexp(turns, 64));
  return scaled >= std::ldexp(1.0L, 64) ? 0 : static_cast<uint64_t>(scaled);
}

long double turns_to_radians(uint64_t turns) {
  return std::ldexp(static_cast<long double>(turns), -64) * kTwoPi;
}

Result<RopeFrequencies> rope_frequencies(int rotary_dims, double base) {
  detail::PositionalSettings s;
  s.rotary_dims = rotary_dims > 0 ? static_cast<uint32_t>(rotary_dims) : 0;
  s.base = base;
  if (rotary_dims <= 0) {
    return invalid_argument("rope frequencies: rotary_dims=" + std::to_string(rotary_dims) +
                            " must be even >= 2");
  }
  return rope_frequencies(s);
}

Result<RopeFrequencies> rope_frequencies(const detail::PositionalSettings& scaling) {
  using Kind = detail::RopeScalingKind;
  const int rotary_dims = static_cast<int>(scaling.rotary_dims);
  const double base = scaling.base;
  const double factor_d = scaling.scaling_factor;
  if (rotary_dims < 2 || rotary_dims % 2 != 0) {
    return invalid_argument("rope frequencies: rotary_dims=" + std::to_string(rotary_dims) +
                            " must be even >= 2");
  }
  if (!(base > 1.0)) return invalid_argument("rope frequencies: base must be > 1");
  if (scaling.scaling != Kind::kNone && !(factor_d > 0.0)) {
    return invalid_argument("rope frequencies: scaling factor must be positive");
  }
  const int pairs = rotary_dims / 2;
  const long double d = rotary_dims;
  long double effective_base = base;
  if (scaling.scaling == Kind::kNTK) {
    if (rotary_dims == 2)
      return invalid_argument("rope frequencies: NTK-aware scaling needs rotary_dims > 2");
    effective_base = base * std::pow(static_cast<long double>(factor_d), d / (d - 2));
  }
  RopeFrequencies out;
  out.theta_radians.resize(pairs);
  for (int i = 0; i < pairs; ++i) out.theta_radians[i] = std::pow(effective_base, -2.0L * i / d);

  if (scaling.scaling == Kind::kLinear) {
    for (long double& t : out.theta_radians) t /= factor_d;
  } else if (scaling.scaling == Kind::kYaRN) {
    const int64_t original = scaling.original_context;
    if (original <= 0) return invalid_argument("rope frequencies: YaRN needs the original context length");
    const long double factor = factor_d;
    // HF find_correction_range with truncation: floor / ceil, clamped to [0, dim - 1].
    long double low = std::floor(correction_dim(scaling.beta_fast, rotary_dims, base, original));
    long double high = std::ceil(correction_dim(scaling.beta_slow, rotary_dims, base, original));
    if (low < 0) low = 0;
    if (high > rotary_dims - 1) high = rotary_dims - 1;
    if (low == high) high += 0.001L;  // HF linear_ramp_factor guard
    for (int i = 0; i < pairs; ++i) {
      long double ramp = (i - low) / (high - low);
      ramp = ramp < 0 ? 0 : (ramp > 1 ? 1 : ramp);
      const long double extrapolation_weight = 1 - ramp;  // 1: keep theta (high-frequency dims)
      const long double extrapolated = out.theta_radians[i], interpolated = extrapolated / factor;
      out.theta_radians[i] = interpolated * (1 - extrapolation_weight) + extrapolated * extrapolation_weight;
    }
    out.attention_factor = factor_d > 1.0 ? 0.1 * std::log(factor_d) + 1.0 : 1.0;
  } else if (scaling.scaling == Kind::kLlama3) {
    // HF _compute_llama3_parameters: wavelengths longer than original / low_freq_factor are interpolated
    // (theta / factor), shorter than original / high_freq_factor kept, and the band between blended with
    // smooth = (original / wavelength - low) / (high - low).
    const long double low = scaling.low_freq_factor, high = scaling.high_freq_factor;
    const long double original = scaling.original_context;
    if (!(original > 0) || !(low > 0) || !(high > low)) {
      return invalid_argument(
          "rope frequencies: llama3 needs an original context and 0 < low_freq_factor < high_freq_factor");
    }
    const long double low_freq_wavelen = original / low, high_freq_wavelen = original / high;
    for (long double& t : out.theta_radians) {
      const long double wavelen = kTwoPi / t;
      if (wavelen > low_freq_wavelen) {
        t /= factor_d;
      } else if (!(wavelen < high_freq_wavelen)) {
        const long double smooth = (original / wavelen - low) / (high - low);
        t = (1 - smooth) * t / factor_d + smooth * t;
      }
    }
  }
  out.turns.resize(pairs);
  for (int i = 0; i < pairs; ++i) out.turns[i] = radians_to_turns(out.theta_radians[i]);
  return out;
}

Result<RopeFrequencies> sinusoidal_frequencies(int d, double base) {
  return rope_frequencies(d, base);
}

}  // namespace ordinal::quant
