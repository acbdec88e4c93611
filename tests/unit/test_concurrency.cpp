// One model shared by N = 2 x cores sessions on N threads, thousands of decode steps in all, each session's
// tokens and logits bit-identical to the same script run alone; a model's tokenizer used from every thread;
// the C API's last-error message per thread. CI runs this file under ThreadSanitizer (tools/test.sh).
// Models: every *.ordinal in $ORDINAL_TEST_MODELS when set (tools/test.sh's TSan stage: the fuzzer's seed
// models of every scheme plus story-llama in f32 and int8, wide enough for the thread pools to run), else
// synthetic ones of several schemes written here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ordinal/ordinal.h"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "support/model_dir.hpp"

#if ORDINAL_HAVE_TOOL_LIB
#include "support/synthetic_model.hpp"
#endif

using namespace ordinal;

namespace {

std::vector<std::string> model_paths() {
  std::vector<std::string> paths;
  if (const char* dir = std::getenv("ORDINAL_TEST_MODELS")) return testing::ordinal_models_in(dir);
#if ORDINAL_HAVE_TOOL_LIB
  struct Kind {
    PositionalScheme scheme;
    Architecture arch;
  };
  for (Kind k : {Kind{PositionalScheme::kRope, Architecture::kLlama},
                 Kind{PositionalScheme::kLearnedTable, Architecture::kGPT2},
                 Kind{PositionalScheme::kNone, Architecture::kGPT2}}) {
    testing::SyntheticOptions o;
    o.scheme = k.scheme;
    o.arch = k.arch;
    o.dim = 64;
    o.hidden = 96;
    o.context = 48;
    const std::string path =
        testing::temp_path(std::string("concurrency_") + positional_scheme_name(k.scheme) + ".ordinal");
    Status st = modelio::write_model(testing::make_synthetic_model(o), path);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    paths.push_back(path);
  }
#endif
  return paths;
}

uint32_t cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

// What one session does: a prompt, greedy decoding, and when the cache is full a reset that keeps going
// at later positions (re-prefilling the last tokens). Tokens and a hash of every logit bit are recorded.
struct Trace {
  std::vector<int32_t> tokens;
  uint64_t logit_hash = 1469598103934665603ull;
  std::string error;
  bool operator==(const Trace& o) const {
    return tokens == o.tokens && logit_hash == o.logit_hash && error == o.error;
  }
};

void hash_logits(Trace* t, const float* l, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &l[i], 4);
    t->logit_hash = (t->logit_hash ^ bits) * 1099511628211ull;
  }
}

Trace run_script(const std::shared_ptr<const Model>& m, int which, int steps) {
  Trace t;
  SessionOptions so;
  so.threads = (which % 3 == 2) ? 2 : 1;  // some sessions run their own 2-thread pool
  so.prefill_chunk = 1 + which % 5;
  // Offsets and restarts stay in the first half of what the model addresses (small for table models).
  const int64_t room = std::max<int64_t>(1, std::min<int64_t>(m->position_limit(), 1000) / 2);
  so.position_offset = (which * 7) % room;
  auto made = Session::create(m, so);
  if (!made.ok()) {
    t.error = made.status().to_string();
    return t;
  }
  Session& s = *made.value();
  const int32_t vocab = static_cast<int32_t>(s.vocab_size());
  std::vector<int32_t> prompt;
  for (int i = 0; i < 5; ++i) prompt.push_back(static_cast<int32_t>((which * 31 + i * 17 + 1) % vocab));
  Status st = s.prefill(prompt.data(), prompt.size());
  for (int step = 0; st.ok() && step < steps; ++step) {
    hash_logits(&t, s.logits(), s.vocab_size());
    const int32_t next = Sampler::argmax(s.logits(), s.vocab_size());
    t.tokens.push_back(next);
    if (s.cached_tokens() == s.capacity() || s.position() + 1 >= m->position_limit()) {
      const int64_t restart = s.position() + 3 < m->position_limit() ? s.position() : which % room;
      st = s.reset(restart);
      const int32_t tail[2] = {t.tokens.size() > 1 ? t.tokens[t.tokens.size() - 2] : 1, next};
      if (st.ok()) st = s.prefill(tail, 2);
    } else {
      st = s.decode(next);
    }
  }
  if (!st.ok()) t.error = st.to_string();
  return t;
}

}  // namespace

