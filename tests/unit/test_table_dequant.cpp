// Row dequantization of learned position tables: every storage format against a one-rounding double
// reference (bit-exact), int4 nibble order, codebook and low-rank rows, validation, golden hash.
// The expected values below are computed with one rounding per operation, like the kernels.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "numerics/fixed_point.hpp"
#include "numerics/half.hpp"
#include "numerics/hash64.hpp"
#include "numerics/prng.hpp"
#include "numerics/strict_float.hpp"
#include "quant/table_dequant.hpp"

using namespace ordinal::quant;
using ordinal::numerics::half_to_float;
using ordinal::numerics::SplitMix64;

namespace {

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
// (q - z) * scale with one rounding: the double product of an 8-bit integer and a float is exact.
float one_rounding(int32_t code, float scale) {
  return static_cast<float>(static_cast<double>(code) * static_cast<double>(scale));
}

struct RandomTables {
  int64_t rows = 37;
  int cols = 64;
  int group = 16;
  std::vector<float> f32;
  std::vector<uint16_t> f16;
  std::vector<int8_t> q8;
  std::vector<float> row_scales, col_scales;
  std::vector<uint16_t> row_scales_f16, group_scales_f16;
  std::vector<int8_t> q4_values;  // signed codes, unpacked
  std::vector<uint8_t> u4_values, q4_packed, u4_packed, zp8, zp4_values, zp4_packed;
  explicit RandomTables(uint64_t seed) {
    SplitMix64 rng(seed);
    const int64_t n = rows * cols, groups = rows * (cols / group);
    for (int64_t i = 0; i < n; ++i) {
      f32.push_back(static_cast<float>(rng.uniform01() * 2 - 1));
      // Half data and scales come from integer bit patterns, so the golden hash has no float inputs.
      f16.push_back(static_cast<uint16_t>(rng.below(0x7c00) | (rng.below(2) << 15)));
      q8.push_back(static_cast<int8_t>(rng.between(-128, 127)));
      q4_values.push_back(static_cast<int8_t>(rng.between(-8, 7)));
      u4_values.push_back(static_cast<uint8_t>(rng.between(0, 15)));
    }
    for (int64_t r = 0; r < rows; ++r) {
      row_scales.push_back(static_cast<float>(rng.uniform01() * 0.1 + 1e-3));
      row_scales_f16.push_back(static_cast<uint16_t>(0x1800 + rng.below(0x1000)));  // [2^-9, 2^-5)
    }
    for (int c = 0; c < cols; ++c) col_scales.push_back(static_cast<float>(rng.uniform01() * 0.1 + 1e-3));
    for (int64_t g = 0; g < groups; ++g) {
      group_scales_f16.push_back(static_cast<uint16_t>(0x1800 + rng.below(0x1400)));
      zp8.push_back(static_cast<uint8_t>(rng.between(0, 15)));
      zp4_values.push_back(static_cast<uint8_t>(rng.between(0, 15)));
    }
    q4_packed.resize(n / 2);
    u4_packed.resize(n / 2);
    zp4_packed.resize((groups + 1) / 2);
    ordinal::numerics::pack_int4(q4_values.data(), n, q4_packed.data());
    ordinal::numerics::pack_uint4(u4_values.data(), n, u4_packed.data());
    ordinal::numerics::pack_uint4(zp4_values.data(), groups, zp4_packed.data());
  }
  RowTable table(RowFormat f) const {
    RowTable t;
    t.format = f;
    t.rows = rows;
    t.cols = cols;
    t.group = group;
    switch (f) {
      case RowFormat::kF32:
        t.data = f32.data();
        break;
      case RowFormat::kF16:
        t.data = f16.data();
        break;
      case RowFormat::kInt8RowF32Scale:
        t.data = q8.data();
        t.scales = row_scales.data();
        break;
      case RowFormat::kInt8RowF16Scale:
        t.data = q8.data();
        t.scales = row_scales_f16.data();
        break;
      case RowFormat::kInt8Col:
        t.data = q8.data();
        t.scales = col_scales.data();
        break;
      case RowFormat::kInt4Group:
        t.data = q4_packed.data();
        t.scales = group_scales_f16.data();
        break;
      case RowFormat::kInt4GroupZpU8:
        t.data = u4_packed.data();
        t.scales = group_scales_f16.data();
        t.zero_points = zp8.data();
        break;
      case RowFormat::kInt4GroupZpU4:
        t.data = u4_packed.data();
        t.scales = group_scales_f16.data();
        t.zero_points = zp4_packed.data();
        break;
    }
    return t;
  }
  // Reference value of element (r, c).
  float expected(RowFormat f, int64_t r, int c) const {
    const int64_t i = r * cols + c, g = r * (cols / group) + c / group;
    switch (f) {
      case RowFormat::kF32:
        return f32[i];
      case RowFormat::kF16:
        return half_to_float(f16[i]);
      case RowFormat::kInt8RowF32Scale:
        return one_rounding(q8[i], row_scales[r]);
      case RowFormat::kInt8RowF16Scale:
        return one_rounding(q8[i], half_to_float(row_scales_f16[r]));
      case RowFormat::kInt8Col:
        return one_rounding(q8[i], col_scales[c]);
      case RowFormat::kInt4Group:
        return one_rounding(q4_values[i], half_to_float(group_scales_f16[g]));
      case RowFormat::kInt4GroupZpU8:
        return one_rounding(u4_values[i] - zp8[g], half_to_float(group_scales_f16[g]));
      case RowFormat::kInt4GroupZpU4:
        return one_rounding(u4_values[i] - zp4_values[g], half_to_float(group_scales_f16[g]));
    }
    return 0;
  }
};

const RowFormat kAllFormats[] = {
    RowFormat::kF32,     RowFormat::kF16,       RowFormat::kInt8RowF32Scale, RowFormat::kInt8RowF16Scale,
    RowFormat::kInt8Col, RowFormat::kInt4Group, RowFormat::kInt4GroupZpU8,   RowFormat::kInt4GroupZpU4};

}  // namespace

