// ordinal-bandwidth: the machine's read bandwidth, the ceiling of weight-streaming decode (a model larger
// than the caches reads every weight once per token, so tokens/s x weight bytes/token <= this figure).
//   ordinal-bandwidth [--mib N] [--threads LIST] [--repeat R] [--json FILE]
// Sums a buffer of N MiB (default 512, far larger than any cache) with 1..T threads, each over its own
// contiguous slice, and reports the best of R passes per thread count in GB/s (10^9 bytes/s). The sum is
// 64-bit integer adds on 16-byte vectors with four independent accumulators: enough loads in flight to
// saturate a core's memory path with the baseline ISA (SSE2 / NEON), without needing a newer one.
// Also per CPU second (bytes over the slowest thread's CPU time in its pass): on a loaded machine the wall
// clock counts other processes' time slices; this is the figure to divide `ordinal bench`'s tok/cpu-s by
// (with more threads than free cores it overstates, as the threads may not have run at the same time).
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

typedef uint64_t u64x2 __attribute__((vector_size(16)));

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

uint64_t sum_slice(const u64x2* p, size_t n) {
  u64x2 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
  }
  for (; i < n; ++i) a0 += p[i];
  const u64x2 s = (a0 + a1) + (a2 + a3);
  return s[0] + s[1];
}

int usage() {
  std::fprintf(stderr, "usage: ordinal-bandwidth [--mib N] [--threads LIST] [--repeat R] [--json FILE]\n");
  return 2;
}

bool parse_uint(const char* s, long lo, long hi, long* out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long mib = 512, repeat = 5;
  std::vector<long> threads;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const char* v = argv[++i];
    if (a == "--mib") {
      if (!parse_uint(v, 1, 1 << 16, &mib)) return usage();
    } else if (a == "--repeat") {
      if (!parse_uint(v, 1, 1000, &repeat)) return usage();
    } else if (a == "--json") {
      json_path = v;
    } else if (a == "--threads") {
      std::string list = v;
      size_t start = 0;
      while (start <= list.size()) {
        const size_t end = list.find(',', start);
        long t;
        if (!parse_uint(list.substr(start, end - start).c_str(), 1, 256, &t)) return usage();
        threads.push_back(t);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else {
      return usage();
    }
  }
  if (threads.empty()) {
    threads.push_back(1);
    const long cores = static_cast<long>(std::thread::hardware_concurrency());
    if (cores > 1) threads.push_back(cores);
  }
  const size_t bytes = static_cast<size_t>(mib) << 20;
  const size_t vectors = bytes / sizeof(u64x2);
  u64x2* buf = static_cast<u64x2*>(std::aligned_alloc(64, bytes));
  if (!buf) {
    std::fprintf(stderr, "ordinal-bandwidth: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  std::memset(buf, 1, bytes);  // fault every page in before timing
  uint64_t checksum = 0;
  std::string json =
      "{\"schema\": \"ordinal-bandwidth-1\", \"buffer_bytes\": " + std::to_string(bytes) + ", \"runs\": [";
  for (size_t ti = 0; ti < threads.size(); ++ti) {
    const long nt = threads[ti];
    double best = 0.0, best_cpu = 0.0;
    for (long r = 0; r < repeat; ++r) {
      std::vector<uint64_t> sums(static_cast<size_t>(nt), 0);
      std::vector<double> cpu(static_cast<size_t>(nt), 0.0);
      std::atomic<long> ready{0};
      std::atomic<bool> go{false};
      std::vector<std::thread> pool;
      for (long t = 0; t < nt; ++t) {
        pool.emplace_back([&, t] {
          const size_t begin = vectors * static_cast<size_t>(t) / static_cast<size_t>(nt);
          const size_t end = vectors * static_cast<size_t>(t + 1) / static_cast<size_t>(nt);
          ready.fetch_add(1);
          while (!go.load(std::memory_order_acquire)) {
          }
          const double c0 = thread_cpu_seconds();
          sums[static_cast<size_t>(t)] = sum_slice(buf + begin, end - begin);
          cpu[static_cast<size_t>(t)] = thread_cpu_seconds() - c0;
        });
      }
      while (ready.load() < nt) {
      }
      const auto t0 = std::chrono::steady_clock::now();
      go.store(true, std::memory_order_release);
      for (std::thread& th : pool) th.join();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (uint64_t s : sums) checksum += s;
      best = std::max(best, static_cast<double>(bytes) / secs / 1e9);
      const double slowest = *std::max_element(cpu.begin(), cpu.end());
      if (slowest > 0) best_cpu = std::max(best_cpu, static_cast<double>(bytes) / slowest / 1e9);
    }
    std::printf(
        "read bandwidth, %ld thread%s: %.2f GB/s wall, %.2f GB per CPU-second (best of %ld passes over "
        "%ld MiB)\n",
        nt, nt > 1 ? "s" : "", best, best_cpu, repeat, mib);
    json += std::string(ti ? ", " : "") + "{\"threads\": " + std::to_string(nt) +
            ", \"read_gb_per_s\": " + std::to_string(best) +
            ", \"read_gb_per_cpu_s\": " + std::to_string(best_cpu) + "}";
  }
  json += "]}\n";
  std::free(buf);
  if (checksum == 42) std::printf("(checksum %llu)\n", static_cast<unsigned long long>(checksum));
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f || std::fputs(json.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "ordinal-bandwidth: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return 0;
}