TEST_CASE("N = 2 x cores sessions sharing one model on N threads match the same sessions run alone") {
  const std::vector<std::string> paths = model_paths();
  REQUIRE_MESSAGE(!paths.empty(), "no models (set ORDINAL_TEST_MODELS to a directory of .ordinal files)");
  const int n = static_cast<int>(std::max(4u, 2 * cores()));
  // Thousands of steps in all, spread over the models.
  const int steps = std::max(100, 16000 / (n * static_cast<int>(paths.size())));
  long total_steps = 0;
  for (const std::string& path : paths) {
    CAPTURE(path);
    auto loaded = Model::load(path);
    REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
    std::shared_ptr<const Model> m = loaded.value();
    std::vector<Trace> alone(n), together(n);
    for (int i = 0; i < n; ++i) alone[i] = run_script(m, i, steps);
    std::vector<std::thread> workers;
    for (int i = 0; i < n; ++i) workers.emplace_back([&, i] { together[i] = run_script(m, i, steps); });
    for (auto& w : workers) w.join();
    for (int i = 0; i < n; ++i) {
      CHECK_MESSAGE(alone[i].error.empty(), alone[i].error);
      CHECK_MESSAGE(together[i] == alone[i], "session " << i);
      total_steps += static_cast<long>(together[i].tokens.size());
    }
  }
  MESSAGE(n << " threads, " << paths.size() << " models, " << total_steps << " concurrent decode steps");
  CHECK(total_steps >= 2000);
}

TEST_CASE("a model's tokenizer is used from every thread at once with the results of one thread") {
  const std::vector<std::string> paths = model_paths();
  REQUIRE(!paths.empty());
  auto m = Model::load(paths.front());
  REQUIRE(m.ok());
  const Tokenizer& tok = m.value()->tokenizer();
  const std::string text =
      "Once upon a time there was a thing that went on and on, \xc3\xa9t\xc3\xa9 included.";
  std::vector<int32_t> expected;
  REQUIRE(tok.encode(text, true, false, &expected).ok());
  const int n = static_cast<int>(std::max(4u, 2 * cores()));
  std::vector<int> mismatches(n, 0);
  std::vector<std::thread> workers;
  for (int i = 0; i < n; ++i) {
    workers.emplace_back([&, i] {
      std::vector<int32_t> ids;
      for (int k = 0; k < 200; ++k) {
        if (!tok.encode(text, true, false, &ids).ok() || ids != expected) ++mismatches[i];
        for (size_t j = 1; j < ids.size(); ++j) (void)tok.decode(ids[j - 1], ids[j]);
      }
    });
  }
  for (auto& w : workers) w.join();
  for (int i = 0; i < n; ++i) CHECK(mismatches[i] == 0);
}

TEST_CASE("C API: each thread's ord_last_error is its own") {
  const std::vector<std::string> paths = model_paths();
  REQUIRE(!paths.empty());
  ord_model* model = nullptr;
  REQUIRE(ord_model_load(paths.front().c_str(), &model) == ORD_OK);
  const int n = static_cast<int>(std::max(4u, 2 * cores()));
  std::vector<int> wrong(n, 0);
  std::vector<std::thread> workers;
  for (int i = 0; i < n; ++i) {
    workers.emplace_back([&, i] {
      ord_session_options o = ord_session_default_options();
      o.threads = 1;
      ord_session* s = nullptr;
      if (ord_session_create(model, &o, &s) != ORD_OK) {
        ++wrong[i];
        return;
      }
      const std::string mine = "token id " + std::to_string(-1000 - i) + " ";
      for (int k = 0; k < 300; ++k) {
        if (ord_session_decode(s, -1000 - i) != ORD_INVALID_ARGUMENT) ++wrong[i];
        std::this_thread::yield();
        if (std::string(ord_last_error()).find(mine) == std::string::npos) ++wrong[i];
        int32_t t = 1;
        if (k % 50 == 0 && ord_session_decode(s, t) != ORD_OK && ord_session_reset(s, 0) != ORD_OK)
          ++wrong[i];
      }
      ord_session_free(s);
    });
  }
  for (auto& w : workers) w.join();
  for (int i = 0; i < n; ++i) CHECK(wrong[i] == 0);
  ord_model_free(model);
}