TEST_CASE("every format dequantizes each element with exactly one rounding; add_row adds it") {
  RandomTables t(1);
  for (RowFormat f : kAllFormats) {
    const RowTable table = t.table(f);
    REQUIRE(validate_row_table(table).ok());
    for (int64_t r = 0; r < t.rows; ++r) {
      std::vector<float> out(t.cols, -7.0f), acc(t.cols);
      for (int c = 0; c < t.cols; ++c) acc[c] = static_cast<float>(c) * 0.25f - 3.0f;
      const std::vector<float> before = acc;
      REQUIRE(dequant_row(table, r, out.data()).ok());
      REQUIRE(add_row(table, r, acc.data()).ok());
      for (int c = 0; c < t.cols; ++c) {
        INFO(row_format_name(f) << " row " << r << " col " << c);
        REQUIRE(bits(out[c]) == bits(t.expected(f, r, c)));
        REQUIRE(bits(acc[c]) == bits(before[c] + t.expected(f, r, c)));
      }
    }
  }
}

TEST_CASE("raw kernels match the described-table entry points") {
  RandomTables t(2);
  const int64_t r = 11;
  auto via_table = [&](RowFormat f) {
    std::vector<float> x(t.cols, 0.5f);
    REQUIRE(add_row(t.table(f), r, x.data()).ok());
    return x;
  };
  std::vector<float> x(t.cols, 0.5f);
  add_row_f32(t.f32.data(), t.cols, r, x.data());
  CHECK(x == via_table(RowFormat::kF32));
  x.assign(t.cols, 0.5f);
  add_row_f16(t.f16.data(), t.cols, r, x.data());
  CHECK(x == via_table(RowFormat::kF16));
  x.assign(t.cols, 0.5f);
  add_row_int8_row_f32scale(t.q8.data(), t.row_scales.data(), t.cols, r, x.data());
  CHECK(x == via_table(RowFormat::kInt8RowF32Scale));
  x.assign(t.cols, 0.5f);
  add_row_int8_row_f16scale(t.q8.data(), t.row_scales_f16.data(), t.cols, r, x.data());
  CHECK(x == via_table(RowFormat::kInt8RowF16Scale));
  x.assign(t.cols, 0.5f);
  add_row_int8_col(t.q8.data(), t.col_scales.data(), t.cols, r, x.data());
  CHECK(x == via_table(RowFormat::kInt8Col));
  x.assign(t.cols, 0.5f);
  add_row_int4_group(t.q4_packed.data(), t.group_scales_f16.data(), nullptr, t.cols, t.group, r, x.data());
  CHECK(x == via_table(RowFormat::kInt4Group));
  x.assign(t.cols, 0.5f);
  add_row_int4_group(t.u4_packed.data(), t.group_scales_f16.data(), t.zp8.data(), t.cols, t.group, r,
                     x.data());
  CHECK(x == via_table(RowFormat::kInt4GroupZpU8));
  x.assign(t.cols, 0.5f);
  add_row_int4_group_zp4(t.u4_packed.data(), t.group_scales_f16.data(), t.zp4_packed.data(), t.cols, t.group,
                         r, x.data());
  CHECK(x == via_table(RowFormat::kInt4GroupZpU4));
}

