// Bucketed position tables: positions share stored rows by a fixed rule (uniform stride, or T5-style exact
// then logarithmic buckets); each stored row is the mean of its member positions' rows. The runtime maps a
// position to its row with positional::position_to_row (integer-only), the same function used here.
// Positions share rows by design, so collapsed pairs in the metrics are expected, not a defect.
#pragma once

#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"
#include "positional/position_buckets.hpp"

namespace ordinal::quant {

struct BucketedTable {
  positional::PositionBucketMap map;
  int cols = 0;
  std::vector<float> rows;             // map.num_rows x cols
  std::vector<int64_t> member_counts;  // positions (of the source table) averaged into each row
};

// Uniform buckets of `stride` positions.
Result<BucketedTable> build_bucketed_stride(const float* table, int64_t positions, int cols, int64_t stride);
// T5 causal buckets: distances < num_buckets/2 exact, then log-spaced up to max_distance. Rows with no member
// (buckets beyond the source table's positions) copy the nearest lower non-empty row.
Result<BucketedTable> build_bucketed_log(const float* table, int64_t positions, int cols, int num_buckets,
                                         int64_t max_distance);

// [positions x cols] table as the runtime would see it (row of position p = rows[position_to_row(p)]).
std::vector<float> expand_bucketed(const BucketedTable& bucketed, int64_t positions);

}  // namespace ordinal::quant
