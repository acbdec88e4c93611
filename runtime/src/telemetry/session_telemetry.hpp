// The counters behind Session::stats(): updated once at the end of every prefill/decode call from what the
// call did (tokens, positions, outcome) and two steady-clock reads. Plain members of the session: nothing is
// allocated, locked or atomic (a session is driven by one thread at a time).
#pragma once

#include <chrono>
#include <cstdint>

#include "ordinal/status.hpp"
#include "ordinal/telemetry.hpp"

namespace ordinal::detail {

class SessionTelemetry {
 public:
  static uint64_t now_ns() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }

  // table_rows: stored rows of an absolute positional table whose policy lets positions run past them
  // (clamp / interpolate); 0 when positions never leave a table. kv_slot_bytes: cache bytes per token.
  void configure(int64_t table_rows, uint64_t kv_slot_bytes, uint64_t memory_bytes) {
    table_rows_ = table_rows;
    kv_slot_bytes_ = kv_slot_bytes;
    stats_.memory_bytes = memory_bytes;
  }

  // Called at the start of a call (t0 = now_ns()); arms time-to-first-token on the first call.
  void begin(uint64_t t0) {
    if (ttft_start_ == kUnset) ttft_start_ = t0;
  }
  // The end of a prefill (decoding = false) or decode call that started at t0 with `count` tokens from
  // position `first_position`; `cached` is the cache's token count afterwards.
  void end(bool decoding, uint64_t t0, const Status& st, int64_t first_position, size_t count, size_t cached);
  // reset(): the next call measures time to first token again; the cache is empty.
  void on_reset() {
    ttft_start_ = kUnset;
    stats_.time_to_first_token_ns = -1;
  }
  void clear();

  // The counters with the cache's current use (`cached` tokens) and the latency percentiles filled in.
  SessionStats snapshot(size_t cached) const;
  const LatencyHistogram& decode_latency() const { return decode_latency_; }

 private:
  static constexpr uint64_t kUnset = UINT64_MAX;
  SessionStats stats_;
  LatencyHistogram decode_latency_;
  uint64_t ttft_start_ = kUnset;
  int64_t table_rows_ = 0;
  uint64_t kv_slot_bytes_ = 0;
};

}  // namespace ordinal::detail