TEST_CASE("int4 layout: low nibble is the even column, rows start on byte boundaries") {
  // 2 rows x 4 cols, one group of 4 per row, scale 1.0 (half 0x3c00).
  const uint8_t packed[4] = {0x21, 0x8f, 0x07, 0x9a};  // row0: 1, 2, -1, -8   row1: 7, 0, -6, -7
  const uint16_t scales[2] = {0x3c00, 0x4000};         // 1.0, 2.0
  float x[4] = {0, 0, 0, 0};
  add_row_int4_group(packed, scales, nullptr, 4, 4, 0, x);
  CHECK(x[0] == 1.0f);
  CHECK(x[1] == 2.0f);
  CHECK(x[2] == -1.0f);
  CHECK(x[3] == -8.0f);
  float y[4] = {0, 0, 0, 0};
  add_row_int4_group(packed, scales, nullptr, 4, 4, 1, y);
  CHECK(y[0] == 14.0f);
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == -12.0f);
  CHECK(y[3] == -14.0f);
  // Unsigned codes with zero point 8 give the same numbers as the signed reading shifted by 8.
  const uint8_t zp[2] = {8, 8};
  float z[4] = {0, 0, 0, 0};
  add_row_int4_group(packed, scales, zp, 4, 4, 0, z);
  CHECK(z[0] == -7.0f);  // 1 - 8
  CHECK(z[3] == 0.0f);   // 8 - 8
}

TEST_CASE("validation: bad shapes, null pointers and out-of-range rows are errors") {
  RandomTables t(3);
  RowTable bad = t.table(RowFormat::kInt4Group);
  bad.group = 24;  // does not divide 64
  CHECK(!validate_row_table(bad).ok());
  bad = t.table(RowFormat::kInt4GroupZpU8);
  bad.zero_points = nullptr;
  CHECK(!validate_row_table(bad).ok());
  bad = t.table(RowFormat::kInt8Col);
  bad.scales = nullptr;
  CHECK(!validate_row_table(bad).ok());
  bad = t.table(RowFormat::kInt4Group);
  bad.cols = 63;
  CHECK(!validate_row_table(bad).ok());
  std::vector<float> x(t.cols);
  CHECK(add_row(t.table(RowFormat::kF32), t.rows, x.data()).code() == ordinal::ErrorCode::kOutOfRange);
  CHECK(add_row(t.table(RowFormat::kF32), -1, x.data()).code() == ordinal::ErrorCode::kOutOfRange);
  CHECK(!add_row(t.table(RowFormat::kF32), 0, nullptr).ok());
  CHECK(row_table_bytes(t.table(RowFormat::kInt4Group)) == 37 * 32 + 37 * 4 * 2);
  CHECK(row_table_bytes(t.table(RowFormat::kInt4GroupZpU4)) == 37 * 32 + 37 * 4 * 2 + 74);
  CHECK(row_table_bytes(t.table(RowFormat::kInt8Col)) == 37 * 64 + 64 * 4);
}

TEST_CASE("codebook rows: lookups through u8/u16 indices, bad indices rejected") {
  RandomTables t(4);
  std::vector<uint8_t> idx8 = {0, 5, 36, 5, 2};
  std::vector<uint16_t> idx16 = {36, 1, 0};
  for (RowFormat f : {RowFormat::kF32, RowFormat::kInt8RowF16Scale, RowFormat::kInt4Group}) {
    CodebookTable cb;
    cb.codebook = t.table(f);
    cb.num_positions = 5;
    cb.indices_u8 = idx8.data();
    REQUIRE(validate_codebook_table(cb).ok());
    for (int64_t p = 0; p < 5; ++p) {
      std::vector<float> x(t.cols, 1.0f), y(t.cols, 1.0f);
      REQUIRE(add_row_codebook(cb, p, x.data()).ok());
      REQUIRE(add_row(cb.codebook, idx8[p], y.data()).ok());
      CHECK(x == y);
    }
    std::vector<float> x(t.cols);
    CHECK(add_row_codebook(cb, 5, x.data()).code() == ordinal::ErrorCode::kOutOfRange);
    cb.indices_u8 = nullptr;
    cb.indices_u16 = idx16.data();
    cb.num_positions = 3;
    REQUIRE(validate_codebook_table(cb).ok());
    std::vector<float> a(t.cols, 0.0f), b(t.cols, 0.0f);
    REQUIRE(add_row_codebook(cb, 0, a.data()).ok());
    REQUIRE(add_row(cb.codebook, 36, b.data()).ok());
    CHECK(a == b);
  }
  CodebookTable bad;
  bad.codebook = t.table(RowFormat::kF32);
  std::vector<uint8_t> out_of_range = {0, 37};
  bad.indices_u8 = out_of_range.data();
  bad.num_positions = 2;
  CHECK(validate_codebook_table(bad).code() == ordinal::ErrorCode::kInvalidModel);
}

