// Weights are planned once per Model and read in place: N sessions on one model cost N x (KV + scratch).
// Measured as the process's resident memory: a second session, prefilled so that every weight page is
// read, adds at most its own memory_bytes() (plus allocator slack), far below the weights' size; the
// model's plan owns no bytes for f32 and f16 weights. (Before weight plans, XNNPACK packed a private copy of
// every f32 weight per session: the second session here added ~14 MB.)
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "model_data.hpp"
#include "model_internals.hpp"
#include "numerics/half.hpp"
#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"
#include "weight_plan.hpp"

using namespace ordinal;

namespace {

// Resident bytes of this process (Linux /proc), or 0 when unknown.
size_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void to_f16(modelio::HostTensor& t) {
  const std::vector<float> v = t.to_f32();
  t.data.resize(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = numerics::float_to_half(v[i]);
    std::memcpy(t.data.data() + 2 * i, &h, 2);
  }
  t.dtype = format::DType::kF16;
}

std::shared_ptr<const Model> wide_model(bool f16, const std::string& name) {
  testing::SyntheticOptions o;
  o.dim = 256;
  o.hidden = 768;
  o.layers = 4;
  o.heads = 4;
  o.kv_heads = 4;
  o.context = 32;
  modelio::ModelSpec spec = testing::make_synthetic_model(o);
  if (f16) {
    for (modelio::HostLayer& l : spec.layers) {
      for (modelio::HostTensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w1, &l.w2, &l.w3}) {
        if (t->present()) to_f16(*t);
      }
    }
  }
  const std::string path = testing::temp_path(name);
  Status st = modelio::write_model(spec, path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto m = Model::load(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return m.value();
}

}  // namespace

TEST_CASE("a second session on one model adds no weight memory (f32 and f16 weights read in place)") {
  for (bool f16 : {false, true}) {
    CAPTURE(f16);
    std::shared_ptr<const Model> model = wide_model(f16, f16 ? "sharing_f16.ordinal" : "sharing_f32.ordinal");
    const detail::WeightPlan* plan = ordinal::detail::model_data(*model).weight_plan.get();
    REQUIRE(plan != nullptr);
    CHECK(plan->owned_bytes() == 0);
    const size_t weights = plan->weight_bytes_per_token();
    CHECK(weights > (f16 ? 6u : 12u) << 20);  // the layers' matrices: ~13.6 MB in f32

    SessionOptions so;
    so.threads = 1;
    const std::vector<int32_t> prompt = {1, 72, 101, 108, 108, 111, 32, 116};
    auto first = Session::create(model, so);
    REQUIRE(first.ok());
    REQUIRE(first.value()->prefill(prompt.data(), prompt.size()).ok());  // every weight page read
    const size_t before = resident_bytes();
    auto second = Session::create(model, so);
    REQUIRE(second.ok());
    REQUIRE(second.value()->prefill(prompt.data(), prompt.size()).ok());
    const size_t after = resident_bytes();
    // The same logits from both: the shared plan is read-only.
    CHECK(std::memcmp(first.value()->logits(), second.value()->logits(),
                      first.value()->vocab_size() * sizeof(float)) == 0);
    const size_t session_bytes = second.value()->memory_bytes();
    CHECK(session_bytes == first.value()->memory_bytes());
    CHECK(session_bytes < weights / 8);
    if (before == 0 || after == 0) continue;  // no /proc: the accounting checks above still ran
    const size_t added = after > before ? after - before : 0;
    MESSAGE("second session: resident +" << added << " B, memory_bytes " << session_bytes << " B, weights "
                                         << weights << " B");
    CHECK(added <= session_bytes + (size_t{2} << 20));
    CHECK(added < weights / 4);
  }
}
