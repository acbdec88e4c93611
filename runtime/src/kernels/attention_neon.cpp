// NEON attention kernels: not written yet, so aarch64 runs the scalar definition (attention.cpp), which
// gives the same bits. This file keeps the per-ISA table lookup uniform.
#include "kernels/attention.hpp"

namespace ordinal::kernels {

const AttentionKernels* attention_neon() {
  return nullptr;
}

}  // namespace ordinal::kernels
