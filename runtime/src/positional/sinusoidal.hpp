// Sinusoidal absolute positions (Vaswani et al.): PE[p, 2i] = sin(p w_i), PE[p, 2i+1] = cos(p w_i),
// w_i = base^(-2i/d). Computed on the fly (no table) and added into the token embedding.
#pragma once

#include <cstdint>

#include "ordinal/status.hpp"
#include "positional/rope_fixed.hpp"

namespace ordinal::positional {

enum class SinusoidalLayout {
  kInterleaved,   // [sin w_0, cos w_0, sin w_1, cos w_1, ...]: the paper, HF Transformer-XL-free ports
  kConcatenated,  // [sin w_0 .. sin w_{d/2-1}, cos w_0 .. cos w_{d/2-1}]: fairseq, tensor2tensor
};

// f32 path: w_i and p * w_i in double, std::sin/cos in double, one rounding to float, then x += value.
// |value - exact| <= |p| * 2^-53 * 2 + 2^-25 (about 5e-7 at p = 2^31); libm-dependent in the last bit.
Status add_sinusoidal_f32(float* x, int d, int64_t pos, double base,
                          SinusoidalLayout layout = SinusoidalLayout::kInterleaved);

// Fixed-point path: freqs[d/2] are w_i / (2 pi) * 2^64 (quant::sinusoidal_frequencies); angle exact (wrapping
// pos * freq). kQ31: value = Q31 -> float (single rounding), |error| <= 2^-24 + 2^-25; kQ15: <= 2^-15 (exact
// conversion); kF32: libm on the exactly reduced angle. Then x += value.
Status add_sinusoidal_fixed(float* x, int d, int64_t pos, const uint64_t* freqs, RopePrecision precision,
                            SinusoidalLayout layout = SinusoidalLayout::kInterleaved);
// Unchecked forms for the decode loop: the caller validated d (even, > 0), base (> 1) and freqs (d/2
// entries) once, when the positional module was prepared.
void add_sinusoidal_f32_unchecked(float* x, int d, int64_t pos, double base, SinusoidalLayout layout);
void add_sinusoidal_fixed_unchecked(float* x, int d, int64_t pos, const uint64_t* freqs,
                                    RopePrecision precision, SinusoidalLayout layout);

// Integer row for integer pipelines: out[d] in Q15, each within 1 LSB of exact.
Status sinusoidal_row_q15(int16_t* out, int d, int64_t pos, const uint64_t* freqs,
                          SinusoidalLayout layout = SinusoidalLayout::kInterleaved);

}  // namespace ordinal::positional
