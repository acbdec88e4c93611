// Host-side RoPE / sinusoidal frequencies as uint64 fractions of a turn (2^64 = 2 pi), the input of
// positional/rope_fixed and positional/sinusoidal. Computed in long double and rounded to nearest, so a
// frequency is within 2^-65 turn of the exact value (use an x86-64 or aarch64 host: 64/113-bit long double).
// Context-extension scalings follow HF transformers' rope_init_fns (linear: theta_i / factor; NTK-aware:
// base' = base * factor^(d / (d - 2)); YaRN: per-dimension ramp between interpolation and extrapolation plus
// the attention temperature).
#pragma once

#include <cstdint>
#include <vector>

#include "model_data.hpp"
#include "ordinal/status.hpp"

namespace ordinal::quant {

struct RopeFrequencies {
  std::vector<long double> theta_radians;  // radians per position step, one per pair (rotary_dims / 2)
  std::vector<uint64_t> turns;             // theta / (2 pi) * 2^64 rounded to nearest, wrapped mod 2^64
  double attention_factor = 1.0;  // YaRN mscale = 0.1 ln(F) + 1 (F > 1), else 1: multiplies cos and sin,
                                  // i.e. q.k logits scale by attention_factor^2
};

// theta_i = base^(-2i / rotary_dims), i < rotary_dims / 2. rotary_dims even >= 2, base > 1.
Result<RopeFrequencies> rope_frequencies(int rotary_dims, double base);
// The frequencies of a RoPE scheme's settings (the one parameter type the file, runtime and tools share):
// base^(-2i / rotary_dims), then s.scaling with its factor / original context / YaRN betas.
Result<RopeFrequencies> rope_frequencies(const detail::PositionalSettings& s);

// Vaswani sinusoidal w_i = base^(-2i / d) as turn fractions (the same formula as RoPE with rotary_dims = d).
Result<RopeFrequencies> sinusoidal_frequencies(int d, double base = 10000.0);

// radians per step -> turn fraction * 2^64 (round to nearest, mod 2^64), and back.
uint64_t radians_to_turns(long double radians);
long double turns_to_radians(uint64_t turns);

}  // namespace ordinal::quant
