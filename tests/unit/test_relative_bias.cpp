// T5 relative position buckets: integer-only thresholds vs float32 / double / long double re-implementations
// of HF's formula over every distance in [-4 max_distance, 4 max_distance]; bias lookups; golden hash.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "numerics/hash64.hpp"
#include "numerics/prng.hpp"
#include "positional/relative_bias.hpp"

using namespace ordinal::positional;

namespace {

// HF transformers T5Attention._relative_position_bucket, one element, with the floating type as a parameter
// (T = float reproduces torch float32; the log of the max-distance ratio is a python double, as in HF).
// snap: treat v within 1e-9 of an integer as that integer. Real boundary hits (e.g. n = 16 for 32/128, where
// v = 2 exactly) are where libm's last-ulp error decides a raw floating evaluation (quad logl on aarch64
// lands below 2); the snapped value is the exact-arithmetic one the integer thresholds implement.
template <typename T>
int hf_bucket(int64_t relative_position, bool bidirectional, int num_buckets, int64_t max_distance,
              bool snap = true) {
  int bucket = 0;
  int64_t n;
  if (bidirectional) {
    num_buckets /= 2;
    if (relative_position > 0) bucket += num_buckets;
    n = relative_position < 0 ? -relative_position : relative_position;
  } else {
    n = relative_position < 0 ? -relative_position : 0;
  }
  const int max_exact = num_buckets / 2;
  if (n < max_exact) return bucket + static_cast<int>(n);
  // HF takes math.log (a python double) of the ratio; the wider references take it at their own precision.
  const T log_ratio = sizeof(T) < sizeof(double)
                          ? static_cast<T>(std::log(static_cast<double>(max_distance) / max_exact))
                          : std::log(static_cast<T>(max_distance) / static_cast<T>(max_exact));
  const T v = std::log(static_cast<T>(n) / static_cast<T>(max_exact)) / log_ratio *
              static_cast<T>(num_buckets - max_exact);
  const T nearest = std::round(v);
  int64_t large = max_exact + static_cast<int64_t>(snap && std::fabs(v - nearest) < T(1e-9) ? nearest : v);
  if (large > num_buckets - 1) large = num_buckets - 1;
  return bucket + static_cast<int>(large);
}

struct Config {
  int num_buckets;
  int64_t max_distance;
  bool bidirectional;
};

}  // namespace

TEST_CASE("integer buckets equal HF's formula (double and long double) over [-4md, 4md] for many configs") {
  const Config configs[] = {{32, 128, true},    {32, 128, false},  {64, 256, true},    {64, 256, false},
                            {16, 64, true},     {8, 20, false},    {10, 37, true},     {128, 1024, true},
                            {128, 1024, false}, {256, 4096, true}, {255, 5000, false}, {4, 3, true},
                            {2, 2, false},      {48, 300, true},   {32, 100, false}};
  int double_mismatches = 0, long_double_mismatches = 0, raw_mismatches = 0;
  for (const Config& c : configs) {
    auto made = make_t5_bucket_table(c.num_buckets, c.max_distance, c.bidirectional);
    REQUIRE(made.ok());
    const T5BucketTable& t = made.value();
    for (int64_t r = -4 * c.max_distance; r <= 4 * c.max_distance; ++r) {
      const int got = t5_relative_position_bucket(t, r);
      const int ld = hf_bucket<long double>(r, c.bidirectional, c.num_buckets, c.max_distance);
      if (got != ld) ++long_double_mismatches;
      if (got != hf_bucket<long double>(r, c.bidirectional, c.num_buckets, c.max_distance, false))
        ++raw_mismatches;
      if (got != hf_bucket<double>(r, c.bidirectional, c.num_buckets, c.max_distance)) ++double_mismatches;
      REQUIRE(got >= 0);
      REQUIRE(got < c.num_buckets);
    }
  }
  CHECK(long_double_mismatches == 0);
  CHECK(double_mismatches == 0);
  MESSAGE("un-snapped long double evaluation differs at " << raw_mismatches << " exact boundary distances");
}

