#include "kernels/elementwise.hpp"

#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/simd.hpp"
#include "numerics/strict_float.hpp"  // the scalar SwiGLU defines the bits the AVX2 path matches

namespace ordinal::kernels {

void rmsnorm(float* out, const float* x, const float* w, size_t n, float eps) {
  float ss = 0.0f;
  for (size_t j = 0; j < n; ++j) ss += x[j] * x[j];
  ss /= static_cast<float>(n);
  ss += eps;
  ss = 1.0f / sqrtf(ss);
  for (size_t j = 0; j < n; ++j) out[j] = w[j] * (ss * x[j]);
}

void layernorm(float* out, const float* x, const float* w, const float* b, size_t n, float eps) {
  float mean = 0.0f;
  for (size_t j = 0; j < n; ++j) mean += x[j];
  mean /= static_cast<float>(n);
  float var = 0.0f;
  for (size_t j = 0; j < n; ++j) {
    float d = x[j] - mean;
    var += d * d;
  }
  var /= static_cast<float>(n);
  const float inv = 1.0f / sqrtf(var + eps);
  for (size_t j = 0; j < n; ++j) out[j] = (x[j] - mean) * inv * w[j] + (b ? b[j] : 0.0f);
}

namespace scalar {
void swiglu(float* gate, const float* up, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    const float v = gate[j];
    const float z = softmax_exp(-std::fabs(v));  // e^-|v| in (0, 1]: never overflows
    const float silu = (v >= 0.0f ? v : v * z) / (1.0f + z);
    gate[j] = silu * up[j];
  }
}
}  // namespace scalar

void swiglu(float* gate, const float* up, size_t n) {
  static void (*const path)(float*, const float*, size_t) =
      active_isa() == Isa::kAvx2 && swiglu_avx2() ? swiglu_avx2() : scalar::swiglu;
  path(gate, up, n);
}

void gelu_tanh(float* x, size_t n) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  for (size_t j = 0; j < n; ++j) {
    float v = x[j];
    x[j] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
  }
}

void add_inplace(float* y, const float* x, size_t n) {
  for (size_t j = 0; j < n; ++j) y[j] += x[j];
}

void softmax(float* x, size_t n) {
  float max_val = x[0];
  for (size_t i = 1; i < n; ++i)
    if (x[i] > max_val) max_val = x[i];
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    x[i] = expf(x[i] - max_val);
    sum += x[i];
  }
  for (size_t i = 0; i < n; ++i) x[i] /= sum;
}

bool all_finite(const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) return false;
  return true;
}

}  // namespace ordinal::kernels
