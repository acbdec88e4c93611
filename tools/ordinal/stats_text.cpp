#include "ordinal/stats_text.hpp"

#include <cinttypes>
#include <cstdio>

#include "report/text_format.hpp"

namespace ordinal::cli {

namespace {
using report::appendf;
double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}
double kib(uint64_t bytes) {
  return static_cast<double>(bytes) / 1024.0;
}
}  // namespace

std::string format_session_stats(const SessionStats& s) {
  std::string out = "stats:\n";
  appendf(&out, "  tokens prefilled     %" PRIu64 " in %" PRIu64 " call%s, %.3f ms\n", s.tokens_prefilled,
          s.prefill_calls, s.prefill_calls == 1 ? "" : "s", ms(s.prefill_ns));
  appendf(&out, "  tokens decoded       %" PRIu64 ", %.3f ms", s.tokens_decoded, ms(s.decode_ns));
  if (s.decode_ns > 0) {
    appendf(&out, " (%.1f tok/s)",
            static_cast<double>(s.tokens_decoded) * 1e9 / static_cast<double>(s.decode_ns));
  }
  out += "\n";
  if (s.time_to_first_token_ns >= 0) {
    appendf(&out, "  time to first token  %.3f ms\n", ms(static_cast<uint64_t>(s.time_to_first_token_ns)));
  } else {
    out += "  time to first token  n/a\n";
  }
  if (s.tokens_decoded > 0) {
    appendf(
        &out,
        "  decode latency       p50 %.3f ms, p95 %.3f ms, p99 %.3f ms (min %.3f, mean %.3f, max %.3f ms)\n",
        ms(s.decode_p50_ns), ms(s.decode_p95_ns), ms(s.decode_p99_ns), ms(s.decode_min_ns),
        ms(s.decode_mean_ns), ms(s.decode_max_ns));
  } else {
    out += "  decode latency       n/a (no decode calls)\n";
  }
  appendf(&out,
          "  memory               %.1f KiB allocated at create; KV cache in use %.1f KiB (peak %.1f KiB)\n",
          kib(s.memory_bytes), kib(s.kv_bytes_in_use), kib(s.kv_bytes_peak));
  appendf(&out,
          "  positions            highest %" PRId64 "; past the positional table %" PRIu64
          "; refused %" PRIu64 "\n",
          s.highest_position, s.out_of_table_tokens, s.positions_refused);
  appendf(&out, "  errors               numeric %" PRIu64 ", other failed calls %" PRIu64 "\n",
          s.numeric_errors, s.failed_calls);
  return out;
}

}  // namespace ordinal::cli