TEST_CASE("standard T5 configurations also agree with a float32 evaluation (what torch computes)") {
  for (const Config& c : {Config{32, 128, true}, Config{32, 128, false}, Config{64, 256, true}}) {
    auto t = make_t5_bucket_table(c.num_buckets, c.max_distance, c.bidirectional);
    REQUIRE(t.ok());
    int mismatches = 0;
    for (int64_t r = -4 * c.max_distance; r <= 4 * c.max_distance; ++r) {
      if (t5_relative_position_bucket(t.value(), r) !=
          hf_bucket<float>(r, c.bidirectional, c.num_buckets, c.max_distance, /*snap=*/false))
        ++mismatches;
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("known values and extreme distances") {
  auto t = make_t5_bucket_table(32, 128, true);
  REQUIRE(t.ok());
  CHECK(t.value().num_thresholds == 7);
  CHECK(t.value().thresholds[1] == 16);  // 8 * 16^(2/8) = 16 exactly: the boundary is included
  CHECK(t5_relative_position_bucket(t.value(), 0) == 0);
  CHECK(t5_relative_position_bucket(t.value(), -7) == 7);
  CHECK(t5_relative_position_bucket(t.value(), 7) == 23);
  CHECK(t5_relative_position_bucket(t.value(), -16) == 10);
  CHECK(t5_relative_position_bucket(t.value(), -15) == 9);
  CHECK(t5_relative_position_bucket(t.value(), INT64_MIN) == 15);
  CHECK(t5_relative_position_bucket(t.value(), INT64_MAX) == 31);
  auto causal = make_t5_bucket_table(32, 128, false);
  REQUIRE(causal.ok());
  CHECK(t5_relative_position_bucket(causal.value(), 5) == 0);  // future keys share bucket 0
  CHECK(t5_relative_position_bucket(causal.value(), INT64_MIN) == 31);
}

TEST_CASE("invalid configurations are rejected") {
  CHECK(!make_t5_bucket_table(1, 128, false).ok());
  CHECK(!make_t5_bucket_table(2, 128, true).ok());   // max_exact would be 0
  CHECK(!make_t5_bucket_table(33, 128, true).ok());  // odd bidirectional
  CHECK(!make_t5_bucket_table(512, 128, true).ok());
  CHECK(!make_t5_bucket_table(32, 8, true).ok());  // max_distance must exceed max_exact
  CHECK(!make_t5_bucket_table(32, (int64_t{1} << 24) + 1, true).ok());
}

TEST_CASE("bias lookups: f32 table, int8 per-head and per-tensor scales, add variants") {
  auto made = make_t5_bucket_table(32, 128, true);
  REQUIRE(made.ok());
  const T5BucketTable& t = made.value();
  const int n_heads = 4;
  std::vector<float> table(32 * n_heads);
  std::vector<int8_t> q(32 * n_heads);
  ordinal::numerics::SplitMix64 rng(12);
  for (int i = 0; i < 32 * n_heads; ++i) {
    table[i] = static_cast<float>(rng.uniform01() * 4 - 2);
    q[i] = static_cast<int8_t>(rng.between(-127, 127));
  }
  const float head_scales[n_heads] = {0.01f, 0.02f, 0.03f, 0.04f};
  const float tensor_scale[1] = {0.05f};
  std::vector<float> bias(300), add(300, 1.0f), b8(300), b8t(300), add8(300, 1.0f);
  const int head = 2;
  const int64_t query = 500, key0 = 350;
  t5_bias_row_f32(t, table.data(), n_heads, head, query, key0, 300, bias.data());
  t5_add_bias_row_f32(t, table.data(), n_heads, head, query, key0, 300, add.data());
  t5_bias_row_int8(t, q.data(), head_scales, n_heads, n_heads, head, query, key0, 300, b8.data());
  t5_bias_row_int8(t, q.data(), tensor_scale, 1, n_heads, head, query, key0, 300, b8t.data());
  t5_add_bias_row_int8(t, q.data(), head_scales, n_heads, n_heads, head, query, key0, 300, add8.data());
  for (int k = 0; k < 300; ++k) {
    const int b = hf_bucket<long double>(key0 + k - query, true, 32, 128);
    CHECK(bias[k] == table[b * n_heads + head]);
    CHECK(add[k] == 1.0f + table[b * n_heads + head]);
    CHECK(b8[k] == static_cast<float>(q[b * n_heads + head]) * 0.03f);
    CHECK(b8t[k] == static_cast<float>(q[b * n_heads + head]) * 0.05f);
    CHECK(add8[k] == 1.0f + b8[k]);
  }
}

TEST_CASE("golden hash of bucket indices and thresholds") {
  ordinal::numerics::Fnv1a64 h;
  for (const Config& c : {Config{32, 128, true}, Config{32, 128, false}, Config{64, 256, true},
                          Config{10, 37, true}, Config{128, 1024, false}}) {
    auto t = make_t5_bucket_table(c.num_buckets, c.max_distance, c.bidirectional);
    REQUIRE(t.ok());
    for (int k = 0; k < t.value().num_thresholds; ++k) h.add_i64(t.value().thresholds[k]);
    for (int64_t r = -3000; r <= 3000; ++r)
      h.add_byte(static_cast<uint8_t>(t5_relative_position_bucket(t.value(), r)));
  }
  CHECK(h.value() == 0x7e5072c96082f541ull);
}
