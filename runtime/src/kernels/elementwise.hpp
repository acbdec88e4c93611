// Normalisations and activations (f32). RMSNorm follows llama2.c run.c operation for operation so the
// float model reproduces its outputs.
#pragma once

#include <cstddef>

namespace ordinal::kernels {

// out = w * x / sqrt(mean(x^2) + eps). Float accumulation in llama2.c's order; finite x whose sum of
// squares overflows float is normalized in double instead (never silent zeros).
void rmsnorm(float* out, const float* x, const float* w, size_t n, float eps);
// out = (x - mean) / sqrt(var + eps) * w + b   (biased variance, as PyTorch)
void layernorm(float* out, const float* x, const float* w, const float* b, size_t n, float eps);
// gate[i] = silu(gate[i]) * up[i], silu(v) = v sigmoid(v) computed as fl(fl(v >= 0 ? v : fl(v z)) / fl(1 +
// z)) with z = softmax_exp(-|v|) (attention.hpp, < 1 ulp): exp of a non-positive argument only, so no
// overflow; about 3 ulp from the exact silu. The AVX2 path (activation_x86.cpp) gives the same bits.
void swiglu(float* gate, const float* up, size_t n);
namespace scalar {
void swiglu(float* gate, const float* up, size_t n);
}
// The AVX2 SwiGLU, or nullptr where the build has none.
using SwigluFn = void (*)(float* gate, const float* up, size_t n);
SwigluFn swiglu_avx2();
// x[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (GPT-2 "gelu_new")
void gelu_tanh(float* x, size_t n);
// y += x
void add_inplace(float* y, const float* x, size_t n);
// In-place softmax over n values.
void softmax(float* x, size_t n);
// True when every value is finite.
bool all_finite(const float* x, size_t n);

}  // namespace ordinal::kernels
