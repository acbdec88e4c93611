#include "telemetry/session_telemetry.hpp"

#include <algorithm>

namespace ordinal {

void LatencyHistogram::clear() {
  for (uint64_t& c : counts_) c = 0;
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t LatencyHistogram::bucket_lower(uint32_t bucket) {
  if (bucket < kSubBuckets) return bucket;
  const uint32_t e = 4 + (bucket - kSubBuckets) / kSubBuckets;
  const uint64_t sub = (bucket - kSubBuckets) % kSubBuckets;
  return (kSubBuckets + sub) << (e - 4);
}

uint64_t LatencyHistogram::bucket_width(uint32_t bucket) {
  if (bucket < kSubBuckets) return 1;
  const uint32_t e = 4 + (bucket - kSubBuckets) / kSubBuckets;
  return uint64_t{1} << (e - 4);
}

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (!(p > 0.0)) return min_;  // also NaN
  if (p >= 100.0) return max_;
  // Nearest rank: the smallest value with at least ceil(p/100 * count) values at or below it.
  const double exact_rank = p / 100.0 * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(exact_rank);
  if (static_cast<double>(rank) < exact_rank) ++rank;
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      // The last bucket is open-ended: its midpoint means nothing, the observed max bounds it.
      const uint64_t mid = b == kBuckets - 1 ? max_ : bucket_lower(b) + bucket_width(b) / 2;
      return std::min(std::max(mid, min_), max_);
    }
  }
  return max_;
}

namespace detail {

void SessionTelemetry::end(bool decoding, uint64_t t0, const Status& st, int64_t first_position, size_t count,
                           size_t cached) {
  const uint64_t t1 = now_ns();
  const uint64_t elapsed = t1 >= t0 ? t1 - t0 : 0;
  if (!st.ok()) {
    if (st.code() == ErrorCode::kNumericError) {
      ++stats_.numeric_errors;
    } else if (st.code() == ErrorCode::kOutOfRange) {
      ++stats_.positions_refused;
    } else {
      ++stats_.failed_calls;
    }
    return;
  }
  if (decoding) {
    stats_.tokens_decoded += count;
    stats_.decode_ns += elapsed;
    decode_latency_.record(elapsed);
  } else {
    ++stats_.prefill_calls;
    stats_.tokens_prefilled += count;
    stats_.prefill_ns += elapsed;
  }
  if (stats_.time_to_first_token_ns < 0 && ttft_start_ != kUnset) {
    stats_.time_to_first_token_ns = static_cast<int64_t>(t1 >= ttft_start_ ? t1 - ttft_start_ : 0);
  }
  const int64_t last = first_position + static_cast<int64_t>(count) - 1;
  stats_.highest_position = std::max(stats_.highest_position, last);
  if (table_rows_ > 0 && last >= table_rows_) {
    const int64_t from = std::max(first_position, table_rows_);
    stats_.out_of_table_tokens += static_cast<uint64_t>(last - from + 1);
  }
  stats_.kv_bytes_peak = std::max<uint64_t>(stats_.kv_bytes_peak, kv_slot_bytes_ * cached);
}

void SessionTelemetry::clear() {
  const uint64_t memory = stats_.memory_bytes;
  stats_ = SessionStats();
  stats_.memory_bytes = memory;
  decode_latency_.clear();
  ttft_start_ = kUnset;
}

SessionStats SessionTelemetry::snapshot(size_t cached) const {
  SessionStats s = stats_;
  s.kv_bytes_in_use = kv_slot_bytes_ * cached;
  // A restored state (load_state) can fill the cache without a call: the peak covers it from here on.
  s.kv_bytes_peak = std::max(s.kv_bytes_peak, s.kv_bytes_in_use);
  const LatencyHistogram& h = decode_latency_;
  s.decode_p50_ns = h.percentile(50.0);
  s.decode_p95_ns = h.percentile(95.0);
  s.decode_p99_ns = h.percentile(99.0);
  s.decode_min_ns = h.min();
  s.decode_max_ns = h.max();
  s.decode_mean_ns = h.count() ? h.sum() / h.count() : 0;
  return s;
}

}  // namespace detail
}  // namespace ordinal
