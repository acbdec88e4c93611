// Attention of consecutive query heads (whole groups sharing one KV head: grouped-query attention) over all
// their cached keys, in one call: scores, optional additive bias rows, softmax, weighted sums of values. One
// dispatch per call (never per key): at head_dim 8 a call per key costs more than the key's arithmetic.
// The SIMD paths walk the keys in tiles and visit every head of the call within a tile, so each cache line
// of keys and values (which holds several heads' vectors) comes from memory once per call, not once per head;
// that only reorders independent work, so the bits are those of the per-head definition below.
//
// Contract (the same bits on every path; attention.cpp's scalar code is the definition, the SIMD paths
// perform the same IEEE operations in the same order, one rounding each, never fused):
//   dot_t   = q . k_t in kernels/vector_ops.hpp's canonical order (int8 keys widened exactly to float),
//             except that the first 8-block's products are the lane sums as they are (not added to +0):
//             that can only turn an exact +0 dot into -0, which no later step can tell apart (x - m,
//             exp, the sums and the products below give the same bits for either zero).
//   f32:    s_t = fl(dot_t * logit)        (logit = fl(logit_scale / sqrt(head_dim)), given by the caller)
//   int8:   s_t = fl(dot_t * fl(kscale_t * logit))
//   (a multiply, not a division by sqrt(head_dim) per key: the division's latency stalled the score pass)
//   bias:   s_t = fl(s_t + bias_t) when a bias row is given (ALiBi, relative-position bias)
//   m       = max_t s_t
//   e_t     = softmax_exp(fl(s_t - m))                      (below; error bound stated there)
//   sum     = sum_t e_t in the canonical order (eight lane sums, the reduction tree, the tail in order)
//   w_t     = f32: e_t;  int8: fl(e_t * vscale_t)
//   out[d]  = fl(fl(fl(a0 + a1) + fl(a2 + a3)) / sum),  a_j = sum over t = j mod 4, ascending, of
//             f32: fl(w_t * v_t[d]);  int8: fl(float(v_t[d]) * w_t)
//   (four interleaved partial sums: at head_dim 8 one running sum per dimension would serialize every
//   key on the add latency; normalizing the head_dim outputs instead of every key's weight saves a
//   division per key).
// Finite inputs give identical bits on every CPU and path. A NaN score makes every output of its head NaN
// (payloads unspecified).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/simd.hpp"

namespace ordinal::kernels {

// exp(x) for the softmax domain x <= 0 (and NaN): Cody-Waite reduction x = n ln2 + r (|r| <= ln2/2 + tiny),
// a degree-7 Horner polynomial for e^r (Cephes expf's coefficients), 2^n added to the exponent bits.
// x < -87 returns +0 (the exact value is below 1.7e-38, so a probability loses less than that), NaN
// returns NaN. Error bound against double exp: < 1 ulp of exp(x) for -87 <= x <= 0 (0.982 ulp, the worst
// over every float in that range, measured once; test_attention.cpp checks <= 1 ulp on ~10^7 of them).
float softmax_exp(float x);

struct AttentionArgs {
  size_t keys = 0;              // cached keys to attend (causal decode: the token's slot + 1)
  size_t head_dim = 0;          // elements per head vector
  size_t heads = 1;             // query heads in this call, a multiple of group
  size_t group = 1;             // query heads per KV head: head h reads KV head h / group of the call
  size_t kv_stride = 0;         // elements from one key's (value's) vector to the next key's
  const float* q = nullptr;     // `heads` query vectors, head_dim apart
  float* out = nullptr;         // `heads` output vectors, head_dim apart
  const float* bias = nullptr;  // nullptr, or `heads` rows of `keys` additive biases
  size_t bias_stride = 0;       // floats between bias rows
  float* scores = nullptr;      // scratch: `heads` rows of `keys` floats (overwritten)
  size_t scores_stride = 0;     // floats between score rows
  float* partials = nullptr;    // scratch: attention_partials_floats(heads, head_dim) floats
};

// Floats of AttentionArgs::partials: per head its running maximum, its sum and four partial value sums.
inline size_t attention_partials_floats(size_t heads, size_t head_dim) {
  return heads * (2 + 4 * head_dim);
}

// f32 cache: k and v point at the first key's/value's vector of the call's first KV head; KV head j of the
// call is head_dim further on.
struct AttentionF32 {
  const float* k = nullptr;
  const float* v = nullptr;
  float logit = 1.0f;  // fl(logit_scale / sqrt(head_dim)): positional logit scaling over sqrt(head_dim)
};

// int8 cache (kv_cache.hpp): codes as for f32, plus one f16 scale per key (value) vector, scale_stride
// uint16 apart (the cache's kv_heads); KV head j's scales start j further on.
struct AttentionI8 {
  const int8_t* k = nullptr;
  const int8_t* v = nullptr;
  const uint16_t* k_scales = nullptr;
  const uint16_t* v_scales = nullptr;
  size_t scale_stride = 1;
  float logit = 1.0f;  // fl(logit_scale / sqrt(head_dim))
};

struct AttentionKernels {
  Isa isa;
  void (*f32)(const AttentionArgs& args, const AttentionF32& cache);
  void (*i8)(const AttentionArgs& args, const AttentionI8& cache);
};

// The kernels of the active SIMD path (simd.hpp's choice); kernels_for(isa) for tests and benchmarks
// (the scalar definition where that path has no attention kernels or is not compiled in).
const AttentionKernels& attention_kernels();
const AttentionKernels& attention_kernels_for(Isa isa);

inline void attention_f32(const AttentionArgs& args, const AttentionF32& cache) {
  attention_kernels().f32(args, cache);
}
inline void attention_i8(const AttentionArgs& args, const AttentionI8& cache) {
  attention_kernels().i8(args, cache);
}

namespace scalar {
void attention_f32(const AttentionArgs& args, const AttentionF32& cache);
void attention_i8(const AttentionArgs& args, const AttentionI8& cache);
// x[t] = e_t of the contract (max, exp); returns their sum in the canonical order.
float softmax_row(float* x, size_t n);
}  // namespace scalar

// Per-ISA kernels; nullptr where the build has none (attention_x86.cpp, attention_neon.cpp).
const AttentionKernels* attention_avx2();
const AttentionKernels* attention_neon();

}  // namespace ordinal::kernels
