// The decode loop allocates nothing: every malloc-family call (ours, the thread pool's, libstdc++'s) is
// counted while a session decodes 100 tokens. Buffers are planned when the session is created.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "ordinal/batch.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "ordinal/weight_quantize.hpp"
#include "support/synthetic_model.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ORDINAL_COUNT_MALLOC 0  // sanitizers own malloc; count C++ allocations only
#else
#define ORDINAL_COUNT_MALLOC 1
#endif

static std::atomic<long> g_allocations{0};
static std::atomic<bool> g_counting{false};
static inline void note() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}

#if ORDINAL_COUNT_MALLOC
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* malloc(size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  note();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  note();
  return __libc_realloc(p, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  note();
  void* p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void* aligned_alloc(size_t align, size_t n) {
  note();
  return __libc_memalign(align, n);
}
void* memalign(size_t align, size_t n) {
  note();
  return __libc_memalign(align, n);
}
}
#else
void* operator new(size_t n) {
  note();
  void* p = std::malloc(n ? n : 1);
  if (!p) std::abort();
  return p;
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
// The runtime allocates some objects with new (std::nothrow) (weight plans, C handles): the same heap, so
// that every delete above frees what the matching new allocated (ASan checks the pairing).
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  note();
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n) {
  note();
  void* p = std::malloc(n ? n : 1);
  if (!p) std::abort();
  return p;
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  note();
  return std::malloc(n ? n : 1);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}
#endif

using namespace ordinal;

TEST_CASE("100 decode steps allocate nothing (1 and 2 threads, both architectures)") {
  for (auto arch : {Architecture::kLlama, Architecture::kGPT2}) {
    for (uint32_t threads : {1u, 2u}) {
      testing::SyntheticOptions o;
      o.arch = arch;
      o.scheme = arch == Architecture::kGPT2 ? PositionalScheme::kLearnedTable : PositionalScheme::kRope;
      o.dim = 128;  // large enough that the kernels really use the thread pool
      o.hidden = 256;
      o.heads = 4;
      o.kv_heads = 2;
      o.context = 128;
      std::string path = testing::temp_path("noalloc.ordinal");
      REQUIRE(modelio::write_model(testing::make_synthetic_model(o), path).ok());
      auto m = Model::load(path);
      REQUIRE(m.ok());
      SessionOptions so;
      so.threads = threads;
      // The counter must see allocations where they do happen, or a zero below would prove nothing.
      g_allocations = 0;
      g_counting = true;
      auto s = Session::create(m.value(), so);
      g_counting = false;
      REQUIRE(s.ok());
      CHECK(g_allocations.load() > 0);
      auto sampler = Sampler::create(m.value()->config().vocab_size, 0.8f, 0.9f, 42);
      REQUIRE(sampler.ok());
      std::vector<float> logits(m.value()->config().vocab_size);
      int32_t prompt[4] = {1, 84, 104, 101};
      REQUIRE(s.value()->prefill(prompt, 4).ok());
      int32_t token = 0;
      bool ok = true;
      g_allocations = 0;
      g_counting = true;
      for (int step = 0; step < 100 && ok; ++step) {
        std::copy(s.value()->logits(), s.value()->logits() + logits.size(), logits.begin());
        token = sampler.value().sample(logits.data());
        ok = s.value()->decode(token).ok();
      }
      g_counting = false;
      CHECK(ok);
      CHECK_MESSAGE(g_allocations.load() == 0, "arch " << static_cast<int>(arch) << " threads " << threads);
      CHECK(s.value()->position() == 104);
    }
  }
}

TEST_CASE("int8 weights and an int8 KV cache: 100 decode steps and a context shift allocate nothing") {
  for (auto arch : {Architecture::kLlama, Architecture::kGPT2}) {
    for (uint32_t threads : {1u, 2u}) {
      testing::SyntheticOptions o;
      o.arch = arch;
      o.scheme = arch == Architecture::kGPT2 ? PositionalScheme::kAlibi : PositionalScheme::kRope;
      o.dim = 128;
      o.hidden = 200;  // not a multiple of 32: the int8 rows of w2 are padded at creation
      o.heads = 4;
      o.kv_heads = 2;
      o.context = 128;
      modelio::ModelSpec spec = testing::make_synthetic_model(o);
      if (o.scheme == PositionalScheme::kAlibi) spec.positional.slopes_q32.assign(o.heads, 1u << 28);
      REQUIRE(cli::quantize::convert_model_weights(spec, "int8").ok());
      std::string path = testing::temp_path("noalloc_int8.ordinal");
      REQUIRE(modelio::write_model(spec, path).ok());
      auto m = Model::load(path);
      REQUIRE(m.ok());
      SessionOptions so;
      so.threads = threads;
      so.kv_cache = KvCacheType::kInt8;
      auto s = Session::create(m.value(), so);
      REQUIRE(s.ok());
      auto sampler = Sampler::create(m.value()->config().vocab_size, 0.8f, 0.9f, 42);
      REQUIRE(sampler.ok());
      std::vector<float> logits(m.value()->config().vocab_size);
      int32_t prompt[4] = {1, 84, 104, 101};
      REQUIRE(s.value()->prefill(prompt, 4).ok());
      bool ok = true;
      g_allocations = 0;
      g_counting = true;
      for (int step = 0; step < 100 && ok; ++step) {
        std::copy(s.value()->logits(), s.value()->logits() + logits.size(), logits.begin());
        ok = s.value()->decode(sampler.value().sample(logits.data())).ok();
        if (step == 50) ok = ok && s.value()->shift(20, 1).ok();
      }
      g_counting = false;
      CHECK(ok);
      CHECK_MESSAGE(g_allocations.load() == 0, "arch " << static_cast<int>(arch) << " threads " << threads);
      CHECK(s.value()->position() == 84);
    }
  }
}

TEST_CASE("a batch of sequences: decode steps, padded calls, shift, close/open/reset allocate nothing") {
  for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
    for (uint32_t threads : {1u, 2u}) {
      testing::SyntheticOptions o;
      o.scheme = PositionalScheme::kRope;
      o.dim = 128;
      o.hidden = 256;
      o.heads = 4;
      o.kv_heads = 2;
      o.context = 128;
      std::string path = testing::temp_path("noalloc_batch.ordinal");
      REQUIRE(modelio::write_model(testing::make_synthetic_model(o), path).ok());
      auto m = Model::load(path);
      REQUIRE(m.ok());
      BatchOptions bo;
      bo.threads = threads;
      bo.kv_cache = kv;
      bo.max_sequences = 4;
      bo.max_batch_tokens = 16;
      bo.audit_padding_attention = true;
      auto b = BatchSession::create(m.value(), bo);
      REQUIRE(b.ok());
      BatchSession& s = *b.value();
      int32_t ids[4];
      for (int32_t& id : ids) {
        auto r = s.open_sequence(0);
        REQUIRE(r.ok());
        id = r.value();
      }
      // A padded prefill of 4 rows x 4 tokens, left-padded.
      const int32_t tokens[16] = {0, 1, 84, 104, 1, 72, 105, 33, 0, 0, 1, 79, 0, 1, 2, 3};
      const uint8_t real[16] = {0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1};
      REQUIRE(s.forward_padded(tokens, real, 4, 4, ids).ok());
      auto sampler = Sampler::create(m.value()->config().vocab_size, 0.8f, 0.9f, 42);
      REQUIRE(sampler.ok());
      std::vector<float> logits(m.value()->config().vocab_size);
      int32_t next[4], seqs[4];
      bool ok = true;
      g_allocations = 0;
      g_counting = true;
      for (int step = 0; step < 60 && ok; ++step) {
        for (int i = 0; i < 4; ++i) {
          const float* l = s.sequence_logits(ids[i]);
          std::copy(l, l + logits.size(), logits.begin());
          next[i] = sampler.value().sample(logits.data());
          seqs[i] = ids[i];
        }
        Batch bt;
        bt.tokens = next;
        bt.sequences = seqs;
        bt.count = step % 3 == 2 ? 2 : 4;  // some steps decode only two sequences
        ok = s.forward(bt).ok();
        if (step == 30) ok = ok && s.shift_sequence(ids[0], 10, 1).ok();
        if (step == 40) {
          ok = ok && s.close_sequence(ids[3]).ok();
          auto r = s.open_sequence(5);
          ok = ok && r.ok() && r.value() == ids[3];
          ok = ok && s.reset_sequence(ids[2], 0).ok();
          ok = ok && s.forward_padded(tokens, real, 4, 4, ids).ok();
        }
      }
      g_counting = false;
      CHECK(ok);
      CHECK(s.padding_attention_ratio() == 0.0);
      CHECK_MESSAGE(g_allocations.load() == 0, "kv " << kv_cache_type_name(kv) << " threads " << threads);
    }
  }
}
