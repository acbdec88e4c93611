// Low-rank position tables by Jacobi eigen-decomposition of the Gram matrix: exact recovery of a rank-r
// table, known singular values, Eckart-Young error, int8 factors through the runtime kernel.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "numerics/prng.hpp"
#include "quant/lowrank.hpp"
#include "quant/metrics.hpp"

using namespace ordinal::quant;
using ordinal::quant::LowRankFormat;

namespace {
double frobenius_sq_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return s;
}
}  // namespace

TEST_CASE("singular values of a scaled diagonal table are recovered in descending order") {
  const int d = 12;
  std::vector<float> t(d * d, 0.0f);
  const float sigma[d] = {0.5f, 3, 1, 7, 0.25f, 2, 6, 4, 5, 0.75f, 1.5f, 2.5f};
  for (int i = 0; i < d; ++i) t[i * d + i] = sigma[i];
  auto f = lowrank_factorize(t.data(), d, d, 4);
  REQUIRE(f.ok());
  const double expected[] = {7, 6, 5, 4, 3, 2.5, 2, 1.5, 1, 0.75, 0.5, 0.25};
  for (int i = 0; i < d; ++i) CHECK(f->singular_values[i] == doctest::Approx(expected[i]).epsilon(1e-12));
  CHECK(f->energy_kept == doctest::Approx((49 + 36 + 25 + 16) / (49 + 36 + 25 + 16 + 9 + 6.25 + 4 + 2.25 + 1 +
                                                                 0.5625 + 0.25 + 0.0625)));
}

TEST_CASE("a rank-r table is reproduced by rank r; Eckart-Young error for smaller ranks") {
  const int64_t P = 300;
  const int d = 32, r = 5;
  ordinal::numerics::SplitMix64 rng(4);
  std::vector<double> a0(P * r), b0(r * d);
  for (auto& v : a0) v = rng.uniform01() * 2 - 1;
  for (auto& v : b0) v = rng.uniform01() * 2 - 1;
  std::vector<float> t(P * d);
  for (int64_t p = 0; p < P; ++p)
    for (int c = 0; c < d; ++c) {
      double s = 0;
      for (int k = 0; k < r; ++k) s += a0[p * r + k] * b0[k * d + c];
      t[p * d + c] = static_cast<float>(s);
    }
  auto f = lowrank_factorize(t.data(), P, d, r);
  REQUIRE(f.ok());
  const std::vector<float> rec = reconstruct_lowrank(f.value(), LowRankFormat::kF32);
  const TableMetrics m = compare_tables(t.data(), rec.data(), P, d, 4 * (P * r + r * d), false);
  MESSAGE("rank-5 table, rank 5 f32: max err " << m.max_abs_error << ", energy kept " << f->energy_kept);
  CHECK(m.max_abs_error <= 1e-5);
  CHECK(f->singular_values[r] <= 1e-3 * f->singular_values[0]);
  double previous = 1e300;
  for (int rank = 1; rank <= 4; ++rank) {
    auto g = lowrank_factorize(t.data(), P, d, rank);
    REQUIRE(g.ok());
    const double err = frobenius_sq_diff(t, reconstruct_lowrank(g.value(), LowRankFormat::kF32));
    double tail = 0;
    for (int i = rank; i < d; ++i) tail += g->singular_values[i] * g->singular_values[i];
    CHECK(err == doctest::Approx(tail).epsilon(1e-4));  // Eckart-Young: optimal rank-r error
    CHECK(err < previous);
    previous = err;
  }
}

TEST_CASE("int8 factors: per-row scales, error bounded by the factor quantization") {
  const int64_t P = 256;
  const int d = 64, r = 16;
  std::vector<float> t(P * d);
  for (int64_t p = 0; p < P; ++p)
    for (int c = 0; c < d; ++c)
      t[p * d + c] =
          static_cast<float>(std::sin(p * std::pow(10000.0, -2.0 * (c / 2) / d) + (c % 2) * 1.5708));
  auto f = lowrank_factorize(t.data(), P, d, r);
  REQUIRE(f.ok());
  const std::vector<float> rf = reconstruct_lowrank(f.value(), LowRankFormat::kF32);
  const std::vector<float> r8 = reconstruct_lowrank(f.value(), LowRankFormat::kInt8Row);
  const TableMetrics mf = compare_tables(t.data(), rf.data(), P, d, 4 * (P * r + r * d), false);
  const TableMetrics m8 = compare_tables(t.data(), r8.data(), P, d, P * r + r * d + 4 * (P + r), false);
  MESSAGE("sinusoidal 256x64 rank 16: f32 rms " << mf.rms_error << " NN " << mf.nn_recovery_rate << " ("
                                                << mf.bytes_per_position << " B/pos); int8 rms "
                                                << m8.rms_error << " NN " << m8.nn_recovery_rate << " ("
                                                << m8.bytes_per_position << " B/pos)");
  // Per element: |A8 B8 - A B| <= sum_k |a_k| e_b + e_a |b_k| + e_a e_b with e = scale / 2.
  for (int64_t p = 0; p < P; ++p) {
    for (int c = 0; c < d; ++c) {
      double bound = 1e-5;
      for (int k = 0; k < r; ++k) {
        const double ea = f->a_scales[p] / 2, eb = f->b_scales[k] / 2;
        bound += std::fabs(f->a[p * r + k]) * eb + ea * std::fabs(f->b[k * d + c]) + ea * eb;
      }
      REQUIRE(std::fabs(static_cast<double>(r8[p * d + c]) - rf[p * d + c]) <= bound);
    }
  }
  CHECK(!lowrank_factorize(t.data(), P, d, 0).ok());
  CHECK(!lowrank_factorize(t.data(), P, d, d + 1).ok());
}
