// Bucketed position tables: the runtime's integer position->row maps (stride and T5-log), stored rows are
// member means, expansion uses the same map, and metrics treat sharing as by design.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "numerics/prng.hpp"
#include "positional/position_buckets.hpp"
#include "positional/relative_bias.hpp"
#include "quant/bucketed.hpp"
#include "quant/metrics.hpp"

using namespace ordinal::quant;
using namespace ordinal::positional;

namespace {
std::vector<float> random_table(int64_t positions, int d, uint64_t seed) {
  ordinal::numerics::SplitMix64 rng(seed);
  std::vector<float> t(positions * d);
  for (auto& v : t) v = static_cast<float>(rng.uniform01() * 2 - 1);
  return t;
}
}  // namespace

TEST_CASE("runtime maps: stride and T5-log rows, clamping at both ends") {
  auto s = make_stride_bucket_map(4, 10);
  REQUIRE(s.ok());
  CHECK(s->num_rows == 3);
  CHECK(position_to_row(s.value(), 0) == 0);
  CHECK(position_to_row(s.value(), 3) == 0);
  CHECK(position_to_row(s.value(), 4) == 1);
  CHECK(position_to_row(s.value(), 9) == 2);
  CHECK(position_to_row(s.value(), 1000) == 2);
  CHECK(position_to_row(s.value(), -5) == 0);
  CHECK(!make_stride_bucket_map(0, 10).ok());
  auto l = make_log_bucket_map(32, 128);
  REQUIRE(l.ok());
  auto t5 = make_t5_bucket_table(32, 128, false);
  REQUIRE(t5.ok());
  for (int64_t p = 0; p < 1000; ++p)
    CHECK(position_to_row(l.value(), p) == t5_relative_position_bucket(t5.value(), -p));
  CHECK(position_to_row(l.value(), 15) == 15);  // exact region
  CHECK(position_to_row(l.value(), 16) == 16);
  CHECK(position_to_row(l.value(), 128) == 31);
  CHECK(!make_log_bucket_map(1, 128).ok());
}

TEST_CASE("stored rows are the mean of their members; expansion uses the runtime map") {
  const int d = 8;
  const int64_t P = 50;
  const std::vector<float> t = random_table(P, d, 1);
  auto b = build_bucketed_stride(t.data(), P, d, 4);
  REQUIRE(b.ok());
  CHECK(b->map.num_rows == 13);
  CHECK(b->member_counts[12] == 2);  // positions 48, 49
  for (int64_t r = 0; r < 13; ++r) {
    for (int c = 0; c < d; ++c) {
      double sum = 0;
      int n = 0;
      for (int64_t p = r * 4; p < std::min<int64_t>(P, r * 4 + 4); ++p, ++n) sum += t[p * d + c];
      CHECK(b->rows[r * d + c] == static_cast<float>(sum / n));
    }
  }
  const std::vector<float> e = expand_bucketed(b.value(), P);
  for (int64_t p = 0; p < P; ++p)
    for (int c = 0; c < d; ++c) CHECK(e[p * d + c] == b->rows[(p / 4) * d + c]);
  const TableMetrics m =
      compare_tables(t.data(), e.data(), P, d, 13 * d * 4, /*shares_positions_by_design=*/true);
  CHECK(m.collapsed_pairs == 12 * 6 + 1);  // 12 full buckets of 4 (6 pairs each) + one of 2
  CHECK(!m.collapse_flagged);
  MESSAGE("stride-4 buckets on random rows: rms " << m.rms_error << ", NN recovery " << m.nn_recovery_rate);
}

TEST_CASE("T5-log buckets: exact rows for small positions, empty buckets copy the row below") {
  const int d = 4;
  const int64_t P = 40;  // fewer positions than max_distance: the far buckets get no members
  const std::vector<float> t = random_table(P, d, 2);
  auto b = build_bucketed_log(t.data(), P, d, 32, 128);
  REQUIRE(b.ok());
  for (int64_t p = 0; p < 16; ++p)
    for (int c = 0; c < d; ++c) CHECK(b->rows[p * d + c] == t[p * d + c]);  // single-member buckets
  const int64_t last = position_to_row(b->map, P - 1);
  CHECK(last < 31);
  for (int64_t r = last + 1; r < 32; ++r) {
    CHECK(b->member_counts[r] == 0);
    for (int c = 0; c < d; ++c) CHECK(b->rows[r * d + c] == b->rows[last * d + c]);
  }
  const std::vector<float> e = expand_bucketed(b.value(), P);
  const TableMetrics m = compare_tables(t.data(), e.data(), P, d, 32 * d * 4, true);
  CHECK(m.nn_recovery_rate >= 16.0 / P);  // at least the exact region
}
