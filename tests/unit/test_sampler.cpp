// Sampler: greedy is argmax; seeded sampling is reproducible; top-p never leaves the nucleus;
// temperature sharpens; invalid parameters are refused. The chain: top-k, min-p, penalties and logit bias
// keep what they promise, and the sampler never writes into the logits it reads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
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

// ---- the sampler chain: it reads logits only; each stage keeps what it promises ----

namespace {
SamplerParams params(float temperature, uint64_t seed = 7) {
  SamplerParams p;
  p.temperature = temperature;
  p.seed = seed;
  return p;
}
std::vector<float> wavy(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = 2.0f * std::sin(0.7f * static_cast<float>(i)) + 0.01f * static_cast<float>(i);
  return v;
}
}  // namespace

TEST_CASE("the sampler never writes into the logits it reads") {
  const std::vector<float> base = wavy(64);
  SamplerParams p = params(0.9f);
  p.top_k = 10;
  p.top_p = 0.9f;
  p.min_p = 0.05f;
  p.repetition_penalty = 1.2f;
  p.frequency_penalty = 0.1f;
  auto s = Sampler::create(64, p);
  REQUIRE(s.ok());
  REQUIRE(s.value().set_logit_bias(3, 1.5f).ok());
  std::vector<float> l = base;
  for (int k = 0; k < 50; ++k) s.value().accept(s.value().sample(l.data()));
  CHECK(std::memcmp(l.data(), base.data(), base.size() * sizeof(float)) == 0);
}

TEST_CASE("temperature + top-p through SamplerParams draws what the two-argument create draws") {
  const std::vector<float> base = wavy(100);
  auto a = Sampler::create(100, 0.8f, 0.9f, 11);
  SamplerParams p = params(0.8f, 11);
  p.top_p = 0.9f;
  auto b = Sampler::create(100, p);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  for (int k = 0; k < 200; ++k) CHECK(a.value().sample(base.data()) == b.value().sample(base.data()));
}

TEST_CASE("top-k and min-p only return tokens they keep") {
  const std::vector<float> base = wavy(100);
  std::vector<int32_t> order(100);
  for (int32_t i = 0; i < 100; ++i) order[static_cast<size_t>(i)] = i;
  std::sort(order.begin(), order.end(), [&](int32_t x, int32_t y) { return base[x] > base[y]; });
  SamplerParams k = params(2.0f);  // hot: without the filter most tokens would appear
  k.top_k = 5;
  auto sk = Sampler::create(100, k);
  REQUIRE(sk.ok());
  std::vector<int> seen(100, 0);
  for (int i = 0; i < 3000; ++i) seen[static_cast<size_t>(sk.value().sample(base.data()))]++;
  for (size_t r = 0; r < 100; ++r) CHECK((r < 5 ? seen[order[r]] > 0 : seen[order[r]] == 0));

  SamplerParams mp = params(1.0f);
  mp.min_p = 0.5f;
  auto sm = Sampler::create(100, mp);
  REQUIRE(sm.ok());
  const float top = base[order[0]];
  for (int i = 0; i < 2000; ++i) {
    const int32_t t = sm.value().sample(base.data());
    CHECK(std::exp(base[t] - top) >= 0.5f * 0.999f);  // p(t) / p(top) >= min_p
  }
  SamplerParams one = params(5.0f);
  one.top_k = 1;
  auto s1 = Sampler::create(100, one);
  for (int i = 0; i < 100; ++i) CHECK(s1.value().sample(base.data()) == order[0]);
}

TEST_CASE("repetition, frequency and presence penalties steer greedy decoding away from the window") {
  std::vector<float> l = {1.0f, 3.0f, 2.9f, 0.5f, -1.0f};
  SamplerParams rp = params(0.0f);
  rp.repetition_penalty = 1.1f;  // 3.0 / 1.1 = 2.73 < 2.9
  auto s = Sampler::create(5, rp);
  REQUIRE(s.ok());
  CHECK(s.value().sample(l.data()) == 1);
  s.value().accept(1);
  CHECK(s.value().sample(l.data()) == 2);
  s.value().reset_history();
  CHECK(s.value().sample(l.data()) == 1);

  SamplerParams fp = params(0.0f);
  fp.frequency_penalty = 0.06f;  // two occurrences: 3.0 - 0.12 < 2.9; one: 2.94 > 2.9
  auto f = Sampler::create(5, fp);
  f.value().accept(1);
  CHECK(f.value().sample(l.data()) == 1);
  f.value().accept(1);
  CHECK(f.value().sample(l.data()) == 2);

  SamplerParams pp = params(0.0f);
  pp.presence_penalty = 0.2f;
  pp.penalty_window = 2;  // the window forgets
  auto w = Sampler::create(5, pp);
  w.value().accept(1);
  CHECK(w.value().sample(l.data()) == 2);
  w.value().accept(0);
  w.value().accept(3);  // token 1 left the window
  CHECK(w.value().sample(l.data()) == 1);
}

TEST_CASE("logit bias bans and promotes tokens; banning all falls back to the raw argmax") {
  std::vector<float> l = {1.0f, 3.0f, 2.9f, 0.5f};
  auto s = Sampler::create(4, params(0.0f));
  REQUIRE(s.ok());
  REQUIRE(s.value().set_logit_bias(1, -std::numeric_limits<float>::infinity()).ok());
  CHECK(s.value().sample(l.data()) == 2);
  REQUIRE(s.value().set_logit_bias(3, 10.0f).ok());
  CHECK(s.value().sample(l.data()) == 3);
  auto hot = Sampler::create(4, params(1.0f));
  for (int32_t t = 0; t < 4; ++t)
    REQUIRE(hot.value().set_logit_bias(t, -std::numeric_limits<float>::infinity()).ok());
  CHECK(hot.value().sample(l.data()) == 1);
  CHECK_FALSE(s.value().set_logit_bias(4, 1.0f).ok());
  CHECK_FALSE(s.value().set_logit_bias(0, std::numeric_limits<float>::quiet_NaN()).ok());
  CHECK_FALSE(s.value().set_logit_bias(0, std::numeric_limits<float>::infinity()).ok());
}

TEST_CASE("chain parameters are validated") {
  auto bad = [](void (*edit)(SamplerParams&)) {
    SamplerParams p;
    edit(p);
    return !Sampler::create(10, p).ok();
  };
  CHECK(bad([](SamplerParams& p) { p.min_p = 1.5f; }));
  CHECK(bad([](SamplerParams& p) { p.min_p = -0.1f; }));
  CHECK(bad([](SamplerParams& p) { p.repetition_penalty = 0.0f; }));
  CHECK(bad([](SamplerParams& p) { p.frequency_penalty = std::numeric_limits<float>::infinity(); }));
  CHECK(bad([](SamplerParams& p) { p.penalty_window = (1u << 20) + 1; }));
  CHECK(bad([](SamplerParams& p) { p.seed = 0; }));
}
