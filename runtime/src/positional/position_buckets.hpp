// Position -> stored-row mapping for bucketed learned position tables (quant/bucketed builds the rows; the
// runtime maps with the same integer-only functions). Bucketing shares rows between positions by design.
#pragma once

#include <cstdint>

#include "ordinal/status.hpp"
#include "positional/relative_bias.hpp"

namespace ordinal::positional {

enum class PositionBucketRule {
  kStride,  // row = pos / stride (uniform buckets of `stride` consecutive positions)
  kT5Log,   // T5 causal bucket of distance pos: positions < num_buckets/2 exact, then logarithmic to
            // max_distance, everything beyond in the last row
};

struct PositionBucketMap {
  PositionBucketRule rule = PositionBucketRule::kStride;
  int64_t stride = 1;
  int64_t num_rows = 0;
  T5BucketTable log;  // used by kT5Log (causal, num_buckets rows)
};

// num_positions > 0, stride >= 1: rows = ceil(num_positions / stride).
Result<PositionBucketMap> make_stride_bucket_map(int64_t stride, int64_t num_positions);
// Same constraints as make_t5_bucket_table(num_buckets, max_distance, /*bidirectional=*/false).
Result<PositionBucketMap> make_log_bucket_map(int num_buckets, int64_t max_distance);

// Row for an absolute position. Integer-only. Negative positions map like 0; positions past the covered
// range map to the last row (the caller's out-of-range policy decides whether to allow them).
int64_t position_to_row(const PositionBucketMap& map, int64_t pos);

}  // namespace ordinal::positional