TEST_CASE("low-rank rows: f32 and int8-per-row follow the documented summation order; close to A*B") {
  const int64_t rows = 20;
  const int rank = 5, cols = 48;
  SplitMix64 rng(6);
  std::vector<float> a(rows * rank), b(rank * cols), as(rows), bs(rank);
  std::vector<int8_t> qa(rows * rank), qb(rank * cols);
  for (auto& v : a) v = static_cast<float>(rng.uniform01() * 2 - 1);
  for (auto& v : b) v = static_cast<float>(rng.uniform01() * 2 - 1);
  for (auto& v : qa) v = static_cast<int8_t>(rng.between(-127, 127));
  for (auto& v : qb) v = static_cast<int8_t>(rng.between(-127, 127));
  for (auto& v : as) v = static_cast<float>(rng.uniform01() * 0.02);
  for (auto& v : bs) v = static_cast<float>(rng.uniform01() * 0.02);
  LowRankTable f32;
  f32.rows = rows;
  f32.rank = rank;
  f32.cols = cols;
  f32.a = a.data();
  f32.b = b.data();
  LowRankTable i8 = f32;
  i8.format = LowRankFormat::kInt8Row;
  i8.qa = qa.data();
  i8.a_scales = as.data();
  i8.qb = qb.data();
  i8.b_scales = bs.data();
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> x(cols, 0.25f), y(cols, 0.25f);
    REQUIRE(add_row_lowrank(f32, r, x.data()).ok());
    REQUIRE(add_row_lowrank(i8, r, y.data()).ok());
    for (int c = 0; c < cols; ++c) {
      float acc = 0.0f, acc8 = 0.0f;
      double exact = 0, exact8 = 0;
      for (int k = 0; k < rank; ++k) {
        const float term = a[r * rank + k] * b[k * cols + c];
        acc += term;
        const float av = static_cast<float>(qa[r * rank + k]) * as[r];
        const float alpha = av * bs[k];
        const float term8 = alpha * static_cast<float>(qb[k * cols + c]);
        acc8 += term8;
        exact += static_cast<double>(a[r * rank + k]) * b[k * cols + c];
        exact8 += static_cast<double>(qa[r * rank + k]) * as[r] * bs[k] * qb[k * cols + c];
      }
      const float expect = 0.25f + acc, expect8 = 0.25f + acc8;
      REQUIRE(bits(x[c]) == bits(expect));
      REQUIRE(bits(y[c]) == bits(expect8));
      REQUIRE(std::fabs(x[c] - (0.25 + exact)) <= 1e-5);
      REQUIRE(std::fabs(y[c] - (0.25 + exact8)) <= 1e-5);
    }
  }
  std::vector<float> x(cols);
  CHECK(add_row_lowrank(f32, rows, x.data()).code() == ordinal::ErrorCode::kOutOfRange);
  LowRankTable missing = i8;
  missing.qb = nullptr;
  CHECK(!add_row_lowrank(missing, 0, x.data()).ok());
  CHECK(lowrank_table_bytes(f32) == 4 * (rows * rank + rank * cols));
  CHECK(lowrank_table_bytes(i8) == rows * rank + rank * cols + 4 * (rows + rank));
}

TEST_CASE("golden hash of int8/int4 dequantized rows (float bits of single-rounding products)") {
  // Integer codes and f16 scale bit patterns only (no float arithmetic in building the inputs).
  RandomTables t(0xdec0de);
  ordinal::numerics::Fnv1a64 h;
  for (RowFormat f : {RowFormat::kInt8RowF16Scale, RowFormat::kInt4Group, RowFormat::kInt4GroupZpU8,
                      RowFormat::kInt4GroupZpU4, RowFormat::kF16}) {
    for (int64_t r = 0; r < t.rows; ++r) {
      std::vector<float> out(t.cols);
      REQUIRE(dequant_row(t.table(f), r, out.data()).ok());
      for (float v : out) h.add_u32(bits(v));
    }
  }
  CHECK(h.value() == 0x8417a0a2c24d9e23ull);
}
