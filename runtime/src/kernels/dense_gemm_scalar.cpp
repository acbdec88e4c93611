// Portable dense kernels (dense_gemm.hpp): one lane, multiply then add (the runtime builds with
// -ffp-contract=off, so nothing is fused). The fallback for CPUs without a SIMD path and ORDINAL_ISA=scalar.
#include <cstddef>
#include <cstdint>

#include "kernels/dense_gemm.hpp"
#include "numerics/half.hpp"

namespace ordinal::kernels {

namespace {

struct ScalarPolicy {
  using V = float;
  static constexpr size_t kLanes = 1;
  static constexpr int kTokens = 2;
  static V zero() { return 0.0f; }
  static V load(const float* p) { return *p; }
  static V load_w(const float* p) { return *p; }
  static V load_w(const uint16_t* p) { return numerics::half_to_float(*p); }
  static V madd(V acc, V w, V x) { return acc + w * x; }
  static V add(V a, V b) { return a + b; }
  static float sum(V v) { return v; }
  static void sum4(V a, V b, V c, V d, float* out) { out[0] = a, out[1] = b, out[2] = c, out[3] = d; }
  static float widen(uint16_t h) { return numerics::half_to_float(h); }
};

#include "kernels/dense_gemm_tiles.inc"

const DenseGemmKernels kScalar = {"scalar", &dense_rows<ScalarPolicy, float>,
                                  &dense_rows<ScalarPolicy, uint16_t>};

}  // namespace

const DenseGemmKernels& dense_gemm_scalar() {
  return kScalar;
}

}  // namespace ordinal::kernels
