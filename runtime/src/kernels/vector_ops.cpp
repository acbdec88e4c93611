#include "kernels/vector_ops.hpp"

#include "kernels/simd.hpp"

namespace ordinal::kernels {

float dot_f32(const float* a, const float* b, size_t n) {
  return active_kernels().dot_f32(a, b, n);
}

void axpy_f32(float* y, float a, const float* x, size_t n) {
  active_kernels().axpy_f32(y, a, x, n);
}

}  // namespace ordinal::kernels
