// SIMD kernels behind one table of function pointers per instruction set, chosen once at run time with
// cpuinfo. Every path computes the SAME BITS as the portable scalar one (simd_scalar.cpp, the definition
// of each primitive): integer kernels because integer arithmetic is exact, float kernels because each
// path performs the same IEEE operations in the same order, one rounding each, never fused (no FMA).
// tests/unit/test_simd_kernels.cpp checks every path against the scalar one bit for bit.
//
// Paths: NEON on aarch64 (all primitives) and on ARMv7 with NEON (integer ones only: ARMv7 Advanced SIMD
// flushes float denormals to zero, so it cannot reproduce IEEE results); SSE4.1 and AVX2 on x86-64.
// ORDINAL_ISA=scalar|neon|sse4.1|avx2 in the environment picks a lower path (for measurements and for
// ruling a path out on a device); a path the CPU lacks is never chosen.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordinal::kernels {

enum class Isa : uint8_t { kScalar = 0, kNeon = 1, kSse41 = 2, kAvx2 = 3 };
constexpr int kIsaCount = 4;

struct KernelTable {
  Isa isa;
  // ---- attention inner loops (vector_ops.hpp documents the canonical summation order) ----
  float (*dot_f32)(const float* a, const float* b, size_t n);
  void (*axpy_f32)(float* y, float a, const float* x, size_t n);  // y[i] = fl(y[i] + fl(a * x[i]))

  // ---- RoPE: rotate n pairs by per-pair (c[i], s[i]) ----
  // Split layout: pair i is (a[i], b[i]); interleaved: (v[2i], v[2i+1]). a' = a c - b s, b' = a s + b c.
  // f32: fl(fl(a*c) - fl(b*s)) and fl(fl(a*s) + fl(b*c)).
  void (*rotate_f32_split)(float* a, float* b, const float* c, const float* s, size_t n);
  void (*rotate_f32_interleaved)(float* v, const float* c, const float* s, size_t n);
  // int16 data, Q15 c/s from numerics::sincos_q15 (so |a c| + |b s| < 2^31 - 2^15): exact products,
  // round half to even by 2^15, saturate to int16.
  void (*rotate_i16_q15_split)(int16_t* a, int16_t* b, const int16_t* c, const int16_t* s, size_t n);
  void (*rotate_i16_q15_interleaved)(int16_t* v, const int16_t* c, const int16_t* s, size_t n);
  // int8 data, Q15 c/s: exact products, round half to even by 2^15, saturate to [-127, 127].
  void (*rotate_i8_split)(int8_t* a, int8_t* b, const int16_t* c, const int16_t* s, size_t n);
  void (*rotate_i8_interleaved)(int8_t* v, const int16_t* c, const int16_t* s, size_t n);

  // ---- dequantization: v = fl(float(code) * scale) (code is a small exact integer); out[i] = v, or
  // out[i] = fl(out[i] + v) when `accumulate` ----
  void (*dequant_i8)(const int8_t* q, float scale, float* out, size_t n, bool accumulate);
  void (*dequant_i8_scales)(const int8_t* q, const float* scales, float* out, size_t n, bool accumulate);
  // n packed 4-bit elements starting at the low nibble of packed[0] (element 2k low, 2k+1 high nibble):
  // code = (nibble ^ flip) - zero. Signed int4 is flip = 8, zero = 8; unsigned with a zero point z is
  // flip = 0, zero = z.
  void (*dequant_i4)(const uint8_t* packed, uint8_t flip, int32_t zero, float scale, float* out, size_t n,
                     bool accumulate);
  // ---- a factored (low-rank) table row: for r = 0 .. rank - 1 in turn,
  // x[i] = fl(x[i] + fl(c[r] * fl(float(q[r][i]) * s[r]))) - the per-component dequant_i8 + axpy_f32 in
  // one pass over x ----
  void (*axpy_i8_rows)(float* x, size_t n, const int8_t* const* q, const float* c, const float* s,
                       size_t rank);
};

const char* isa_name(Isa isa);
// Whether this build holds code for `isa` (NEON on ARM, SSE4.1/AVX2 on x86-64).
bool isa_compiled(Isa isa);
// Compiled, and the CPU runs it (cpuinfo; NEON is part of the base ISA on aarch64).
bool isa_supported(Isa isa);
// The path in use: the best supported one, or ORDINAL_ISA's when that is supported. Chosen once.
Isa active_isa();
// The table for `isa`; the scalar table when `isa` is not compiled in (check isa_supported first).
const KernelTable& kernels_for(Isa isa);
const KernelTable& active_kernels();

// Per-ISA tables, nullptr where the build has none (defined in simd_neon.cpp, simd_x86.cpp).
const KernelTable* neon_kernels();
const KernelTable* sse41_kernels();
const KernelTable* avx2_kernels();

// The scalar definitions (simd_scalar.cpp). SIMD paths use them for tails.
namespace scalar {
float dot_f32(const float* a, const float* b, size_t n);
void axpy_f32(float* y, float a, const float* x, size_t n);
void rotate_f32_split(float* a, float* b, const float* c, const float* s, size_t n);
void rotate_f32_interleaved(float* v, const float* c, const float* s, size_t n);
void rotate_i16_q15_split(int16_t* a, int16_t* b, const int16_t* c, const int16_t* s, size_t n);
void rotate_i16_q15_interleaved(int16_t* v, const int16_t* c, const int16_t* s, size_t n);
void rotate_i8_split(int8_t* a, int8_t* b, const int16_t* c, const int16_t* s, size_t n);
void rotate_i8_interleaved(int8_t* v, const int16_t* c, const int16_t* s, size_t n);
void dequant_i8(const int8_t* q, float scale, float* out, size_t n, bool accumulate);
void dequant_i8_scales(const int8_t* q, const float* scales, float* out, size_t n, bool accumulate);
void dequant_i4(const uint8_t* packed, uint8_t flip, int32_t zero, float scale, float* out, size_t n,
                bool accumulate);
void axpy_i8_rows(float* x, size_t n, const int8_t* const* q, const float* c, const float* s, size_t rank);
const KernelTable& table();
}  // namespace scalar

}  // namespace ordinal::kernels
