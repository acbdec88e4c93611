// Float linear-layer kernels that read the weights in place from the mapped model: f32 rows, and f16 rows
// widened in registers as they are read (no widened copy anywhere). One call computes
//   y[b * ldy + r] = bias[r] + sum_k W[r, k] * x[b * cols + k]   for r in [row_begin, row_end), b < batch
// for a row-major W [rows, cols]. Two loop nests (dense_gemm_tiles.inc says why each is shaped so):
//  - batch < kDenseGemmMinBatch (decode): a bandwidth-bound GEMV reading the rows one after another in a few
//    long sequential streams far apart (one token: kDenseGemvStreams; matrices of at most
//    kDenseCachedGemvBytes: 4 or 8 rows side by side, compute-bound);
//  - larger batches (prefill): a GEMM over tiles of 4 rows x T tokens (T = 3 on AVX2); a block of rows meets
//    every token of the batch while in cache, so each weight row comes from memory once per call.
//
// Summation order (why results do not depend on batch, tiling, row range or threads): each output keeps
// one vector accumulator of L lanes (L = 8 AVX2, 4 SSE/NEON, 1 scalar) over every whole block of L
// columns, fused (AVX2, aarch64) or multiply-then-add (SSE, ARMv7, scalar); then the lanes are added in a
// fixed tree, the remaining columns in order, then the bias. Both loop nests keep it, so a token gives the
// same bits decoded alone or prefilled in a chunk, on 1 or N threads. Different ISAs differ in rounding
// (within the usual n * eps bound of a float dot product).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/simd.hpp"

namespace ordinal::kernels {

// Batches of at least this many tokens take the GEMM loop nest.
constexpr size_t kDenseGemmMinBatch = 3;
// GEMVs of matrices of at most this many weight bytes (that stay in L2 between tokens) compute 8 rows side
// by side; larger ones stream one row after another (dense_gemm_tiles.inc says why).
constexpr size_t kDenseCachedGemvBytes = 256 * 1024;
// Sequential streams (each a contiguous run of rows, far apart) a one-token GEMV over a matrix larger than
// the caches reads at once (dense_gemm_tiles.inc: dense_gemv_streams).
constexpr int kDenseGemvStreams = 4;

// `weights` points at row 0 of W [rows, cols]: floats, or IEEE half bit patterns for the f16 entry. Unaligned
// is fine. `rows` is the whole matrix's (the GEMV's loop nest is chosen by the matrix's size, not the
// range's: a thread's slice of a large matrix must stream like the whole, see dense_gemm_tiles.inc).
using DenseRowsFn = void (*)(const void* weights, size_t rows, size_t cols, const float* x, size_t batch,
                             const float* bias, size_t row_begin, size_t row_end, float* y, size_t ldy);

struct DenseGemmKernels {
  const char* name;  // "avx2-fma", "sse4.1", "neon", "scalar"
  DenseRowsFn f32_rows;
  DenseRowsFn f16_rows;
};

// The kernels for the active SIMD path (simd.hpp: cpuinfo, and ORDINAL_ISA to pick a lower one). AVX2 is
// used with FMA and F16C only; an AVX2 CPU without them gets the SSE4.1 kernels.
const DenseGemmKernels& dense_gemm_kernels();
// The kernels for `isa` when this build holds them and this CPU runs them, else nullptr (tests, benches).
const DenseGemmKernels* dense_gemm_kernels_for(Isa isa);

// Per-ISA tables (nullptr where the build has none); dense_gemm_dispatch.cpp checks the CPU.
const DenseGemmKernels* dense_gemm_avx2_fma();
const DenseGemmKernels* dense_gemm_sse41();
const DenseGemmKernels* dense_gemm_neon();
const DenseGemmKernels& dense_gemm_scalar();

}  // namespace ordinal::kernels
