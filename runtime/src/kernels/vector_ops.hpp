// f32 vector primitives of the attention inner loops (q.k scores, the weighted sum of values), dispatched
// to the best SIMD path (simd.hpp) with the same bits on every path and every CPU.
//
// Canonical dot-product order, the one definition every path follows (kDotLanes = 8):
//   p[0..7] = +0.0f; for each full block i = 0, 8, 16, ... (i + 8 <= n): p[l] = fl(p[l] + fl(a[i+l] *
//   b[i+l])) t[l] = fl(p[l] + p[l+4]) for l < 4;  s = fl(fl(t[0] + t[2]) + fl(t[1] + t[3])) then the tail in
//   order, i = 8 floor(n/8) .. n-1: s = fl(s + fl(a[i] * b[i]))
// fl() is one IEEE binary32 rounding to nearest even; products and sums are never fused. Eight lanes are
// one AVX2 register or two NEON/SSE registers; the reduction tree is what a 4-lane horizontal add does.
// Error: |s - a.b| <= ~(n/8 + 3) 2^-24 sum |a_i b_i| (a sum of n products, like any float summation).
// NaN payloads are not specified (they differ between CPUs); finite inputs give identical bits.
#pragma once

#include <cstddef>

namespace ordinal::kernels {

constexpr size_t kDotLanes = 8;

// Sum of a[i] * b[i] in the canonical order above.
float dot_f32(const float* a, const float* b, size_t n);
// y[i] = fl(y[i] + fl(a * x[i])): exact elementwise semantics, so every path agrees trivially.
void axpy_f32(float* y, float a, const float* x, size_t n);

}  // namespace ordinal::kernels
