#include "threads.hpp"

#include <cpuinfo.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ordinal::threads {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

// How long a worker spins for the next job before sleeping, and a caller for in-flight chunks before
// yielding its core: about the gap between two ops of one forward pass, far below a time slice.
constexpr auto kSpin = std::chrono::microseconds(20);

// CPU seconds of the whole process, every thread (0 where the clock is missing: the governor then sees no
// cores in use and keeps ops on the caller, the safe side).
double process_cpu_seconds() {
  timespec ts;
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0.0;
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

class Pool {
 public:
  static Result<Pool*> create(uint32_t threads);
  ~Pool();
  uint32_t threads() const { return threads_; }
  void run(Task1dTile task, void* context, size_t range, size_t tile);

 private:
  Pool() = default;
  static void* worker_main(void* self);
  void worker_loop();
  // Claims and runs chunks of job `generation` until none is left (or another job has started); returns
  // how many it ran.
  size_t work_on(uint32_t generation);
  void run_inline(Task1dTile task, void* context, size_t range, size_t tile);
  // The governor (see run()): adds one parallel op's wall time and the caller-alone estimate to the window;
  // at the window's end decides whether the next ops run inline.
  void judge(double elapsed_s, double caller_alone_s);
  void stop_workers();

  uint32_t threads_ = 1;
  std::vector<pthread_t> workers_;
  // (generation << 32) | next unclaimed chunk. One word, so that a claim (a CAS) also proves the job is
  // still the one whose fields the claimer reads: a job cannot finish while a claimed chunk is running.
  std::atomic<uint64_t> state_{0};
  std::atomic<Task1dTile> task_{nullptr};
  std::atomic<void*> context_{nullptr};
  std::atomic<size_t> range_{0}, tile_{1}, chunks_{0};
  alignas(64) std::atomic<size_t> done_{0};  // chunks of the current job finished
  alignas(64) std::atomic<uint32_t> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  // Caller-only state (one caller at a time): the governor.
  double window_parallel_s_ = 0.0, window_alone_s_ = 0.0;
  std::chrono::steady_clock::time_point window_start_;  // the window's first op began
  double window_cpu_start_s_ = 0.0;                     // process CPU time then
  uint32_t window_ops_ = 0;
  uint32_t inline_ops_left_ = 0;
  uint32_t inline_span_ = kMinInlineSpan;
  static constexpr uint32_t kWindowOps = 16;          // parallel ops judged together, at least,
  static constexpr double kWindowMinSeconds = 0.025;  // over at least this long
  static constexpr uint32_t kMinInlineSpan = 32, kMaxInlineSpan = 4096;
};

Result<Pool*> Pool::create(uint32_t threads) {
  std::unique_ptr<Pool> p(new (std::nothrow) Pool());
  if (!p) return internal_error("out of memory creating a thread pool");
  p->threads_ = threads;
  p->workers_.reserve(threads - 1);
  for (uint32_t i = 0; i + 1 < threads; ++i) {
    pthread_t t;
    const int err = pthread_create(&t, nullptr, &Pool::worker_main, p.get());
    if (err != 0) {
      p->stop_workers();
      return internal_error("cannot start worker thread " + std::to_string(i + 1) + " of " +
                            std::to_string(threads) + ": " + std::strerror(err));
    }
    p->workers_.push_back(t);
  }
  return p.release();
}

Pool::~Pool() {
  stop_workers();
}

void Pool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (pthread_t t : workers_) pthread_join(t, nullptr);
  workers_.clear();
}

void* Pool::worker_main(void* self) {
  static_cast<Pool*>(self)->worker_loop();
  return nullptr;
}

void Pool::worker_loop() {
  uint32_t seen = 0;
  for (;;) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    uint32_t spins = 0;
    uint64_t s;
    while (static_cast<uint32_t>((s = state_.load(std::memory_order_seq_cst)) >> 32) == seen) {
      if (stop_.load(std::memory_order_relaxed)) return;
      cpu_relax();
      if (++spins % 64 == 0 && std::chrono::steady_clock::now() > spin_until) {
        // Sleep. The caller publishes a job (state_) before it reads sleepers_, and we count ourselves in
        // sleepers_ before we read state_ (both sequentially consistent): one of us sees the other.
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] {
          return stop_.load(std::memory_order_relaxed) ||
                 static_cast<uint32_t>(state_.load(std::memory_order_seq_cst) >> 32) != seen;
        });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    seen = static_cast<uint32_t>(s >> 32);
    work_on(seen);
  }
}

