#include "kernels/elementwise.hpp"

#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/simd.hpp"
#include "numerics/strict_float.hpp"  // the scalar SwiGLU defines the bits the AVX2 path matches

namespace ordinal::kernels {

namespace {

bool all_finite_values(const float* x, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    if (!std::isfinite(x[j])) return false;
  }
  return true;
}

// The wide path for finite inputs whose float sum of squares overflows (|x| above ~1.8e19 at n = 1):
// everything in double, where (3.4e38)^2 * 2^16 is still finite, so the output is the normalized x, not
// x * (1 / sqrt(inf)) = 0. Bits of the ordinary float path are untouched (llama2.c's order).
void rmsnorm_wide(float* out, const float* x, const float* w, size_t n, double eps) {
  double ss = 0.0;
  for (size_t j = 0; j < n; ++j) ss += static_cast<double>(x[j]) * x[j];
  const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
  for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>(w[j] * (inv * x[j]));
}

void layernorm_wide(float* out, const float* x, const float* w, const float* b, size_t n, double eps) {
  double mean = 0.0;
  for (size_t j = 0; j < n; ++j) mean += x[j];
  mean /= static_cast<double>(n);
  double var = 0.0;
  for (size_t j = 0; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= static_cast<double>(n);
  const double inv = 1.0 / std::sqrt(var + eps);
  for (size_t j = 0; j < n; ++j) out[j] = static_cast<float>((x[j] - mean) * inv * w[j] + (b ? b[j] : 0.0f));
}

}  // namespace

void rmsnorm(float* out, const float* x, const float* w, size_t n, float eps) {
  float ss = 0.0f;
  for (size_t j = 0; j < n; ++j) ss += x[j] * x[j];
  if (!std::isfinite(ss) && all_finite_values(x, n)) return rmsnorm_wide(out, x, w, n, eps);
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
  // Finite inputs whose float mean or variance overflows: recomputed in double (see rmsnorm_wide).
  if ((!std::isfinite(mean) || !std::isfinite(var)) && all_finite_values(x, n))
    return layernorm_wide(out, x, w, b, n, eps);
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
