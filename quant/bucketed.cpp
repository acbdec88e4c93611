#include "quant/bucketed.hpp"

#include <string>

namespace ordinal::quant {

namespace {

Result<BucketedTable> average_members(const float* table, int64_t positions, int cols,
                                      const positional::PositionBucketMap& map) {
  BucketedTable b;
  b.map = map;
  b.cols = cols;
  std::vector<double> sums(static_cast<size_t>(map.num_rows) * cols, 0.0);
  b.member_counts.assign(map.num_rows, 0);
  for (int64_t p = 0; p < positions; ++p) {
    const int64_t row = positional::position_to_row(map, p);
    ++b.member_counts[row];
    for (int c = 0; c < cols; ++c) sums[static_cast<size_t>(row) * cols + c] += table[p * cols + c];
  }
  b.rows.assign(static_cast<size_t>(map.num_rows) * cols, 0.0f);
  int64_t last_filled = -1;
  for (int64_t r = 0; r < map.num_rows; ++r) {
    if (b.member_counts[r] == 0) {
      if (last_filled >= 0)
        for (int c = 0; c < cols; ++c) b.rows[r * cols + c] = b.rows[last_filled * cols + c];
      continue;
    }
    for (int c = 0; c < cols; ++c)
      b.rows[r * cols + c] = static_cast<float>(sums[static_cast<size_t>(r) * cols + c] / b.member_counts[r]);
    last_filled = r;
  }
  return b;
}

}  // namespace

Result<BucketedTable> build_bucketed_stride(const float* table, int64_t positions, int cols, int64_t stride) {
  if (table == nullptr || positions <= 0 || cols <= 0) return invalid_argument("bucketed: empty table");
  auto map = positional::make_stride_bucket_map(stride, positions);
  if (!map.ok()) return map.status();
  return average_members(table, positions, cols, map.value());
}

Result<BucketedTable> build_bucketed_log(const float* table, int64_t positions, int cols, int num_buckets,
                                         int64_t max_distance) {
  if (table == nullptr || positions <= 0 || cols <= 0) return invalid_argument("bucketed: empty table");
  auto map = positional::make_log_bucket_map(num_buckets, max_distance);
  if (!map.ok()) return map.status();
  return average_members(table, positions, cols, map.value());
}

std::vector<float> expand_bucketed(const BucketedTable& b, int64_t positions) {
  std::vector<float> out(static_cast<size_t>(positions) * b.cols);
  for (int64_t p = 0; p < positions; ++p) {
    const int64_t row = positional::position_to_row(b.map, p);
    for (int c = 0; c < b.cols; ++c) out[p * b.cols + c] = b.rows[row * b.cols + c];
  }
  return out;
}

}  // namespace ordinal::quant