size_t Pool::work_on(uint32_t generation) {
  size_t ran = 0;
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<uint32_t>(s >> 32) != generation) return ran;
    const size_t index = static_cast<uint32_t>(s);
    // Read after `s`: this job's value, or a later job's, in which case the CAS below fails.
    if (index >= chunks_.load(std::memory_order_acquire)) return ran;
    if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      continue;
    const size_t tile = tile_.load(std::memory_order_relaxed);
    const size_t start = index * tile;
    const size_t range = range_.load(std::memory_order_relaxed);
    task_.load(std::memory_order_relaxed)(context_.load(std::memory_order_relaxed), start,
                                          range - start < tile ? range - start : tile);
    done_.fetch_add(1, std::memory_order_release);
    ++ran;
    s = state_.load(std::memory_order_acquire);
  }
}

void Pool::run_inline(Task1dTile task, void* context, size_t range, size_t tile) {
  for (size_t start = 0; start < range; start += tile)
    task(context, start, range - start < tile ? range - start : tile);
}

void Pool::judge(double elapsed_s, double caller_alone_s) {
  window_parallel_s_ += elapsed_s;
  window_alone_s_ += caller_alone_s;
  if (++window_ops_ < kWindowOps) return;
  const double window_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start_).count();
  // Long enough for the process CPU clock: Linux adds a running thread's time on other cores at scheduler
  // ticks (4 ms at HZ=250), so over a 2 ms decode window it showed the caller alone (1.00 cores, measured).
  if (window_wall_s < kWindowMinSeconds) return;
  // Cores this process actually ran on over the window, serial work between the ops included. When the
  // scheduler gives the process a fixed share (autogroups, cgroups: the usual desktop and CI set-up) and
  // the machine is busy, that share is all the threads get together: extra threads only spread it thinner
  // (a bandwidth-bound decode spends more CPU per token on 2 threads) and the caller waits on workers that
  // are not running. Seen on the 2-core machine at load 13: windows whose ops "paid" by their own wall time
  // while the process got 0.25-0.55 cores in all; then the caller alone is the safe choice.
  const double cores_used =
      window_wall_s > 0 ? (process_cpu_seconds() - window_cpu_start_s_) / window_wall_s : 0;
  const bool paid = window_parallel_s_ < 0.9 * window_alone_s_ &&
                    cores_used >= 1.0 + 0.25 * static_cast<double>(threads_ - 1);
  window_parallel_s_ = window_alone_s_ = 0.0;
  window_ops_ = 0;
  if (paid) {
    inline_span_ = kMinInlineSpan;
    return;
  }
  inline_ops_left_ = inline_span_;
  inline_span_ = inline_span_ * 2 < kMaxInlineSpan ? inline_span_ * 2 : kMaxInlineSpan;
}

