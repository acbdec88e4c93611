#include "positional/relative_bias.hpp"

#include <string>

#include "numerics/strict_float.hpp"  // no FMA contraction in the definitions below

namespace ordinal::positional {

namespace {

// Unsigned big integer just large enough for max_distance^(buckets_per_side): 2^24^128 = 3072 bits.
class SmallBigInt {
 public:
  static constexpr int kLimbs = 100;
  explicit SmallBigInt(uint32_t v) { limbs_[0] = v; }
  void multiply(uint32_t m) {
    uint64_t carry = 0;
    for (int i = 0; i < kLimbs; ++i) {
      const uint64_t p = static_cast<uint64_t>(limbs_[i]) * m + carry;
      limbs_[i] = static_cast<uint32_t>(p);
      carry = p >> 32;
    }
  }
  // -1, 0, 1 like a three-way compare.
  static int compare(const SmallBigInt& a, const SmallBigInt& b) {
    for (int i = kLimbs - 1; i >= 0; --i) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  uint32_t limbs_[kLimbs] = {};
};

SmallBigInt power(uint32_t base, int exponent) {
  SmallBigInt r(1);
  for (int i = 0; i < exponent; ++i) r.multiply(base);
  return r;
}

}  // namespace

Result<T5BucketTable> make_t5_bucket_table(int num_buckets, int64_t max_distance, bool bidirectional) {
  if (num_buckets < 2 || num_buckets > kMaxT5Buckets ||
      (bidirectional && (num_buckets < 4 || num_buckets % 2))) {
    return invalid_argument("t5 buckets: num_buckets=" + std::to_string(num_buckets) +
                            " must be in [2, 256] (even and >= 4 when bidirectional)");
  }
  T5BucketTable t;
  t.bidirectional = bidirectional;
  t.num_buckets = num_buckets;
  t.max_distance = max_distance;
  t.buckets_per_side = bidirectional ? num_buckets / 2 : num_buckets;
  t.max_exact = t.buckets_per_side / 2;
  if (max_distance <= t.max_exact || max_distance > kMaxT5Distance) {
    return invalid_argument("t5 buckets: max_distance=" + std::to_string(max_distance) + " must be in (" +
                            std::to_string(t.max_exact) + ", 2^24]");
  }
  const int log_buckets = t.buckets_per_side - t.max_exact;  // R in the header comment
  t.num_thresholds = log_buckets - 1;
  const uint32_t me = static_cast<uint32_t>(t.max_exact), md = static_cast<uint32_t>(max_distance);
  int64_t lo = me + 1;
  for (int k = 1; k <= t.num_thresholds; ++k) {
    // rhs = md^k * me^(R-k); smallest n in (me, md] with n^R >= rhs (exists: md^R >= rhs since k < R).
    SmallBigInt rhs = power(md, k);
    for (int i = 0; i < log_buckets - k; ++i) rhs.multiply(me);
    int64_t hi = md;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (SmallBigInt::compare(power(static_cast<uint32_t>(mid), log_buckets), rhs) >= 0)
        hi = mid;
      else
        lo = mid + 1;
    }
    t.thresholds[k - 1] = lo;  // thresholds are non-decreasing, so the next search starts here
  }
  return t;
}

int t5_relative_position_bucket(const T5BucketTable& t, int64_t relative_position) {
  int bucket = 0;
  uint64_t n;  // distance magnitude, computed without overflowing at INT64_MIN
  if (t.bidirectional) {
    if (relative_position > 0) bucket = t.buckets_per_side;
    n = relative_position >= 0 ? static_cast<uint64_t>(relative_position)
                               : static_cast<uint64_t>(-(relative_position + 1)) + 1u;
  } else {
    n = relative_position >= 0 ? 0u : static_cast<uint64_t>(-(relative_position + 1)) + 1u;
  }
  if (n < static_cast<uint64_t>(t.max_exact)) return bucket + static_cast<int>(n);
  // Count thresholds <= n (binary search; thresholds are sorted).
  int lo = 0, hi = t.num_thresholds;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (static_cast<uint64_t>(t.thresholds[mid]) <= n)
      lo = mid + 1;
    else
      hi = mid;
  }
  return bucket + t.max_exact + lo;
}

void t5_bias_row_f32(const T5BucketTable& buckets, const float* table, int n_heads, int head,
                     int64_t query_pos, int64_t key_pos0, int n_keys, float* bias) {
  for (int k = 0; k < n_keys; ++k) {
    const int b = t5_relative_position_bucket(buckets, key_pos0 + k - query_pos);
    bias[k] = table[static_cast<int64_t>(b) * n_heads + head];
  }
}

void t5_bias_row_int8(const T5BucketTable& buckets, const int8_t* table, const float* scales, int n_scales,
                      int n_heads, int head, int64_t query_pos, int64_t key_pos0, int n_keys, float* bias) {
  const float scale = scales[n_scales == 1 ? 0 : head];
  for (int k = 0; k < n_keys; ++k) {
    const int b = t5_relative_position_bucket(buckets, key_pos0 + k - query_pos);
    bias[k] = static_cast<float>(table[static_cast<int64_t>(b) * n_heads + head]) * scale;
  }
}

void t5_add_bias_row_f32(const T5BucketTable& buckets, const float* table, int n_heads, int head,
                         int64_t query_pos, int64_t key_pos0, int n_keys, float* logits) {
  for (int k = 0; k < n_keys; ++k) {
    const int b = t5_relative_position_bucket(buckets, key_pos0 + k - query_pos);
    logits[k] += table[static_cast<int64_t>(b) * n_heads + head];
  }
}

void t5_add_bias_row_int8(const T5BucketTable& buckets, const int8_t* table, const float* scales,
                          int n_scales, int n_heads, int head, int64_t query_pos, int64_t key_pos0,
                          int n_keys, float* logits) {
  const float scale = scales[n_scales == 1 ? 0 : head];
  for (int k = 0; k < n_keys; ++k) {
    const int b = t5_relative_position_bucket(buckets, key_pos0 + k - query_pos);
    const float v = static_cast<float>(table[static_cast<int64_t>(b) * n_heads + head]) * scale;
    logits[k] += v;
  }
}

}  // namespace ordinal::positional
