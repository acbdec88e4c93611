// Thread pools for sessions: sized from cpuinfo (one worker per core) unless the caller asks.
#pragma once

#include <pthreadpool.h>

#include <cstdint>

#include "ordinal/status.hpp"

namespace ordinal::threads {

// Cores cpuinfo reports (1 if it cannot tell).
uint32_t available_cores();

struct PoolDeleter {
  void operator()(pthreadpool_t p) const {
    if (p) pthreadpool_destroy(p);
  }
};

// A pool of `threads` workers (0: available_cores()). threads == 1 yields no pool (inline execution).
Result<pthreadpool_t> create_pool(uint32_t threads, uint32_t* actual_threads);

}  // namespace ordinal::threads
