// int8 KV cache: scale encoding, per-head quantization bound, rotation-safe key scales, integer
// re-rotation against float rotation (and its composition), and sessions with an int8 cache against
// the same sessions with an f32 cache. The attention arithmetic on the int8 cache is the attention
// kernel's contract, checked in test_attention.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kv_cache.hpp"
#include "numerics/half.hpp"
#include "numerics/trig_fixed.hpp"
#include "ordinal/runtime.hpp"
#include "positional/rope_fixed.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;
using namespace ordinal::detail;

namespace {

std::shared_ptr<const Model> load(const modelio::ModelSpec& spec, const std::string& name) {
  const std::string path = testing::temp_path(name);
  REQUIRE(modelio::write_model(spec, path).ok());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

std::unique_ptr<Session> session(const std::shared_ptr<const Model>& m, KvCacheType kv,
                                 uint32_t threads = 1) {
  SessionOptions so;
  so.threads = threads;
  so.kv_cache = kv;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  return std::move(s).value();
}

int argmax(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) best = v[i] > v[best] ? i : best;
  return static_cast<int>(best);
}

}  // namespace

TEST_CASE("kv scales: f16 bits decode exactly; rounding up gives the smallest half >= s") {
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    CHECK(kv_scale_to_float(static_cast<uint16_t>(h)) == numerics::half_to_float(static_cast<uint16_t>(h)));
  }
  testing::TestRng rng(2);
  for (int i = 0; i < 20000; ++i) {
    const float s = std::ldexp(rng.uniform() + 0.5f, static_cast<int>(rng.next() % 40) - 30);
    const uint16_t h = kv_scale_round_up(s);
    CHECK(kv_scale_to_float(h) >= s);
    if (h > 0) CHECK(kv_scale_to_float(static_cast<uint16_t>(h - 1)) < s);
  }
  CHECK(kv_scale_round_up(0.0f) == 0);
  CHECK(kv_scale_round_up(1e9f) == 0x7bff);
}

TEST_CASE("quantize_head_int8: |x - s q| <= 0.5001 s; key scales bound every pair's norm") {
  testing::TestRng rng(4);
  const int hd = 32;
  std::vector<int> first(8), second(8);
  for (int j = 0; j < 8; ++j) {  // partial rotary, split-half layout over the first 16 dims
    first[j] = j;
    second[j] = j + 8;
  }
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<float> x =
        testing::random_values(rng, hd, std::ldexp(1.0f, static_cast<int>(rng.next() % 20) - 10));
    int8_t q[hd];
    for (int keys = 0; keys < 2; ++keys) {
      const uint16_t h = quantize_head_int8(x.data(), hd, first.data(), second.data(), keys ? 8 : 0, q);
      const double s = kv_scale_to_float(h);
      REQUIRE(s > 0);
      double amax = 0;
      for (int i = 0; i < hd; ++i) {
        CHECK(std::fabs(x[i] - s * q[i]) <= 0.5001 * s);
        CHECK(q[i] >= -127);
        amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
      }
      if (keys) {
        for (int j = 0; j < 8; ++j) {
          CHECK(std::hypot(x[first[j]], x[second[j]]) <= kKeyPairLimit * s * (1 + 1e-6));
        }
      } else {
        CHECK(amax <= 127 * s * (1 + 1e-6));
        // Rounding the scale up to f16 costs at most one f16 step: relative 2^-10 for normal halves, an
        // absolute 2^-24 below 2^-14 (subnormal scales, i.e. max|x| < 127 * 2^-14 ~ 0.0078).
        if (s >= 0x1p-14) {
          CHECK(amax > 127 * s / (1 + 0x1p-10));
        } else {
          CHECK(s - amax / 127 <= 0x1p-24);
        }
      }
    }
  }
  std::vector<float> z(hd, 0.0f);
  int8_t q[hd];
  CHECK(quantize_head_int8(z.data(), hd, nullptr, nullptr, 0, q) == 0);
  z[5] = NAN;
  CHECK(quantize_head_int8(z.data(), hd, nullptr, nullptr, 0, q) == 0);
}

