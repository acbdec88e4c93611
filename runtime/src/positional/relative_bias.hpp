// T5 relative position buckets (HF transformers `_relative_position_bucket`) computed with integers only,
// and the per-head bias lookup from an f32 or int8 [num_buckets x n_heads] table.
//
// HF: with nb = num_buckets (halved when bidirectional, the upper half taking relative_position > 0),
// n = |distance| (bidirectional) or max(-relative_position, 0) (causal), me = nb / 2:
//   bucket = n                                                   if n < me
//          = min(me + floor(ln(n/me) / ln(max_distance/me) * (nb - me)), nb - 1)   otherwise.
// Approach (no logarithms anywhere): floor(...) >= k  <=>  n^(nb-me) >= max_distance^k * me^(nb-me-k), so
// threshold T_k is the smallest such n, found once by binary search with exact big-integer arithmetic in
// make_t5_bucket_table. At run time a bucket is me + #{k : n >= T_k}, a search over int64 thresholds.
// This is the exact real-number value of HF's formula; HF's float32 evaluation can differ from it only where
// ln(n/me)/ln(max_distance/me)*(nb-me) lands within float rounding of an integer (tests check standard
// configurations agree with a float32 and a double re-implementation).
#pragma once

#include <cstdint>

#include "ordinal/status.hpp"

namespace ordinal::positional {

constexpr int kMaxT5Buckets = 256;
constexpr int64_t kMaxT5Distance = int64_t{1} << 24;

struct T5BucketTable {
  bool bidirectional = true;
  int num_buckets = 0;  // as configured (both directions)
  int64_t max_distance = 0;
  int buckets_per_side = 0;                // num_buckets / 2 when bidirectional, else num_buckets
  int max_exact = 0;                       // buckets_per_side / 2
  int num_thresholds = 0;                  // buckets_per_side - max_exact - 1
  int64_t thresholds[kMaxT5Buckets] = {};  // T_1 .. T_{num_thresholds}, increasing
};

// Requires num_buckets in [2, 256] (>= 4 and even when bidirectional, so max_exact >= 1) and
// max_exact < max_distance <= 2^24.
Result<T5BucketTable> make_t5_bucket_table(int num_buckets, int64_t max_distance, bool bidirectional);

// relative_position = key_position - query_position (HF: memory_position - context_position).
int t5_relative_position_bucket(const T5BucketTable& table, int64_t relative_position);

// Bias tables are [num_buckets][n_heads] row-major (HF relative_attention_bias.weight layout).
// f32: bias[k] = table[bucket(key_pos0 + k - query_pos)][head].
void t5_bias_row_f32(const T5BucketTable& buckets, const float* table, int n_heads, int head,
                     int64_t query_pos, int64_t key_pos0, int n_keys, float* bias);
// int8 with a float scale: n_scales == 1 (per tensor) or n_heads (per head). bias = float(q) * scale, one
// rounding, so the bits are reproducible.
void t5_bias_row_int8(const T5BucketTable& buckets, const int8_t* table, const float* scales, int n_scales,
                      int n_heads, int head, int64_t query_pos, int64_t key_pos0, int n_keys, float* bias);
// logits[k] += bias (same lookups as above).
void t5_add_bias_row_f32(const T5BucketTable& buckets, const float* table, int n_heads, int head,
                         int64_t query_pos, int64_t key_pos0, int n_keys, float* logits);
void t5_add_bias_row_int8(const T5BucketTable& buckets, const int8_t* table, const float* scales,
                          int n_scales, int n_heads, int head, int64_t query_pos, int64_t key_pos0,
                          int n_keys, float* logits);

}  // namespace ordinal::positional
