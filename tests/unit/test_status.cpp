// Result<T>: value_or, storage for over-aligned and move-only types (no std::aligned_storage).
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "ordinal/status.hpp"

using namespace ordinal;

namespace {
struct alignas(64) Wide {
  float v[16];
};
Result<int> parse(bool good) {
  if (!good) return invalid_argument("not a number");
  return 42;
}
}  // namespace

TEST_CASE("Result::value_or gives the value, or the fallback for an error") {
  CHECK(parse(true).value_or(-1) == 42);
  CHECK(parse(false).value_or(-1) == -1);
  const Result<std::string> err = Status(ErrorCode::kIoError, "x");
  CHECK(err.value_or("fallback") == "fallback");
  Result<std::unique_ptr<int>> p(std::make_unique<int>(7));
  std::unique_ptr<int> got = std::move(p).value_or(nullptr);
  REQUIRE(got != nullptr);
  CHECK(*got == 7);
  Result<std::unique_ptr<int>> e = internal_error("y");
  CHECK(std::move(e).value_or(nullptr) == nullptr);
}

TEST_CASE("Result stores over-aligned values at their alignment") {
  for (int i = 0; i < 4; ++i) {
    Wide w{};
    w.v[3] = static_cast<float>(i);
    Result<Wide> r(w);
    REQUIRE(r.ok());
    CHECK(reinterpret_cast<uintptr_t>(&r.value()) % 64 == 0);
    CHECK(r.value().v[3] == static_cast<float>(i));
    Result<Wide> moved(std::move(r));
    CHECK(reinterpret_cast<uintptr_t>(&moved.value()) % 64 == 0);
  }
  CHECK(std::string(error_code_name(ErrorCode::kAborted)) == "aborted");
}
