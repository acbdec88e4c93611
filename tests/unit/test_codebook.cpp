// Codebook position tables: exact recovery of a K-cluster table, determinism, Lloyd improves on seeding,
// nearest-codeword assignment after storage quantization, u16 indices, metrics.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "numerics/prng.hpp"
#include "quant/codebook.hpp"
#include "quant/metrics.hpp"

using namespace ordinal::quant;
using ordinal::quant::RowFormat;

namespace {

std::vector<float> learned_like_table(int64_t positions, int d, uint64_t seed) {
  ordinal::numerics::SplitMix64 rng(seed);
  std::vector<float> t(positions * d);
  for (int64_t p = 0; p < positions; ++p)
    for (int c = 0; c < d; ++c)
      t[p * d + c] =
          static_cast<float>(0.8 * std::sin(p * std::pow(10000.0, -2.0 * (c / 2) / d) + (c % 2) * 1.5708) +
                             0.05 * (rng.uniform01() * 2 - 1));
  return t;
}

double sq(const float* a, const float* b, int d) {
  double s = 0;
  for (int c = 0; c < d; ++c) s += (static_cast<double>(a[c]) - b[c]) * (static_cast<double>(a[c]) - b[c]);
  return s;
}

}  // namespace

TEST_CASE("a table made of K distinct rows is recovered exactly with K codewords") {
  const int d = 16, k = 8;
  const int64_t P = 200;
  ordinal::numerics::SplitMix64 rng(3);
  std::vector<float> protos(k * d);
  for (auto& v : protos) v = static_cast<float>(rng.uniform01() * 4 - 2);
  std::vector<float> t(P * d);
  for (int64_t p = 0; p < P; ++p)
    for (int c = 0; c < d; ++c) t[p * d + c] = protos[(p * 5 % k) * d + c];
  CodebookOptions o;
  o.k = k;
  auto cb = build_codebook(t.data(), P, d, o);
  REQUIRE(cb.ok());
  CHECK(cb->inertia == 0.0);
  const std::vector<float> r = reconstruct_codebook(cb.value());
  CHECK(r == t);
  CHECK(cb->bytes() == k * d * 4 + P);
}

TEST_CASE("deterministic for a seed; Lloyd iterations improve on k-means++ seeding; indices are nearest") {
  const int d = 32;
  const int64_t P = 512;
  const std::vector<float> t = learned_like_table(P, d, 9);
  CodebookOptions o;
  o.k = 32;
  o.seed = 42;
  auto a = build_codebook(t.data(), P, d, o);
  auto b = build_codebook(t.data(), P, d, o);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->indices_u8 == b->indices_u8);
  CHECK(a->centroids == b->centroids);
  CodebookOptions seeding_only = o;
  seeding_only.max_iterations = 0;
  auto s = build_codebook(t.data(), P, d, seeding_only);
  REQUIRE(s.ok());
  CHECK(a->inertia < s->inertia);
  MESSAGE("k=32 inertia: seeding " << s->inertia << ", after " << a->iterations << " Lloyd iterations "
                                   << a->inertia);
  for (RowFormat f : {RowFormat::kF32, RowFormat::kInt8RowF32Scale, RowFormat::kInt4Group}) {
    o.codebook_format = f;
    auto q = build_codebook(t.data(), P, d, o);
    REQUIRE(q.ok());
    const std::vector<float> stored = dequantize_table(q->storage);
    const std::vector<float> r = reconstruct_codebook(q.value());
    for (int64_t p = 0; p < P; ++p) {
      const double own = sq(t.data() + p * d, stored.data() + q->index_of(p) * d, d);
      for (int j = 0; j < q->k; ++j) REQUIRE(own <= sq(t.data() + p * d, stored.data() + j * d, d));
      for (int c = 0; c < d; ++c) REQUIRE(r[p * d + c] == stored[q->index_of(p) * d + c]);
    }
    const TableMetrics m =
        compare_tables(t.data(), r.data(), P, d, q->bytes(), /*shares_positions_by_design=*/true);
    MESSAGE(std::string(ordinal::quant::row_format_name(f))
            << " codebook k=32: " << m.bytes_per_position << " B/pos, rms " << m.rms_error << ", max "
            << m.max_abs_error << ", NN recovery " << m.nn_recovery_rate << ", collapsed pairs "
            << m.collapsed_pairs);
    CHECK(m.collapsed_pairs > 0);  // 512 positions onto 32 codewords must merge positions
    CHECK(!m.collapse_flagged);
  }
}

TEST_CASE("more than 256 codewords use u16 indices; k is clamped to the number of positions") {
  const int d = 8;
  const int64_t P = 400;
  const std::vector<float> t = learned_like_table(P, d, 5);
  CodebookOptions o;
  o.k = 300;
  o.max_iterations = 10;
  auto cb = build_codebook(t.data(), P, d, o);
  REQUIRE(cb.ok());
  CHECK(cb->indices_u8.empty());
  CHECK(cb->indices_u16.size() == static_cast<size_t>(P));
  CHECK(cb->bytes() == 300 * d * 4 + 2 * P);
  o.k = 1000;
  auto all = build_codebook(t.data(), P, d, o);
  REQUIRE(all.ok());
  CHECK(all->k == P);
  CHECK(all->inertia == 0.0);  // one codeword per position
  o.k = 0;
  CHECK(!build_codebook(t.data(), P, d, o).ok());
}
