// Every positional scheme, built by the test model builder (support/synthetic_model.hpp: one row per
// scheme), written, loaded and run: prefill + decode with an f32 and an int8 KV cache, the same logits
// from two sessions (one on another thread), and context shift exactly where the scheme allows it.
#include <doctest/doctest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {

std::vector<float> run(const std::shared_ptr<const Model>& m, KvCacheType kv) {
  SessionOptions so;
  so.threads = 1;
  so.kv_cache = kv;
  auto s = Session::create(m, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  const std::vector<int32_t> prompt = {1, 84, 104, 101, 32, 100, 111, 103};
  REQUIRE(s.value()->prefill(prompt.data(), prompt.size()).ok());
  REQUIRE(s.value()->decode(97).ok());
  const float* l = s.value()->logits();
  return std::vector<float>(l, l + s.value()->vocab_size());
}

}  // namespace

TEST_CASE("the builder makes a valid, runnable model of every scheme, for both architectures") {
  int built = 0;
  for (const testing::SyntheticPositional& b : testing::kSyntheticPositionals) {
    for (Architecture arch : {Architecture::kLlama, Architecture::kGPT2}) {
      CAPTURE(positional_scheme_name(b.scheme));
      CAPTURE(static_cast<int>(arch));
      testing::SyntheticOptions o;
      o.arch = arch;
      o.scheme = b.scheme;
      const modelio::ModelSpec spec = testing::make_synthetic_model(o);
      const std::string path =
          testing::temp_path(std::string("every_") + positional_scheme_name(b.scheme) +
                             (arch == Architecture::kGPT2 ? "_gpt2" : "_llama") + ".ordinal");
      REQUIRE(modelio::write_model(spec, path).ok());
      auto m = Model::load(path);
      REQUIRE_MESSAGE(m.ok(), m.status().to_string());
      CHECK(m.value()->positional_scheme() == b.scheme);
      const std::vector<float> a = run(m.value(), KvCacheType::kF32);
      std::vector<float> other;
      std::thread t([&] { other = run(m.value(), KvCacheType::kF32); });
      t.join();
      CHECK(a == other);  // sessions share the model and nothing else
      for (float v : a) REQUIRE(std::isfinite(v));
      const std::vector<float> q = run(m.value(), KvCacheType::kInt8);
      double err = 0;
      for (size_t i = 0; i < a.size(); ++i) err = std::max(err, std::fabs(static_cast<double>(a[i]) - q[i]));
      CHECK(err < 0.25);  // int8 KV tracks f32

      SessionOptions so;
      so.threads = 1;
      auto s = Session::create(m.value(), so);
      REQUIRE(s.ok());
      const std::vector<int32_t> prompt = {1, 84, 104, 101, 32, 100};
      REQUIRE(s.value()->prefill(prompt.data(), prompt.size()).ok());
      const bool absolute =
          b.scheme == PositionalScheme::kLearnedTable || b.scheme == PositionalScheme::kCodebookTable ||
          b.scheme == PositionalScheme::kBucketedTable || b.scheme == PositionalScheme::kLowRankTable ||
          b.scheme == PositionalScheme::kHybridTable || b.scheme == PositionalScheme::kSinusoidal;
      const Status st = s.value()->shift(2, 1);
      CHECK(st.ok() == !absolute);
      if (absolute) CHECK(st.code() == ErrorCode::kUnsupported);
      ++built;
    }
  }
  CHECK(built == 2 * (static_cast<int>(PositionalScheme::kHybridTable) + 1));  // every scheme has a row
}
