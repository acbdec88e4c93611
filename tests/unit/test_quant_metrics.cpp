// Table metrics: error statistics, nearest-neighbour recovery, minimum pair distance, collapsed pairs.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "quant/metrics.hpp"

using namespace ordinal::quant;

namespace {
std::vector<float> ramp_table(int64_t positions, int cols) {
  std::vector<float> t(positions * cols);
  for (int64_t p = 0; p < positions; ++p)
    for (int c = 0; c < cols; ++c) t[p * cols + c] = static_cast<float>(p) * (c + 1);
  return t;
}
}  // namespace

TEST_CASE("identical tables: zero error, full recovery, no collapse") {
  const std::vector<float> t = ramp_table(10, 4);
  const TableMetrics m = compare_tables(t.data(), t.data(), 10, 4, 160, false);
  CHECK(m.max_abs_error == 0.0);
  CHECK(m.rms_error == 0.0);
  CHECK(m.nn_recovery_rate == 1.0);
  CHECK(m.bytes_per_position == 16.0);
  CHECK(m.collapsed_pairs == 0);
  CHECK(!m.collapse_flagged);
  CHECK(m.min_pair_distance == doctest::Approx(std::sqrt(1.0 + 4 + 9 + 16)));
}

TEST_CASE("error statistics are exact for a single perturbed element") {
  const std::vector<float> t = ramp_table(5, 4);
  std::vector<float> r = t;
  r[7] += 0.5f;
  const TableMetrics m = compare_tables(t.data(), r.data(), 5, 4, 80, false);
  CHECK(m.max_abs_error == 0.5);
  CHECK(m.mean_abs_error == doctest::Approx(0.5 / 20));
  CHECK(m.rms_error == doctest::Approx(std::sqrt(0.25 / 20)));
  CHECK(m.nn_recovery_rate == 1.0);
}

TEST_CASE("swapped rows lose recovery; duplicated rows are collapsed and flagged unless shared by design") {
  const std::vector<float> t = ramp_table(8, 3);
  std::vector<float> swapped = t;
  for (int c = 0; c < 3; ++c) std::swap(swapped[2 * 3 + c], swapped[5 * 3 + c]);
  CHECK(compare_tables(t.data(), swapped.data(), 8, 3, 0, false).nn_recovery_rate ==
        doctest::Approx(6.0 / 8));

  std::vector<float> collapsed = t;
  for (int c = 0; c < 3; ++c) collapsed[6 * 3 + c] = collapsed[1 * 3 + c];  // position 6 -> position 1's row
  for (int c = 0; c < 3; ++c) collapsed[7 * 3 + c] = collapsed[1 * 3 + c];
  const TableMetrics m = compare_tables(t.data(), collapsed.data(), 8, 3, 0, false);
  CHECK(m.collapsed_pairs == 3);  // {1, 6, 7}: three pairs
  CHECK(m.collapse_flagged);
  CHECK(m.min_pair_distance == 0.0);
  REQUIRE(m.collapsed_examples.size() == 3);
  CHECK(m.collapsed_examples[0] == std::make_pair(int64_t{1}, int64_t{6}));
  const TableMetrics by_design = compare_tables(t.data(), collapsed.data(), 8, 3, 0, true);
  CHECK(by_design.collapsed_pairs == 3);
  CHECK(!by_design.collapse_flagged);
  // -0 and +0 are the same value: rows differing only in the sign of zero collapse.
  std::vector<float> zeros = {0.0f, 1.0f, -0.0f, 1.0f};
  CHECK(compare_tables(zeros.data(), zeros.data(), 2, 2, 0, false).collapsed_pairs == 1);
}