void Pool::run(Task1dTile task, void* context, size_t range, size_t tile) {
  if (range == 0) return;
  if (tile == 0) tile = 1;
  constexpr size_t kMaxChunks = size_t{1} << 31;  // the chunk index lives in 32 bits of state_
  if ((range + tile - 1) / tile > kMaxChunks) tile = (range + kMaxChunks - 1) / kMaxChunks;
  const size_t chunks = (range + tile - 1) / tile;
  if (chunks == 1) {
    task(context, 0, range);
    return;
  }
  // The governor: threads must pay. When the other threads' cores are busy with other processes, a worker
  // can hold a claimed chunk while descheduled and the op ends up slower than on the caller alone (measured:
  // 2 threads at 0.8x of 1 on the 2-core machine at load ~20). Such a stall is rare per op but costs a time
  // slice (milliseconds) against ops of ~0.1 ms, so the judgement is over a window of kWindowOps ops, by
  // time: the ops' wall time against what the caller alone would have taken at its own pace (judged op by
  // op, "4 unpaid in a row", one stalled op among paying ones went unnoticed), and by the cores the process
  // got over the window (judge() says why). A window that did not pay sends the
  // next inline_span_ ops to the caller alone (workers sleep, leaving their cores to whoever needs them),
  // then parallelism is tried again; the span doubles while it keeps not paying. Results do not depend on
  // the split, so neither do they on this choice.
  if (inline_ops_left_ > 0) {
    --inline_ops_left_;
    run_inline(task, context, range, tile);
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (window_ops_ == 0) {
    window_start_ = t0;
    window_cpu_start_s_ = process_cpu_seconds();
  }
  // Close the previous job before its fields change: a worker still in work_on() for it may hold that job's
  // exhausted state (index == its chunk count) and, reading the new chunks_ below, would otherwise claim an
  // index of the new job under the old generation (ThreadSanitizer found it: a chunk run twice and done_
  // counted early). The closed state's index (all ones) is past any job's chunks, and its generation is not
  // the one the job opens with, so workers woken by it wait for the next change.
  const uint32_t closed = static_cast<uint32_t>(state_.load(std::memory_order_relaxed) >> 32) + 1;
  state_.store((uint64_t{closed} << 32) | 0xFFFFFFFFu, std::memory_order_seq_cst);
  const uint32_t generation = closed + 1;
  task_.store(task, std::memory_order_relaxed);
  context_.store(context, std::memory_order_relaxed);
  range_.store(range, std::memory_order_relaxed);
  tile_.store(tile, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  // Release: a worker that reads this chunk count (acquire) also sees the closing store above, so its claim
  // of an old state fails.
  chunks_.store(chunks, std::memory_order_release);
  state_.store(uint64_t{generation} << 32, std::memory_order_seq_cst);  // publishes the fields above
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  const size_t caller_chunks = work_on(generation);
  const auto t1 = std::chrono::steady_clock::now();
  // Only chunks that running workers claimed are left: wait for them, yielding the core to such a worker
  // (it may share it) once the wait is longer than a spin.
  const auto spin_until = std::chrono::steady_clock::now() + kSpin;
  uint32_t spins = 0;
  while (done_.load(std::memory_order_acquire) != chunks) {
    cpu_relax();
    if (++spins % 64 == 0 && std::chrono::steady_clock::now() > spin_until) sched_yield();
  }
  // What the caller alone would have taken at the pace it kept (caller_chunks in t1 - t0; chunks are
  // near-equal); a caller that found no chunk left gives no pace: the op counts as neither gain nor loss.
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double caller = std::chrono::duration<double>(t1 - t0).count();
  judge(elapsed, caller_chunks > 0 ? caller * static_cast<double>(chunks) / static_cast<double>(caller_chunks)
                                   : elapsed);
}

void PoolDeleter::operator()(Pool* p) const {
  delete p;
}

uint32_t available_cores() {
  if (cpuinfo_initialize()) {
    uint32_t n = cpuinfo_get_processors_count();
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? hc : 1;
}

Result<Pool*> create_pool(uint32_t threads, uint32_t* actual_threads) {
  constexpr uint32_t kMaxThreads = 256;
  if (threads > kMaxThreads) {
    return invalid_argument("threads = " + std::to_string(threads) + " exceeds the limit of " +
                            std::to_string(kMaxThreads));
  }
  uint32_t n = threads == 0 ? available_cores() : threads;
  *actual_threads = n;
  if (n == 1) return static_cast<Pool*>(nullptr);
  return Pool::create(n);
}

uint32_t pool_threads(const Pool* pool) {
  return pool != nullptr ? pool->threads() : 1;
}

namespace {
struct IndexJob {
  Task1d task;
  void* context;
};
void run_indices(void* job, size_t start, size_t count) {
  const IndexJob* j = static_cast<const IndexJob*>(job);
  for (size_t i = start; i < start + count; ++i) j->task(j->context, i);
}
}  // namespace

void parallelize_1d(Pool* pool, Task1d task, void* context, size_t range) {
  if (pool == nullptr) {
    for (size_t i = 0; i < range; ++i) task(context, i);
    return;
  }
  IndexJob job{task, context};
  pool->run(run_indices, &job, range, 1);
}

void parallelize_1d_tile_1d(Pool* pool, Task1dTile task, void* context, size_t range, size_t tile) {
  if (pool == nullptr) {
    if (tile == 0) tile = 1;
    for (size_t start = 0; start < range; start += tile)
      task(context, start, range - start < tile ? range - start : tile);
    return;
  }
  pool->run(task, context, range, tile);
}

}  // namespace ordinal::threads
