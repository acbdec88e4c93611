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

// pthreadpool_parallelize_1d / _1d_tile_1d for the runtime's own tasks. ThreadSanitizer cannot see the
// synchronization inside pthreadpool (an uninstrumented system library), so it would report the hand-off
// of a job to the workers, and of their results back, as data races; under TSan these wrappers declare
// both hand-offs (release before, acquire in each task; release after each task, acquire after the join).
// Elsewhere they are the plain calls.
inline void parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context, size_t range);
inline void parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task, void* context,
                                   size_t range, size_t tile);

}  // namespace ordinal::threads

#if defined(__SANITIZE_THREAD__)
#define ORDINAL_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ORDINAL_UNDER_TSAN 1
#endif
#endif
#ifndef ORDINAL_UNDER_TSAN
#define ORDINAL_UNDER_TSAN 0
#endif

#if ORDINAL_UNDER_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace ordinal::threads {
namespace tsan {
struct Job {
  pthreadpool_task_1d_t task;
  pthreadpool_task_1d_tile_1d_t tiled;
  void* context;
};
inline void run(void* p, size_t i) {
  Job* job = static_cast<Job*>(p);
  __tsan_acquire(job);
  job->task(job->context, i);
  __tsan_release(job);
}
inline void run_tiled(void* p, size_t start, size_t tile) {
  Job* job = static_cast<Job*>(p);
  __tsan_acquire(job);
  job->tiled(job->context, start, tile);
  __tsan_release(job);
}
}  // namespace tsan

inline void parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context, size_t range) {
  tsan::Job job{task, nullptr, context};
  __tsan_release(&job);
  pthreadpool_parallelize_1d(pool, tsan::run, &job, range, 0);
  __tsan_acquire(&job);
}
inline void parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task, void* context,
                                   size_t range, size_t tile) {
  tsan::Job job{nullptr, task, context};
  __tsan_release(&job);
  pthreadpool_parallelize_1d_tile_1d(pool, tsan::run_tiled, &job, range, tile, 0);
  __tsan_acquire(&job);
}
}  // namespace ordinal::threads
#else
namespace ordinal::threads {
inline void parallelize_1d(pthreadpool_t pool, pthreadpool_task_1d_t task, void* context, size_t range) {
  pthreadpool_parallelize_1d(pool, task, context, range, 0);
}
inline void parallelize_1d_tile_1d(pthreadpool_t pool, pthreadpool_task_1d_tile_1d_t task, void* context,
                                   size_t range, size_t tile) {
  pthreadpool_parallelize_1d_tile_1d(pool, task, context, range, tile, 0);
}
}  // namespace ordinal::threads
#endif
