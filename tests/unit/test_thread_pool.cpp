// The session thread pool (threads.hpp): every index of every job runs exactly once, on the caller and the
// workers, over thousands of back-to-back jobs of every shape (the workers race the caller for chunks and
// often arrive after a job is over); results written by workers are visible to the caller when run returns.
// CI runs this file under ThreadSanitizer with test_concurrency.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "numerics/prng.hpp"
#include "threads.hpp"

using namespace ordinal;

namespace {

struct CountJob {
  std::vector<std::atomic<uint32_t>>* hits;
  std::vector<uint64_t>* values;  // plain writes: each index by exactly one thread
  size_t tile;
};

void count_tile(void* context, size_t start, size_t count) {
  CountJob* job = static_cast<CountJob*>(context);
  for (size_t i = start; i < start + count; ++i) {
    (*job->hits)[i].fetch_add(1, std::memory_order_relaxed);
    (*job->values)[i] = i * 2654435761u;
  }
}

void count_index(void* context, size_t i) {
  count_tile(context, i, 1);
}

}  // namespace

TEST_CASE("thread pool: each index exactly once over back-to-back jobs of every shape") {
  for (uint32_t threads : {2u, 3u, 5u}) {
    uint32_t actual = 0;
    auto created = threads::create_pool(threads, &actual);
    REQUIRE(created.ok());
    threads::PoolPtr pool(created.value());
    CHECK(actual == threads);
    CHECK(threads::pool_threads(pool.get()) == threads);
    numerics::SplitMix64 rng(threads);
    const size_t kMax = 1000;
    std::vector<std::atomic<uint32_t>> hits(kMax);
    std::vector<uint64_t> values(kMax);
    for (int job_index = 0; job_index < 3000; ++job_index) {
      const size_t range = rng.below(kMax + 1);
      const size_t tile = 1 + rng.below(64);
      for (size_t i = 0; i < range; ++i) {
        hits[i].store(0, std::memory_order_relaxed);
        values[i] = 0;
      }
      CountJob job{&hits, &values, tile};
      if (job_index % 2 == 0) {
        threads::parallelize_1d_tile_1d(pool.get(), count_tile, &job, range, tile);
      } else {
        threads::parallelize_1d(pool.get(), count_index, &job, range);
      }
      bool all_once = true;
      for (size_t i = 0; i < range; ++i) {
        all_once = all_once && hits[i].load(std::memory_order_relaxed) == 1 && values[i] == i * 2654435761u;
      }
      REQUIRE(all_once);
    }
  }
}

TEST_CASE("thread pool: one thread means no pool, and every index still runs once") {
  uint32_t actual = 0;
  auto created = threads::create_pool(1, &actual);
  REQUIRE(created.ok());
  CHECK(created.value() == nullptr);
  CHECK(actual == 1);
  CHECK(threads::pool_threads(nullptr) == 1);
  std::vector<std::atomic<uint32_t>> hits(100);
  std::vector<uint64_t> values(100);
  CountJob job{&hits, &values, 7};
  threads::parallelize_1d_tile_1d(nullptr, count_tile, &job, 100, 7);
  for (size_t i = 0; i < 100; ++i) CHECK(hits[i].load() == 1);
  CHECK_FALSE(threads::create_pool(100000, &actual).ok());
}

TEST_CASE("thread pool: pools created and destroyed while their workers sleep or spin") {
  for (int i = 0; i < 50; ++i) {
    uint32_t actual = 0;
    auto created = threads::create_pool(3, &actual);
    REQUIRE(created.ok());
    threads::PoolPtr pool(created.value());
    if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // workers asleep
    std::vector<std::atomic<uint32_t>> hits(64);
    std::vector<uint64_t> values(64);
    CountJob job{&hits, &values, 1};
    threads::parallelize_1d(pool.get(), count_index, &job, 64);
    for (size_t k = 0; k < 64; ++k) REQUIRE(hits[k].load() == 1);
  }
}
