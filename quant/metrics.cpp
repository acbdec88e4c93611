#include "quant/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "quant/distance.hpp"

namespace ordinal::quant {

TableMetrics compare_tables(const float* original, const float* reconstructed, int64_t positions, int cols,
                            int64_t bytes, bool shares_positions_by_design, int max_listed) {
  TableMetrics m;
  m.positions = positions;
  m.cols = cols;
  m.bytes = bytes;
  m.shares_positions_by_design = shares_positions_by_design;
  if (positions <= 0 || cols <= 0) return m;
  m.bytes_per_position = static_cast<double>(bytes) / positions;

  double abs_sum = 0, sq_sum = 0;
  for (int64_t i = 0; i < positions * cols; ++i) {
    const double e = std::fabs(static_cast<double>(reconstructed[i]) - original[i]);
    m.max_abs_error = std::max(m.max_abs_error, e);
    abs_sum += e;
    sq_sum += e * e;
  }
  const double n = static_cast<double>(positions) * cols;
  m.mean_abs_error = abs_sum / n;
  m.rms_error = std::sqrt(sq_sum / n);

  int64_t recovered = 0;
  for (int64_t p = 0; p < positions; ++p) {
    const float* r = reconstructed + p * cols;
    const double own = squared_distance(r, original + p * cols, cols);
    bool strictly_nearest = true;
    for (int64_t q = 0; q < positions && strictly_nearest; ++q) {
      if (q != p && squared_distance(r, original + q * cols, cols) <= own) strictly_nearest = false;
    }
    if (strictly_nearest) ++recovered;
  }
  m.nn_recovery_rate = static_cast<double>(recovered) / positions;

  double min_sq = std::numeric_limits<double>::infinity();
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t q = p + 1; q < positions; ++q)
      min_sq = std::min(min_sq, squared_distance(reconstructed + p * cols, reconstructed + q * cols, cols));
  m.min_pair_distance = positions > 1 ? std::sqrt(min_sq) : 0.0;

  // Identical rows: sort positions by row contents (value order: -0 == +0), then count equal runs.
  std::vector<int64_t> order(positions);
  std::iota(order.begin(), order.end(), 0);
  auto row_less = [&](int64_t a, int64_t b) {
    const float* x = reconstructed + a * cols;
    const float* y = reconstructed + b * cols;
    for (int c = 0; c < cols; ++c) {
      if (x[c] < y[c]) return true;
      if (y[c] < x[c]) return false;
    }
    return a < b;
  };
  auto row_equal = [&](int64_t a, int64_t b) {
    for (int c = 0; c < cols; ++c)
      if (!(reconstructed[a * cols + c] == reconstructed[b * cols + c])) return false;
    return true;
  };
  std::sort(order.begin(), order.end(), row_less);
  for (int64_t start = 0; start < positions;) {
    int64_t end = start + 1;
    while (end < positions && row_equal(order[start], order[end])) ++end;
    const int64_t run = end - start;
    m.collapsed_pairs += run * (run - 1) / 2;
    for (int64_t i = start; i < end && static_cast<int>(m.collapsed_examples.size()) < max_listed; ++i)
      for (int64_t j = i + 1; j < end && static_cast<int>(m.collapsed_examples.size()) < max_listed; ++j)
        m.collapsed_examples.emplace_back(std::min(order[i], order[j]), std::max(order[i], order[j]));
    start = end;
  }
  m.collapse_flagged = m.collapsed_pairs > 0 && !shares_positions_by_design;
  return m;
}

}  // namespace ordinal::quant
