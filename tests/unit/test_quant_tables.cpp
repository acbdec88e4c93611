// Host-side table quantizers: per-format error bounds on a learned-like position table, byte sizes, layouts
// consumed by the runtime kernels, and argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "numerics/half.hpp"
#include "numerics/prng.hpp"
#include "quant/metrics.hpp"
#include "quant/table_quantizers.hpp"

using namespace ordinal::quant;
using ordinal::quant::RowFormat;

namespace {

// A learned-looking table: smooth sinusoids of the position plus noise, P x d.
std::vector<float> learned_like_table(int64_t positions, int d, uint64_t seed) {
  ordinal::numerics::SplitMix64 rng(seed);
  std::vector<float> t(positions * d);
  for (int64_t p = 0; p < positions; ++p)
    for (int c = 0; c < d; ++c)
      t[p * d + c] =
          static_cast<float>(0.8 * std::sin(p * std::pow(10000.0, -2.0 * (c / 2) / d) + (c % 2) * 1.5708) +
                             0.1 * (rng.uniform01() * 2 - 1));
  return t;
}

float half_at(const std::vector<uint8_t>& bytes, int64_t i) {
  uint16_t h;
  std::memcpy(&h, bytes.data() + 2 * i, 2);
  return ordinal::numerics::half_to_float(h);
}
float float_at(const std::vector<uint8_t>& bytes, int64_t i) {
  float f;
  std::memcpy(&f, bytes.data() + 4 * i, 4);
  return f;
}

}  // namespace

TEST_CASE("every format stays within its per-element bound and has the documented size") {
  const int64_t P = 256;
  const int d = 64;
  const std::vector<float> t = learned_like_table(P, d, 1);
  for (int group : {16, 32, 64}) {
    for (RowFormat f :
         {RowFormat::kF32, RowFormat::kF16, RowFormat::kInt8RowF32Scale, RowFormat::kInt8RowF16Scale,
          RowFormat::kInt8Col, RowFormat::kInt4Group, RowFormat::kInt4GroupZpU8, RowFormat::kInt4GroupZpU4}) {
      INFO(std::string(ordinal::quant::row_format_name(f)) << " group " << group);
      auto q = quantize_table(t.data(), P, d, f, group);
      REQUIRE(q.ok());
      const std::vector<float> r = dequantize_table(q.value());
      REQUIRE(r.size() == t.size());
      const int groups = d / group;
      for (int64_t p = 0; p < P; ++p) {
        for (int c = 0; c < d; ++c) {
          const int64_t i = p * d + c;
          const double err = std::fabs(static_cast<double>(r[i]) - t[i]);
          double bound = 0;
          switch (f) {
            case RowFormat::kF32:
              bound = 0;
              break;
            case RowFormat::kF16:
              bound = std::fabs(t[i]) * 0x1p-11 + 0x1p-25;
              break;
            case RowFormat::kInt8RowF32Scale:
              bound = float_at(q->scales, p) * 0.5 * (1 + 1e-6);
              break;
            case RowFormat::kInt8RowF16Scale:
              bound = half_at(q->scales, p) * 0.5 * (1 + 1e-6);
              break;
            case RowFormat::kInt8Col:
              bound = float_at(q->scales, c) * 0.5 * (1 + 1e-6);
              break;
            case RowFormat::kInt4Group:  // clipping to 7*scale when max/8 was chosen costs up to one scale
              bound = half_at(q->scales, p * groups + c / group) * (1 + 1e-6);
              break;
            default:
              bound = half_at(q->scales, p * groups + c / group) * 0.5 * (1 + 1e-6);
              break;
          }
          REQUIRE(err <= bound);
        }
      }
      const int64_t n = P * d, g = P * groups;
      const int64_t expected_bytes[] = {4 * n,     2 * n,         n + 4 * P,     n + 2 * P,
                                        n + 4 * d, n / 2 + 2 * g, n / 2 + 3 * g, n / 2 + 2 * g + (g + 1) / 2};
      CHECK(q->bytes() == expected_bytes[static_cast<int>(f)]);
      const TableMetrics m = compare_tables(t.data(), r.data(), P, d, q->bytes(), false);
      MESSAGE(std::string(ordinal::quant::row_format_name(f))
              << " g" << group << ": " << m.bytes_per_position << " B/pos, max err " << m.max_abs_error
              << ", rms " << m.rms_error << ", NN recovery " << m.nn_recovery_rate);
      CHECK(m.collapsed_pairs == 0);
      if (f == RowFormat::kF32) CHECK(m.max_abs_error == 0.0);
    }
  }
}

TEST_CASE("zero points: both storages hold the same codes; an all-zero group reconstructs exactly") {
  std::vector<float> t(2 * 32, 0.0f);
  for (int c = 0; c < 16; ++c) t[c] = static_cast<float>(c) * 0.5f - 1.0f;  // row 0, group 0: -1 .. 6.5
  auto a = quantize_table(t.data(), 2, 32, RowFormat::kInt4GroupZpU8, 16);
  auto b = quantize_table(t.data(), 2, 32, RowFormat::kInt4GroupZpU4, 16);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->data == b->data);
  CHECK(a->zero_points.size() == 4);
  CHECK(b->zero_points.size() == 2);
  CHECK((b->zero_points[0] & 0x0f) == a->zero_points[0]);
  CHECK((b->zero_points[0] >> 4) == a->zero_points[1]);
  const std::vector<float> ra = dequantize_table(a.value()), rb = dequantize_table(b.value());
  CHECK(ra == rb);
  for (int c = 16; c < 64; ++c) CHECK(ra[c] == 0.0f);
  // -1 .. 6.5 in steps of 0.5 is exactly the 4-bit grid with scale 0.5 and zero point 2.
  for (int c = 0; c < 16; ++c) CHECK(ra[c] == t[c]);
}

TEST_CASE("argument checks") {
  std::vector<float> t(10 * 30, 1.0f);
  CHECK(!quantize_table(t.data(), 10, 30, RowFormat::kInt4Group, 16).ok());  // 16 does not divide 30
  CHECK(!quantize_table(nullptr, 10, 30, RowFormat::kF16).ok());
  CHECK(!quantize_table(t.data(), 0, 30, RowFormat::kF16).ok());
  std::vector<float> odd(3 * 15, 1.0f);
  CHECK(!quantize_table(odd.data(), 3, 15, RowFormat::kInt4Group, 5).ok());  // odd cols cannot pack
}