TEST_CASE("integer re-rotation of int8 keys vs float rotation; composition R(a)R(b) = R(a+b)") {
  testing::TestRng rng(8);
  const int hd = 16, pairs = 8;
  std::vector<uint64_t> freqs(pairs);
  for (int j = 0; j < pairs; ++j)
    freqs[j] = static_cast<uint64_t>(std::pow(10000.0, -2.0 * j / hd) / 6.283185307179586 * 0x1p64);
  positional::RopeShape shape;
  shape.head_dim = hd;
  shape.rotary_dims = hd;
  shape.layout = positional::RopeLayout::kInterleaved;
  shape.freqs = freqs.data();
  std::vector<int> first(pairs), second(pairs);
  for (int j = 0; j < pairs; ++j) {
    first[j] = 2 * j;
    second[j] = 2 * j + 1;
  }
  double worst_single = 0, worst_composed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<float> x = testing::random_values(rng, hd, 3.0f);
    int8_t q[hd];
    const uint16_t h = quantize_head_int8(x.data(), hd, first.data(), second.data(), pairs, q);
    const double s = kv_scale_to_float(h);
    const int64_t a = static_cast<int64_t>(rng.next() % 100000) - 50000;
    const int64_t b = static_cast<int64_t>(rng.next() % 4096) - 2048;
    // Phases compose exactly in uint64 turn fractions.
    for (int j = 0; j < pairs; ++j) {
      CHECK(numerics::phase_for(a, freqs[j]) + numerics::phase_for(b, freqs[j]) ==
            numerics::phase_for(a + b, freqs[j]));
    }
    int8_t one[hd], two[hd];
    std::memcpy(one, q, hd);
    std::memcpy(two, q, hd);
    REQUIRE(positional::rope_rotate_int8(one, 1, shape, a + b).ok());
    REQUIRE(positional::rope_rotate_int8(two, 1, shape, a).ok());
    REQUIRE(positional::rope_rotate_int8(two, 1, shape, b).ok());
    for (int j = 0; j < pairs; ++j) {
      // Exact rotation of the quantized pair, in double.
      const double angle =
          static_cast<double>(numerics::phase_for(a + b, freqs[j])) * 0x1p-64 * 6.283185307179586;
      const double qa = q[2 * j], qb = q[2 * j + 1];
      const double ea = qa * std::cos(angle) - qb * std::sin(angle);
      const double eb = qa * std::sin(angle) + qb * std::cos(angle);
      const double bound = 0.5 + (std::fabs(qa) + std::fabs(qb)) * 0x1p-15;
      // No saturation: the rotation-safe scale keeps |rotated| <= 127.
      CHECK(std::fabs(ea) <= 127.5);
      CHECK(std::fabs(eb) <= 127.5);
      const double e1 = std::max(std::fabs(one[2 * j] - ea), std::fabs(one[2 * j + 1] - eb));
      const double e2 = std::max(std::fabs(two[2 * j] - ea), std::fabs(two[2 * j + 1] - eb));
      CHECK(e1 <= bound);
      // Two steps: the first step's error vector (norm <= sqrt(2) bound) is rotated by the second, which
      // adds its own rounding: per component <= (1 + sqrt(2)) bound.
      CHECK(e2 <= (1 + std::sqrt(2.0)) * bound + 0.01);
      worst_single = std::max(worst_single, e1);
      worst_composed = std::max(worst_composed, e2);
    }
    (void)s;
  }
  MESSAGE("int8 re-rotation: worst error one step " << worst_single << " LSB, two steps " << worst_composed
                                                    << " LSB");
  CHECK(worst_single > 0.3);  // rounding really happens: the bound is not vacuous
}

TEST_CASE(
    "sessions: int8 KV cache tracks the f32 cache (RoPE/GQA, ALiBi, learned, GPT-2) and is ~4x smaller") {
  struct Case {
    Architecture arch;
    PositionalScheme scheme;
  } cases[] = {{Architecture::kLlama, PositionalScheme::kRope},
               {Architecture::kLlama, PositionalScheme::kAlibi},
               {Architecture::kGPT2, PositionalScheme::kLearnedTable}};
  for (const Case& c : cases) {
    testing::SyntheticOptions o;
    o.arch = c.arch;
    o.scheme = c.scheme;
    o.dim = 128;
    o.hidden = 192;
    o.heads = 4;
    o.kv_heads = c.arch == Architecture::kGPT2 ? 4 : 2;
    o.context = 96;
    o.weight_scale = 0.15f;
    modelio::ModelSpec spec = testing::make_synthetic_model(o);  // ALiBi: the builder's slopes
    auto m = load(spec, "kv_int8.ordinal");
    auto f = session(m, KvCacheType::kF32);
    auto q = session(m, KvCacheType::kInt8);
    CHECK(q->kv_cache_type() == KvCacheType::kInt8);
    const size_t kv_dim = size_t{o.kv_heads} * (o.dim / o.heads);
    CHECK(f->kv_cache_bytes() == 2 * size_t{o.layers} * o.context * kv_dim * 4);
    CHECK(q->kv_cache_bytes() == 2 * size_t{o.layers} * o.context * (kv_dim + o.kv_heads * 2));
    CHECK(q->memory_bytes() > q->kv_cache_bytes());
    CHECK(q->memory_bytes() < f->memory_bytes());
    std::vector<int32_t> prompt;
    for (int i = 0; i < 40; ++i) prompt.push_back(1 + (i * 37) % 300);
    REQUIRE(f->prefill(prompt.data(), prompt.size()).ok());
    REQUIRE(q->prefill(prompt.data(), prompt.size()).ok());
    double worst = 0, scale = 0;
    int agree = 0, steps = 0;
    for (int step = 0; step < 50; ++step) {
      const size_t v = f->vocab_size();
      for (size_t i = 0; i < v; ++i) {
        worst = std::max(worst, std::fabs(static_cast<double>(f->logits()[i]) - q->logits()[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(f->logits()[i])));
      }
      const int tf = argmax(f->logits(), v);
      agree += tf == argmax(q->logits(), v);
      ++steps;
      REQUIRE(f->decode(tf).ok());
      REQUIRE(q->decode(tf).ok());
    }
    MESSAGE("scheme " << std::string(positional_scheme_name(c.scheme)) << ": max |logit diff| " << worst
                      << " (logits up to " << scale << "), top-1 agreement " << agree << "/" << steps);
    CHECK(worst <= 0.02 * scale);
    CHECK(agree >= steps - 2);
  }
}
