#include "positional/position_buckets.hpp"

#include <string>

namespace ordinal::positional {

Result<PositionBucketMap> make_stride_bucket_map(int64_t stride, int64_t num_positions) {
  if (stride < 1 || num_positions < 1) {
    return invalid_argument("position buckets: stride=" + std::to_string(stride) +
                            " and num_positions=" + std::to_string(num_positions) + " must be >= 1");
  }
  PositionBucketMap m;
  m.rule = PositionBucketRule::kStride;
  m.stride = stride;
  m.num_rows = num_positions / stride + (num_positions % stride != 0 ? 1 : 0);
  return m;
}

Result<PositionBucketMap> make_log_bucket_map(int num_buckets, int64_t max_distance) {
  Result<T5BucketTable> table = make_t5_bucket_table(num_buckets, max_distance, /*bidirectional=*/false);
  if (!table.ok()) return table.status();
  PositionBucketMap m;
  m.rule = PositionBucketRule::kT5Log;
  m.num_rows = num_buckets;
  m.log = table.value();
  return m;
}

int64_t position_to_row(const PositionBucketMap& map, int64_t pos) {
  if (pos < 0) pos = 0;
  if (map.rule == PositionBucketRule::kT5Log) {
    // Causal T5 buckets take relative_position = key - query = -distance.
    return t5_relative_position_bucket(map.log, -pos);
  }
  const int64_t row = pos / map.stride;
  return row < map.num_rows ? row : map.num_rows - 1;
}

}  // namespace ordinal::positional
