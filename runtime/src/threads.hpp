// Thread pools for sessions: sized from cpuinfo (one worker per core) unless the caller asks.
//
// Why our own pool rather than pthreadpool (measured on the 110M f32 shape, 2 cores, the other core busy
// with another process): pthreadpool's caller returns only after EVERY worker has woken and checked in,
// even a worker whose share was stolen; a worker that the OS has not scheduled yet costs the whole op a
// scheduler time slice. With ~100 parallel ops per token, 2 threads ran at 0.9 tok/s against 28.6 on 1.
// Here the caller claims work like any worker and waits only for chunks that a running worker has already
// claimed; a worker that wakes late finds nothing left and goes back to waiting. Workers spin briefly after
// a job (the next op follows within microseconds) and then sleep on a condition variable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ordinal/status.hpp"

namespace ordinal::threads {

// Tasks, as pthreadpool's: one index, or a tile [start, start + count).
using Task1d = void (*)(void* context, size_t index);
using Task1dTile = void (*)(void* context, size_t start, size_t count);

class Pool;

// Cores cpuinfo reports (1 if it cannot tell).
uint32_t available_cores();

struct PoolDeleter {
  void operator()(Pool* p) const;
};
using PoolPtr = std::unique_ptr<Pool, PoolDeleter>;

// A pool of `threads` threads counting the caller (0: available_cores()); threads == 1 yields no pool
// (nullptr: inline execution). A pool serves one caller at a time (a session).
Result<Pool*> create_pool(uint32_t threads, uint32_t* actual_threads);
// Threads a pool runs with, the caller included; 1 for nullptr.
uint32_t pool_threads(const Pool* pool);

// task(context, i) for i in [0, range), or task(context, start, count) over tiles of `tile` indices, on the
// pool's threads and the caller's; returns when every index is done. pool == nullptr: on the caller.
void parallelize_1d(Pool* pool, Task1d task, void* context, size_t range);
void parallelize_1d_tile_1d(Pool* pool, Task1dTile task, void* context, size_t range, size_t tile);

}  // namespace ordinal::threads
