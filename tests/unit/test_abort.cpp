// Abort callback (Session::set_abort_callback, ord_session_set_abort_callback): asked between prefill
// chunks and between layers, so a 512-token prefill stops at the next check after the request; the call
// returns kAborted and leaves the session as it was before it (position, cache, logits), and the same
// prefill afterwards gives the same logits as a fresh session. The latency from request to return is
// printed (a figure, not an assertion: machines are shared).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "ordinal/ordinal.h"
#include "ordinal/runtime.hpp"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

constexpr size_t kPromptTokens = 512;

std::vector<int32_t> long_prompt(uint32_t vocab) {
  std::vector<int32_t> p(kPromptTokens);
  p[0] = 1;
  for (size_t i = 1; i < p.size(); ++i) p[i] = static_cast<int32_t>(3 + (i * 37) % (vocab - 3));
  return p;
}

struct Counter {
  std::atomic<int> calls{0};
  int stop_at = -1;  // abort on this call (0-based); -1: never
  std::atomic<bool> requested{false};
  std::chrono::steady_clock::time_point requested_at;
};

bool count_and_maybe_stop(void* user) {
  Counter* c = static_cast<Counter*>(user);
  const int n = c->calls++;
  if (c->requested.load()) return true;
  if (n == c->stop_at) {
    c->requested_at = std::chrono::steady_clock::now();
    c->requested = true;
    return true;
  }
  return false;
}

std::shared_ptr<const Model> long_model() {
  SyntheticOptions o;
  o.context = 1024;
  o.layers = 4;
  o.dim = 64;
  o.hidden = 128;
  return load_spec(make_synthetic_model(o), "abort_model.ordinal");
}

}  // namespace

TEST_CASE("the abort callback stops a 512-token prefill at the next check and changes nothing") {
  auto m = long_model();
  const std::vector<int32_t> prompt = long_prompt(m->config().vocab_size);
  const uint32_t layers = m->config().n_layers;
  SessionOptions so;
  so.prefill_chunk = 32;
  auto s = session_for(m, so);

  // Without a stop: one check per layer per chunk.
  Counter all;
  s->set_abort_callback(count_and_maybe_stop, &all);
  REQUIRE(s->prefill(prompt.data(), prompt.size()).ok());
  CHECK(all.calls == static_cast<int>((kPromptTokens / 32) * layers));
  const std::vector<float> full = logits_of(*s);

  REQUIRE(s->reset(0).ok());
  REQUIRE(s->prefill(prompt.data(), 3).ok());
  const std::vector<float> before = logits_of(*s);
  for (int stop_at :
       {0, 1, static_cast<int>(layers) * 5 + 2, static_cast<int>((kPromptTokens / 32) * layers) - 1}) {
    CAPTURE(stop_at);
    Counter c;
    c.stop_at = stop_at;
    s->set_abort_callback(count_and_maybe_stop, &c);
    const auto t0 = std::chrono::steady_clock::now();
    Status st = s->prefill(prompt.data() + 3, prompt.size() - 3);
    const auto t1 = std::chrono::steady_clock::now();
    CHECK(st.code() == ErrorCode::kAborted);
    CHECK(st.message().find("abort callback") != std::string::npos);
    CHECK(c.calls == stop_at + 1);  // returned at the check that said stop: no further work
    CHECK(s->position() == 3);
    CHECK(s->cached_tokens() == 3);
    CHECK(std::memcmp(logits_of(*s).data(), before.data(), before.size() * sizeof(float)) == 0);
    if (stop_at == 0) {
      MESSAGE("abort to return: " << std::chrono::duration<double, std::milli>(t1 - c.requested_at).count()
                                  << " ms; whole aborted call "
                                  << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms");
    }
  }
  // The session is usable and exact after the aborts; progress is told after each chunk.
  s->set_abort_callback(nullptr, nullptr);
  std::vector<std::pair<size_t, size_t>> progress;
  s->set_progress_callback(
      [](size_t done, size_t total, void* user) {
        static_cast<std::vector<std::pair<size_t, size_t>>*>(user)->emplace_back(done, total);
      },
      &progress);
  REQUIRE(s->prefill(prompt.data() + 3, prompt.size() - 3).ok());
  REQUIRE(progress.size() == 16);  // 509 tokens in chunks of 32
  for (size_t i = 0; i + 1 < progress.size(); ++i)
    CHECK(progress[i] == std::make_pair(32 * (i + 1), size_t{509}));
  CHECK(progress.back() == std::make_pair(size_t{509}, size_t{509}));
  CHECK(std::memcmp(logits_of(*s).data(), full.data(), full.size() * sizeof(float)) == 0);
}

namespace {
int c_abort_flag(void* user) {
  return static_cast<std::atomic<int>*>(user)->load();
}
}  // namespace

TEST_CASE("C API: another thread cancels a running 512-token prefill") {
  auto m = long_model();
  const std::string path = temp_path("abort_model.ordinal");
  ord_model* cm = nullptr;
  REQUIRE(ord_model_load(path.c_str(), &cm) == ORD_OK);
  ord_session_options o = ord_session_default_options();
  o.threads = 1;
  ord_session* s = nullptr;
  REQUIRE(ord_session_create(cm, &o, &s) == ORD_OK);
  const std::vector<int32_t> prompt = long_prompt(ord_model_vocab_size(cm));

  // How long the whole prefill takes here, to place the cancel inside it.
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(ord_session_prefill(s, prompt.data(), prompt.size()) == ORD_OK);
  const double full_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(ord_session_reset(s, 0) == ORD_OK);

  std::atomic<int> flag{0};
  REQUIRE(ord_session_set_abort_callback(s, c_abort_flag, &flag) == ORD_OK);
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(full_ms / 4));
    cancelled_at = std::chrono::steady_clock::now();
    flag = 1;
  });
  const ord_status st = ord_session_prefill(s, prompt.data(), prompt.size());
  const auto returned = std::chrono::steady_clock::now();
  canceller.join();
  if (st == ORD_OK) {
    MESSAGE("the prefill finished before the cancel (machine busy); the single-thread case above covers it");
  } else {
    CHECK(st == ORD_ABORTED);
    CHECK(std::string(ord_status_name(st)) == "aborted");
    CHECK(ord_session_position(s) == 0);
    MESSAGE(
        "512-token prefill of " << full_ms << " ms cancelled from another thread; returned "
                                << std::chrono::duration<double, std::milli>(returned - cancelled_at).count()
                                << " ms after the request");
  }
  flag = 0;
  size_t told[2] = {0, 0};
  REQUIRE(ord_session_set_progress_callback(
              s,
              [](size_t done, size_t total, void* user) {
                static_cast<size_t*>(user)[0] = done;
                static_cast<size_t*>(user)[1] = total;
              },
              told) == ORD_OK);
  CHECK(ord_session_prefill(s, prompt.data(), 8) == ORD_OK);
  CHECK(told[0] == 8);
  CHECK(told[1] == 8);
  ord_session_free(s);
  ord_model_free(cm);
}
