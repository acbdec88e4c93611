// Run-time telemetry of a Session (Session::stats()) and the opt-in attention observer
// (Session::set_attention_observer). Counters are plain integers updated once at the end of every
// prefill/decode call (two steady-clock reads per call: start and end); the decode latency histogram has
// fixed buckets, so recording never allocates. Read them on the thread that drives the session (a Session
// is used by one thread at a time).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ordinal/export.h"

namespace ordinal {

// Latencies in nanoseconds in fixed log-linear buckets (HdrHistogram's layout at 4 significant bits):
// values below 16 ns have a bucket each; above, every power of two [2^e, 2^(e+1)) is cut into 16 equal
// buckets, up to 2^40 ns (~18 minutes; longer values count in the last bucket). A percentile is the
// midpoint of the bucket holding that rank, clamped to the observed min/max: within 1/32 (3.2%) of the
// exact nearest-rank value.
class ORD_API LatencyHistogram {
 public:
  static constexpr uint32_t kSubBuckets = 16;
  static constexpr uint32_t kMaxExponent = 40;
  static constexpr uint32_t kBuckets = kSubBuckets + (kMaxExponent - 4) * kSubBuckets;

  void record(uint64_t ns) {
    ++counts_[bucket_of(ns)];
    ++count_;
    sum_ += ns;
    if (ns < min_) min_ = ns;
    if (ns > max_) max_ = ns;
  }
  void clear();

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  // Nearest-rank percentile p in [0, 100] (rank ceil(p/100 * count), at least 1), within 1/32 of the exact
  // value; 0 when empty.
  uint64_t percentile(double p) const;
  uint64_t bucket_count(uint32_t bucket) const { return counts_[bucket]; }

  static uint32_t bucket_of(uint64_t ns) {
    if (ns < kSubBuckets) return static_cast<uint32_t>(ns);
    const uint32_t e = 63u - static_cast<uint32_t>(__builtin_clzll(ns));  // >= 4
    if (e >= kMaxExponent) return kBuckets - 1;
    const uint32_t sub = static_cast<uint32_t>(ns >> (e - 4)) & (kSubBuckets - 1);
    return kSubBuckets + (e - 4) * kSubBuckets + sub;
  }
  // [lower, lower + width) of a bucket.
  static uint64_t bucket_lower(uint32_t bucket);
  static uint64_t bucket_width(uint32_t bucket);

 private:
  uint64_t counts_[kBuckets] = {};
  uint64_t count_ = 0, sum_ = 0, min_ = UINT64_MAX, max_ = 0;
};

// A snapshot of a session's counters (Session::stats(); ord_session_stats in C has the same fields).
struct SessionStats {
  uint64_t prefill_calls = 0;     // successful prefill() calls
  uint64_t tokens_prefilled = 0;  // tokens they appended
  uint64_t tokens_decoded = 0;    // successful decode() calls (one token each)
  uint64_t prefill_ns = 0;        // wall time inside successful prefill() calls
  uint64_t decode_ns = 0;         // wall time inside successful decode() calls
  // From the start of the first prefill/decode call after create() or reset() to the end of the first
  // successful one (when the next-token logits of the prompt exist); -1 until then.
  int64_t time_to_first_token_ns = -1;
  // Per-token decode latency (LatencyHistogram percentiles; 0 before the first decode).
  uint64_t decode_p50_ns = 0, decode_p95_ns = 0, decode_p99_ns = 0;
  uint64_t decode_min_ns = 0, decode_max_ns = 0, decode_mean_ns = 0;
  // Memory. The session allocates everything at create (memory_bytes, constant: current = peak); the KV
  // cache in use grows with the sequence: current and peak bytes of the cache slots holding tokens.
  uint64_t memory_bytes = 0;
  uint64_t kv_bytes_in_use = 0;
  uint64_t kv_bytes_peak = 0;
  // Positions: the highest absolute position a token took (-1 before any); tokens whose position lay past
  // a positional table's stored rows, where the model's out-of-range policy (clamp / interpolate) decided
  // the vector; calls refused because a position was beyond what the model addresses (policy "error").
  int64_t highest_position = -1;
  uint64_t out_of_table_tokens = 0;
  uint64_t positions_refused = 0;
  // Calls that failed with kNumericError (NaN/Inf in the logits, SessionOptions::check_numerics).
  uint64_t numeric_errors = 0;
  // Calls that failed for any other reason (bad token, full cache, abort, unusable session).
  uint64_t failed_calls = 0;
};

// One query's attention over the keys of one head, as the forward pass used it (Session's attention
// observer). probabilities[j] is the weight of the key at absolute position first_key_position + j.
struct AttentionRow {
  uint32_t layer = 0;
  uint32_t head = 0;
  int64_t query_position = 0;
  int64_t first_key_position = 0;
  size_t keys = 0;
  const float* probabilities = nullptr;  // `keys` weights, summing to 1 (up to rounding)
  // nullptr: no key is padding; else `keys` flags, nonzero for a padding key (padded batches).
  const uint8_t* padding = nullptr;
};
// Called on the thread that runs prefill/decode, once per (token, layer, head), after that layer's
// attention; the row's memory is valid during the call only. A call that is later aborted has already
// reported its rows.
using AttentionObserver = void (*)(const AttentionRow& row, void* user);

}  // namespace ordinal
