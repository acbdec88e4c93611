// Sampler: greedy is argmax; seeded sampling is reproducible; top-p never leaves the nucleus;
// temperature sharpens; invalid parameters are refused.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ordinal/sampler.hpp"

using namespace ordinal;

TEST_CASE("greedy picks the first maximum") {
  auto s = Sampler::create(5, 0.0f, 0.9f, 1);
  REQUIRE(s.ok());
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f, 2.0f};
  CHECK(s.value().sample(l.data()) == 1);
}

TEST_CASE("seeded sampling is reproducible and seed-dependent") {
  std::vector<float> base(50);
  for (int i = 0; i < 50; ++i) base[i] = std::sin(static_cast<float>(i));
  auto run = [&](uint64_t seed) {
    auto s = Sampler::create(50, 1.0f, 0.0f, seed);
    REQUIRE(s.ok());
    std::vector<int32_t> out;
    for (int k = 0; k < 64; ++k) {
      std::vector<float> l = base;
      out.push_back(s.value().sample(l.data()));
    }
    return out;
  };
  CHECK(run(7) == run(7));
  CHECK(run(7) != run(8));
}

TEST_CASE("top-p only returns tokens inside the nucleus") {
  // Probabilities after softmax: token 0 ~0.64, 1 ~0.24, 2 ~0.09, rest tiny. p = 0.8 keeps {0, 1}.
  std::vector<float> base = {4.0f, 3.0f, 2.0f, -3.0f, -3.0f, -3.0f, -3.0f, -3.0f};
  auto s = Sampler::create(base.size(), 1.0f, 0.8f, 123);
  REQUIRE(s.ok());
  int counts[8] = {0};
  for (int k = 0; k < 2000; ++k) {
    std::vector<float> l = base;
    counts[s.value().sample(l.data())]++;
  }
  CHECK(counts[0] > 0);
  CHECK(counts[1] > 0);
  for (int i = 2; i < 8; ++i) CHECK(counts[i] == 0);
  // Within the nucleus, the ratio follows the renormalised probabilities (e^1 ~ 2.72).
  double ratio = static_cast<double>(counts[0]) / counts[1];
  CHECK(ratio > 2.2);
  CHECK(ratio < 3.3);
}

TEST_CASE("invalid parameters are refused") {
  CHECK_FALSE(Sampler::create(0, 1.0f, 0.9f, 1).ok());
  CHECK_FALSE(Sampler::create(10, -0.1f, 0.9f, 1).ok());
  CHECK_FALSE(Sampler::create(10, std::numeric_limits<float>::quiet_NaN(), 0.9f, 1).ok());
  CHECK_FALSE(Sampler::create(10, 1.0f, 1.5f, 1).ok());
  CHECK_FALSE(Sampler::create(10, 1.0f, 0.9f, 0).ok());
}
