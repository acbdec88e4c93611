// Quality metrics for a reconstructed position table vs the original (host side): size, element errors, and
// whether positions stay distinguishable — nearest-neighbour recovery and collapsed (identical) rows.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ordinal::quant {

struct TableMetrics {
  int64_t positions = 0;
  int cols = 0;
  int64_t bytes = 0;
  double bytes_per_position = 0;
  double max_abs_error = 0;
  double mean_abs_error = 0;
  double rms_error = 0;
  // Fraction of positions p whose reconstructed row is strictly closer (L2) to original row p than to any
  // other original row.
  double nn_recovery_rate = 0;
  // Smallest L2 distance between the reconstructed rows of two distinct positions.
  double min_pair_distance = 0;
  // Pairs (p < q) whose reconstructed rows are identical (value-equal), with up to `max_listed` examples.
  int64_t collapsed_pairs = 0;
  std::vector<std::pair<int64_t, int64_t>> collapsed_examples;
  bool shares_positions_by_design = false;  // bucketed schemes: rows are shared on purpose
  bool collapse_flagged = false;            // collapsed_pairs > 0 and the scheme does not share by design
};

// original, reconstructed: [positions x cols] row-major. O(positions^2 * cols).
TableMetrics compare_tables(const float* original, const float* reconstructed, int64_t positions, int cols,
                            int64_t bytes, bool shares_positions_by_design, int max_listed = 16);

}  // namespace ordinal::quant
