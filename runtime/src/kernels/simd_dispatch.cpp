// Chooses the SIMD path once, from what the build holds, what cpuinfo reports and ORDINAL_ISA.
#include <cpuinfo.h>

#include <cstdlib>
#include <cstring>

#include "kernels/simd.hpp"

namespace ordinal::kernels {

namespace {

Isa choose_isa() {
  Isa best = Isa::kScalar;
  for (int i = 1; i < kIsaCount; ++i) {  // in rising order of preference
    if (isa_supported(static_cast<Isa>(i))) best = static_cast<Isa>(i);
  }
  // An override may only lower the choice to a path this CPU runs; anything else is ignored.
  const char* wanted = std::getenv("ORDINAL_ISA");
  if (wanted == nullptr) return best;
  for (int i = 0; i < kIsaCount; ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (std::strcmp(wanted, isa_name(isa)) == 0 && isa_supported(isa)) return isa;
  }
  return best;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kNeon:
      return "neon";
    case Isa::kSse41:
      return "sse4.1";
    case Isa::kAvx2:
      return "avx2";
  }
  return "unknown";
}

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kNeon:
      return neon_kernels() != nullptr;
    case Isa::kSse41:
      return sse41_kernels() != nullptr;
    case Isa::kAvx2:
      return avx2_kernels() != nullptr;
  }
  return false;
}

bool isa_supported(Isa isa) {
  if (!isa_compiled(isa)) return false;
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kNeon:
#if defined(__aarch64__)
      return true;  // Advanced SIMD is part of ARMv8-A
#elif defined(__arm__)
      return cpuinfo_initialize() && cpuinfo_has_arm_neon();
#else
      return false;
#endif
    case Isa::kSse41:
#if defined(__x86_64__) || defined(__i386__)
      return cpuinfo_initialize() && cpuinfo_has_x86_sse4_1();
#else
      return false;
#endif
    case Isa::kAvx2:
#if defined(__x86_64__) || defined(__i386__)
      return cpuinfo_initialize() && cpuinfo_has_x86_avx2();  // also checks that the OS saves YMM state
#else
      return false;
#endif
  }
  return false;
}

Isa active_isa() {
  static const Isa isa = choose_isa();
  return isa;
}

const KernelTable& kernels_for(Isa isa) {
  const KernelTable* t = nullptr;
  switch (isa) {
    case Isa::kScalar:
      break;
    case Isa::kNeon:
      t = neon_kernels();
      break;
    case Isa::kSse41:
      t = sse41_kernels();
      break;
    case Isa::kAvx2:
      t = avx2_kernels();
      break;
  }
  return t != nullptr ? *t : scalar::table();
}

const KernelTable& active_kernels() {
  static const KernelTable* table = &kernels_for(active_isa());
  return *table;
}

}  // namespace ordinal::kernels
