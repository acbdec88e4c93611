// Numeric and size edge cases of the runtime alone (no host tools: this suite also runs on armhf under
// qemu, a 32-bit address space): finite activations whose RMSNorm/LayerNorm sums overflow float are
// normalized, not zeroed; temperatures below the documented minimum sample greedily; a session whose plan
// exceeds the address space or the budget is refused with kOutOfMemory before anything is allocated; a
// LargeBuffer that cannot be allocated reports kOutOfMemory instead of aborting.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/elementwise.hpp"
#include "large_buffer.hpp"
#include "memory_plan.hpp"
#include "model_data.hpp"
#include "ordinal/sampler.hpp"

using namespace ordinal;

// Under AddressSanitizer, make an impossible allocation return null as the real allocator does (its default
// is to report and abort), so the runtime's kOutOfMemory path is what this suite tests there too.
extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1";
}

TEST_CASE("RMSNorm and LayerNorm of finite activations whose squares overflow float are not zeros") {
  const size_t n = 8;
  std::vector<float> x(n), w(n, 1.0f), b(n, 0.0f), out(n);
  for (size_t i = 0; i < n; ++i) x[i] = (i % 2 ? -1.0f : 1.0f) * 1e30f * static_cast<float>(i + 1);
  double ss = 0.0, mean = 0.0;
  for (float v : x) {
    ss += double{v} * v;
    mean += v;
  }
  mean /= n;
  const double rms = std::sqrt(ss / n);
  kernels::rmsnorm(out.data(), x.data(), w.data(), n, 1e-5f);
  for (size_t i = 0; i < n; ++i) {
    INFO("i = " << i << " out " << out[i]);
    REQUIRE(std::isfinite(out[i]));
    CHECK(std::fabs(out[i] - x[i] / rms) <= 1e-6 * std::fabs(x[i] / rms) + 1e-30);
  }
  double var = 0.0;
  for (float v : x) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / n);
  kernels::layernorm(out.data(), x.data(), w.data(), b.data(), n, 1e-5f);
  for (size_t i = 0; i < n; ++i) {
    INFO("i = " << i << " out " << out[i]);
    REQUIRE(std::isfinite(out[i]));
    CHECK(std::fabs(out[i] - (x[i] - mean) / sd) <= 1e-5);
  }
  // Ordinary inputs keep the float path's bits (llama2.c's order).
  std::vector<float> y = {0.5f, -1.25f, 2.0f, 3.0f, -0.75f, 0.0f, 1.0f, -2.5f};
  kernels::rmsnorm(out.data(), y.data(), w.data(), n, 1e-5f);
  float fss = 0.0f;
  for (float v : y) fss += v * v;
  fss /= static_cast<float>(n);
  fss += 1e-5f;
  fss = 1.0f / sqrtf(fss);
  for (size_t i = 0; i < n; ++i) CHECK(out[i] == 1.0f * (fss * y[i]));
  // Non-finite input stays non-finite (reported by check_numerics), never normalized away.
  y[3] = INFINITY;
  kernels::rmsnorm(out.data(), y.data(), w.data(), n, 1e-5f);
  CHECK_FALSE(std::isfinite(out[3]));
}

TEST_CASE("all_finite finds one NaN or infinity anywhere, in whole blocks and in the tail") {
  const float bad[] = {std::nanf(""), -std::nanf(""), INFINITY, -INFINITY};
  const float good[] = {0.0f, -0.0f, 3.4028235e38f, -3.4028235e38f, 1e-45f, -1.17549435e-38f, 1.0f};
  for (size_t n : {0u, 1u, 63u, 64u, 65u, 128u, 200u}) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = good[i % 7];
    CHECK(kernels::all_finite(x.data(), n));
    for (size_t at = 0; at < n; ++at) {
      for (float b : bad) {
        const float keep = x[at];
        x[at] = b;
        INFO("n " << n << " at " << at);
        CHECK_FALSE(kernels::all_finite(x.data(), n));
        x[at] = keep;
      }
    }
  }
}

