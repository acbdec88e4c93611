// Picks the dense kernels once: the active SIMD path (simd.hpp), with the extra CPU features a path needs.
#include <cpuinfo.h>

#include "kernels/dense_gemm.hpp"

namespace ordinal::kernels {

namespace {

// ARMv7's NEON table has no f16 entry (dense_gemm_neon.cpp): those rows take the scalar kernel.
DenseGemmKernels complete(const DenseGemmKernels& t) {
  DenseGemmKernels c = t;
  if (c.f16_rows == nullptr) c.f16_rows = dense_gemm_scalar().f16_rows;
  return c;
}

bool x86_fma_f16c() {
#if defined(__x86_64__) || defined(__i386__)
  return cpuinfo_initialize() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c();
#else
  return false;
#endif
}

}  // namespace

const DenseGemmKernels* dense_gemm_kernels_for(Isa isa) {
  if (!isa_supported(isa)) return nullptr;
  switch (isa) {
    case Isa::kScalar:
      return &dense_gemm_scalar();
    case Isa::kNeon: {
      if (dense_gemm_neon() == nullptr) return &dense_gemm_scalar();
      static const DenseGemmKernels neon = complete(*dense_gemm_neon());
      return &neon;
    }
    case Isa::kSse41:
      return dense_gemm_sse41() != nullptr ? dense_gemm_sse41() : &dense_gemm_scalar();
    case Isa::kAvx2:
      // AVX2 without FMA/F16C (no such CPU is known, but the flags are separate): the SSE4.1 kernels.
      return x86_fma_f16c() ? dense_gemm_avx2_fma() : dense_gemm_sse41();
  }
  return nullptr;
}

const DenseGemmKernels& dense_gemm_kernels() {
  static const DenseGemmKernels* k = dense_gemm_kernels_for(active_isa());
  return k != nullptr ? *k : dense_gemm_scalar();
}

}  // namespace ordinal::kernels
