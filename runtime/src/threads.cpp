#include "threads.hpp"

#include <cpuinfo.h>

#include <thread>

namespace ordinal::threads {

uint32_t available_cores() {
  if (cpuinfo_initialize()) {
    uint32_t n = cpuinfo_get_processors_count();
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? hc : 1;
}

Result<pthreadpool_t> create_pool(uint32_t threads, uint32_t* actual_threads) {
  constexpr uint32_t kMaxThreads = 256;
  if (threads > kMaxThreads) {
    return invalid_argument("threads = " + std::to_string(threads) + " exceeds the limit of " +
                            std::to_string(kMaxThreads));
  }
  uint32_t n = threads == 0 ? available_cores() : threads;
  *actual_threads = n;
  if (n == 1) return pthreadpool_t{nullptr};
  pthreadpool_t pool = pthreadpool_create(n);
  if (pool == nullptr) return internal_error("pthreadpool_create(" + std::to_string(n) + ") failed");
  return pool;
}

}  // namespace ordinal::threads
