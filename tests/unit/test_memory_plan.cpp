// The memory plan (docs/trust-boundary.md, "Memory"): Model::session_bytes / ord_session_bytes report what a
// session will allocate before anything is allocated; a session over its budget, over the address space,
// or whose allocation fails is refused with kOutOfMemory / ORD_OUT_OF_MEMORY, never an abort. The last case
// runs the C API in a child process under an address-space limit (setrlimit, as `ulimit -v`).
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "ordinal/ordinal.h"
#include "support/session_helpers.hpp"

using namespace ordinal;
using namespace ordinal::testing;

namespace {

// Sanitizers' shadow memory and qemu-user's guest reservations do not fit an address-space limit.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(ORDINAL_UNDER_EMULATOR)
constexpr bool kSanitizerShadow = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr bool kSanitizerShadow = true;
#else
constexpr bool kSanitizerShadow = false;
#endif
#else
constexpr bool kSanitizerShadow = false;
#endif

// A RoPE model of a few KB whose config declares a 2^24-position context: its default session needs
// 2 layers x 2^24 slots x 16 floats x 2 (keys, values) = 4 GiB of KV cache.
std::string huge_context_model_path() {
  SyntheticOptions o;
  o.dim = 32;
  o.heads = 4;
  o.kv_heads = 2;
  o.layers = 2;
  o.context = 1u << 24;
  o.scheme = PositionalScheme::kRope;
  const std::string path = temp_path("memory_plan_huge_context.ordinal");
  Status st = modelio::write_model(make_synthetic_model(o), path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  return path;
}

constexpr uint64_t kHugeKvBytes = uint64_t{2} * 2 * (uint64_t{1} << 24) * 16 * sizeof(float);

}  // namespace

TEST_CASE("session_bytes plans the KV cache, scores and activations before allocating") {
  auto m = Model::load(huge_context_model_path());
  REQUIRE(m.ok());
  SessionOptions so;
  auto planned = m.value()->session_bytes(so);
  REQUIRE(planned.ok());
  CHECK(planned.value() >= kHugeKvBytes);
  so.kv_cache = KvCacheType::kInt8;
  auto planned8 = m.value()->session_bytes(so);
  REQUIRE(planned8.ok());
  CHECK(planned8.value() < planned.value());

  // A small session: the plan bounds what the session reports it owns, and its KV cache exactly.
  for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
    SessionOptions small;
    small.context_length = 96;
    small.kv_cache = kv;
    small.threads = 1;
    auto bytes = m.value()->session_bytes(small);
    REQUIRE(bytes.ok());
    auto s = Session::create(m.value(), small);
    REQUIRE(s.ok());
    CHECK(bytes.value() >= s.value()->memory_bytes());
    CHECK(bytes.value() >= s.value()->kv_cache_bytes());
    CHECK(bytes.value() < 4 * s.value()->memory_bytes());
  }

  SessionOptions bad;
  bad.context_length = (1u << 24) + 1;
  CHECK(m.value()->session_bytes(bad).status().code() == ErrorCode::kInvalidArgument);
  bad.context_length = 0;
  bad.prefill_chunk = 0;
  CHECK(m.value()->session_bytes(bad).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("a session over its memory budget is refused with kOutOfMemory naming the KV cache") {
  auto m = Model::load(huge_context_model_path());
  REQUIRE(m.ok());
  SessionOptions so;
  so.threads = 1;
  so.memory_budget = uint64_t{1} << 30;
  auto s = Session::create(m.value(), so);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == ErrorCode::kOutOfMemory);
  CHECK(s.status().message().find("KV cache") != std::string::npos);
  CHECK(s.status().message().find("budget") != std::string::npos);
  CHECK(std::string(error_code_name(ErrorCode::kOutOfMemory)) == "out-of-memory");

  // Within the budget it works, and computes.
  so.context_length = 64;
  auto ok = Session::create(m.value(), so);
  REQUIRE_MESSAGE(ok.ok(), ok.status().to_string());
  const int32_t tokens[] = {1, 300, 301};
  CHECK(ok.value()->prefill(tokens, 3).ok());
}

TEST_CASE("C API: ord_session_bytes and ORD_OUT_OF_MEMORY over the budget") {
  ord_model* m = nullptr;
  REQUIRE(ord_model_load(huge_context_model_path().c_str(), &m) == ORD_OK);
  uint64_t bytes = 1;
  CHECK(ord_session_bytes(m, nullptr, nullptr) == ORD_INVALID_ARGUMENT);
  CHECK(ord_session_bytes(nullptr, nullptr, &bytes) == ORD_INVALID_ARGUMENT);
  CHECK(bytes == 0);
  REQUIRE(ord_session_bytes(m, nullptr, &bytes) == ORD_OK);
  CHECK(bytes >= kHugeKvBytes);
  ord_session_options o = ord_session_default_options();
  CHECK(o.memory_budget == 0);
  o.threads = 1;
  o.memory_budget = bytes - 1;
  ord_session* s = reinterpret_cast<ord_session*>(&o);  // must be cleared on failure
  CHECK(ord_session_create(m, &o, &s) == ORD_OUT_OF_MEMORY);
  CHECK(s == nullptr);
  // ord_last_error is the message (app's C API); the code is the return value and ord_status_name.
  CHECK(std::string(ord_last_error()).find("memory budget") != std::string::npos);
  CHECK(std::string(ord_status_name(ORD_OUT_OF_MEMORY)) == "out-of-memory");
  o.context_length = 32;
  o.memory_budget = 0;
  REQUIRE(ord_session_bytes(m, &o, &bytes) == ORD_OK);
  o.memory_budget = bytes;
  CHECK(ord_session_create(m, &o, &s) == ORD_OK);
  ord_session_free(s);
  ord_model_free(m);
}

TEST_CASE("C API: a session that does not fit the address space returns ORD_OUT_OF_MEMORY, never aborts") {
  if (kSanitizerShadow) {
    MESSAGE("skipped under a sanitizer or qemu: their own reservations do not fit an address-space limit");
    return;
  }
  const std::string path = huge_context_model_path();
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Child: 2 GiB of address space (ulimit -v 2097152), then a default session that plans 4.5 GiB. On a
    // 32-bit target the plan alone is refused (more than half the address space).
    struct rlimit limit;
    limit.rlim_cur = limit.rlim_max = rlim_t{2} << 30;
    if (sizeof(void*) == 8 && setrlimit(RLIMIT_AS, &limit) != 0) _exit(3);
    ord_model* m = nullptr;
    if (ord_model_load(path.c_str(), &m) != ORD_OK) _exit(4);
    ord_session_options o = ord_session_default_options();
    o.threads = 1;
    ord_session* s = nullptr;
    const ord_status st = ord_session_create(m, &o, &s);
    const bool named = std::string(ord_last_error()).find("bytes") != std::string::npos;
    _exit(st == ORD_OUT_OF_MEMORY && s == nullptr && named ? 0 : 5);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  INFO("child status " << status);
  REQUIRE(WIFEXITED(status));  // killed by SIGABRT (std::bad_alloc) before the fix
  CHECK(WEXITSTATUS(status) == 0);
}