TEST_CASE("temperatures below the documented minimum sample greedily") {
  std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f, 0.0f};
  for (float t : {1e-40f, 1e-30f, 1e-5f, Sampler::kMinTemperature / 2}) {
    auto s = Sampler::create(logits.size(), t, 0.9f, 7);
    REQUIRE(s.ok());
    for (int i = 0; i < 16; ++i) {
      std::vector<float> l = logits;
      CHECK(s.value().sample(l.data()) == 1);
    }
  }
  CHECK(Sampler::create(Sampler::kMaxVocabulary + 1, 1.0f, 0.9f, 7).status().code() ==
        ErrorCode::kInvalidArgument);
}

namespace {
// A model's planning inputs without weights (no file needed): dim 64, 4 layers, 8 heads of 8, 2^24 slots.
detail::ModelData plan_only_model() {
  detail::ModelData md;
  ModelConfig& c = md.config;
  c.dim = 64;
  c.hidden_dim = 128;
  c.n_layers = 4;
  c.n_heads = 8;
  c.n_kv_heads = 8;
  c.head_dim = 8;
  c.vocab_size = 512;
  c.max_positions = 1u << 24;
  md.layers.resize(c.n_layers);
  return md;
}
}  // namespace

TEST_CASE("the memory plan refuses what the address space or the budget cannot hold, before allocating") {
  const detail::ModelData md = plan_only_model();
  SessionOptions so;
  auto plan = detail::plan_session_memory(md, so);
  REQUIRE(plan.ok());
  // 2 x 4 layers x 2^24 slots x 64 floats: 32 GiB of KV cache, computed in 64 bits on every target.
  CHECK(plan.value().kv_cache == uint64_t{2} * 4 * (uint64_t{1} << 24) * 64 * 4);
  // Scores and bias rows per head, plus the attention kernel's per-head partial sums.
  CHECK(plan.value().attention == uint64_t{8} * (uint64_t{1} << 24) * 2 * 4 +
                                      kernels::attention_partials_floats(8, md.config.head_dim) * 4);
  CHECK(plan.value().total > plan.value().kv_cache);
  const Status st = detail::check_memory_budget(plan.value(), so);
  if (sizeof(void*) == 4) {
    REQUIRE(st.code() == ErrorCode::kOutOfMemory);  // 32-bit: more than the process can address
    CHECK(st.message().find("32-bit") != std::string::npos);
  } else {
    CHECK(st.ok());
  }
  so.memory_budget = uint64_t{1} << 30;
  const Status over = detail::check_memory_budget(plan.value(), so);
  REQUIRE(over.code() == ErrorCode::kOutOfMemory);
  CHECK(over.message().find("KV cache") != std::string::npos);
  so.kv_cache = KvCacheType::kInt8;
  auto plan8 = detail::plan_session_memory(md, so);
  REQUIRE(plan8.ok());
  CHECK(plan8.value().kv_cache * 3 < plan.value().kv_cache);
}

TEST_CASE("LargeBuffer: zeroed, and a size that cannot be allocated is kOutOfMemory, not an abort") {
  detail::LargeBuffer<float> b;
  REQUIRE(b.allocate(1000, "test buffer").ok());
  CHECK(b.size() == 1000);
  double sum = 0;
  for (size_t i = 0; i < b.size(); ++i) sum += b[i];
  CHECK(sum == 0.0);
  // More bytes than size_t holds (any target), then more than any allocator gives.
  Status st = b.allocate(UINT64_MAX / 2, "huge buffer");
  REQUIRE(st.code() == ErrorCode::kOutOfMemory);
  CHECK(st.message().find("huge buffer") != std::string::npos);
  CHECK(b.size() == 0);
  // volatile: a constant count would make the compiler warn that calloc is asked for too much.
  volatile uint64_t address_space = SIZE_MAX / sizeof(float) - 1;
  st = b.allocate(address_space, "address-space buffer");
  CHECK(st.code() == ErrorCode::kOutOfMemory);
  CHECK(b.data() == nullptr);
}
