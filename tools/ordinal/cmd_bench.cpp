// ordinal bench MODEL... [--threads LIST] [--weights LIST] [--kv LIST] [--steps N] [--prompt-tokens N]
//                       [--prefill-chunk N] [--repeat R] [--json FILE] [--batch N]
// Measures, per model, weight format, KV cache type and thread count, in one run: load time, time to first
// token (prefill of a fixed prompt), decode tokens/s, weight bytes the kernels read per decoded token,
// session and KV cache bytes, and the process's peak RSS. Weight formats are converted in memory from the
// one file; repeats interleave the variants so background load hits them alike. Figures are for comparing
// ratios within a run, not absolute claims.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model_data.hpp"
#include "ordinal/args.hpp"
#include "ordinal/bench_batch.hpp"
#include "ordinal/bench_variants.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"

namespace ordinal::cli {

namespace {
const char* kUsage =
    "usage: ordinal bench MODEL... [options]\n"
    "  --threads LIST        comma-separated thread counts in [1, 256], each clamped to the cores\n"
    "                        (default 1,<cores>)\n"
    "  --weights LIST        weight formats to compare, converted in memory: f32,f16,int8,int8-g32,int4,\n"
    "                        int4-g64,int4-g32-zp (default: as "
    "stored)\n"
    "  --kv LIST             KV cache types to compare: f32,int8 (default f32)\n"
    "  --steps N             decode steps per measurement (default 128)\n"
    "  --prompt-tokens N     prompt length for time-to-first-token (default 32)\n"
    "  --prefill-chunk N     tokens per batched forward in prefill (default: SessionOptions', 64)\n"
    "  --repeat R            measurements per configuration; the median is reported (default 3)\n"
    "  --json FILE           write every figure as JSON (compare runs with tools/bench-compare)\n"
    "  --batch N             N sequences decoded together in one batch vs one after another: aggregate\n"
    "                        decode tokens/s and per-sequence latency (N in [1, 4096])\n";

using clock = std::chrono::steady_clock;
double seconds_since(clock::time_point t) {
  return std::chrono::duration<double>(clock::now() - t).count();
}

// CPU seconds of the whole process (all threads): on a shared, loaded machine the wall clock counts other
// processes' time slices, the CPU clock only this one's work.
double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

long peak_rss_kb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

bool parse_list(const std::string& s, std::vector<int64_t>* out) {
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    int64_t v;
    if (!parse_int(item, 1, 256, &v)) return false;
    out->push_back(v);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return !out->empty();
}
}  // namespace

static int write_json(const std::string& path, const nlohmann::json& out) {
  if (path.empty()) return kExitOk;
  std::ofstream f(path);
  f << out.dump(2) << "\n";
  if (!f) {
    std::fprintf(stderr, "ordinal bench: cannot write %s\n", path.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

int cmd_bench(int argc, char** argv) {
  Args args(argc, argv, 1);
  std::vector<std::string> models;
  std::vector<int64_t> threads;
  int64_t steps = 128, prompt_tokens = 32, repeat = 3, batch = 0;
  int64_t prefill_chunk = SessionOptions().prefill_chunk;
  std::string json_path;
  std::vector<std::string> weights;
  std::vector<KvCacheType> kvs = {KvCacheType::kF32};
  while (!args.empty()) {
    std::string a = args.take(), v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--threads") {
      if (!args.value(a, &v) || !parse_list(v, &threads))
        return usage_error("bench", "--threads needs a list of integers in [1, 256]", kUsage);
    } else if (a == "--weights" || a == "--kv") {
      if (!args.value(a, &v)) return usage_error("bench", args.error, kUsage);
      auto list =
          a == "--weights"
              ? parse_choice_list(v, {"f32", "f16", "int8", "int8-g32", "int4", "int4-g64", "int4-g32-zp"}, a)
              : parse_choice_list(v, {"f32", "int8"}, a);
      if (!list.ok()) return usage_error("bench", list.status().message(), kUsage);
      if (a == "--weights") {
        weights = list.value();
      } else {
        kvs.clear();
        for (const std::string& k : list.value())
          kvs.push_back(k == "int8" ? KvCacheType::kInt8 : KvCacheType::kF32);
      }
    } else if (a == "--steps") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 20, &steps))
        return usage_error("bench", "--steps needs an integer >= 1", kUsage);
    } else if (a == "--prompt-tokens") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 20, &prompt_tokens)) {
        return usage_error("bench", "--prompt-tokens needs an integer >= 1", kUsage);
      }
    } else if (a == "--prefill-chunk") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 16, &prefill_chunk)) {
        return usage_error("bench", "--prefill-chunk needs an integer in [1, 65536]", kUsage);
      }
    } else if (a == "--repeat") {
      if (!args.value(a, &v) || !parse_int(v, 1, 100, &repeat))
        return usage_error("bench", "--repeat needs an integer in [1, 100]", kUsage);
    } else if (a == "--batch") {
      if (!args.value(a, &v) || !parse_int(v, 1, 4096, &batch))
        return usage_error("bench", "--batch needs an integer in [1, 4096]", kUsage);
    } else if (a == "--json") {
      if (!args.value(a, &json_path)) return usage_error("bench", args.error, kUsage);
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("bench", "unknown option " + a, kUsage);
    } else {
      models.push_back(a);
    }
  }
  if (models.empty()) return usage_error("bench", "missing MODEL", kUsage);
  const bool default_threads = threads.empty();
  if (default_threads) threads.push_back(1);
  for (int64_t& t : threads) t = clamp_threads(t, "bench");
  threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
  nlohmann::json out;
  out["schema"] = "ordinal-bench-1";
  out["runs"] = nlohmann::json::array();
  if (batch > 0) {
    BatchBenchSettings bs;
    bs.sequences = batch;
    bs.steps = steps;
    bs.prompt_tokens = prompt_tokens;
    bs.repeat = repeat;
    if (default_threads && host_cores() > 1) threads.push_back(clamp_threads(host_cores(), "bench"));
    for (const std::string& path : models) {
      auto made = make_bench_variants(path, weights, kvs);
      if (!made.ok()) {
        std::fprintf(stderr, "ordinal bench: %s: %s\n", path.c_str(),
                     printable(made.status().to_string()).c_str());
        return made.status().code() == ErrorCode::kInternal ? kExitFailed : kExitUsage;
      }
      const int rc =
          bench_batch(path.substr(path.find_last_of('/') + 1), made.value(), threads, bs, &out["runs"]);
      if (rc != kExitOk) return rc;
    }
    return write_json(json_path, out);
  }
  std::printf("%-24s %-7s %-4s %4s %9s %9s %12s %13s %12s %10s %10s %12s %9s\n", "model", "weights", "kv",
              "thr", "load ms", "ttft ms", "decode tok/s", "weights B/tok", "session B", "kv B", "rss KiB",
              "tok/cpu-s", "create ms");
  for (const std::string& path : models) {
    auto made = make_bench_variants(path, weights, kvs);
    if (!made.ok()) {
      std::fprintf(stderr, "ordinal bench: %s: %s\n", path.c_str(),
                   printable(made.status().to_string()).c_str());
      return made.status().code() == ErrorCode::kInternal ? kExitFailed : kExitUsage;
    }
    const std::vector<BenchVariant>& variants = made.value();
    const std::shared_ptr<const Model>& first = variants.front().model;
    const ModelConfig& c = first->config();
    const int64_t ctx = c.max_positions;
    // At least one prompt token (a 1-position model has room for nothing else); decode fills the rest.
    const int64_t prompt_n = std::max<int64_t>(1, std::min<int64_t>(prompt_tokens, ctx - 1));
    const int64_t decode_n = std::min<int64_t>(steps, ctx - prompt_n);
    std::vector<int32_t> prompt(static_cast<size_t>(prompt_n));
    for (int64_t i = 0; i < prompt_n; ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 3) % c.vocab_size);
    std::vector<int64_t> thread_list = threads;
    if (default_threads) {
      // Default: 1 and all cores (as cpuinfo reports them).
      SessionOptions so;
      auto s = Session::create(first, so);
      if (s.ok() && s.value()->threads() > 1) thread_list.push_back(s.value()->threads());
    }
    const std::string name = path.substr(path.find_last_of('/') + 1);
    for (int64_t nt : thread_list) {
      struct Figures {
        std::vector<double> ttft, tps, cpu_tps, create_ms, prefill_cpu_tps;
        size_t session_bytes = 0, kv_bytes = 0, weight_bytes = 0;
      };
      std::vector<Figures> fig(variants.size());
      for (int64_t r = 0; r < repeat; ++r) {
        for (size_t vi = 0; vi < variants.size(); ++vi) {
          SessionOptions so;
          so.threads = static_cast<uint32_t>(nt);
          so.kv_cache = variants[vi].kv;
          so.prefill_chunk = static_cast<uint32_t>(prefill_chunk);
          so.memory_budget = host_memory_budget();
          const auto t0 = clock::now();
          auto s = Session::create(variants[vi].model, so);
          const double create_ms = seconds_since(t0) * 1e3;
          if (!s.ok()) {
            std::fprintf(stderr, "ordinal bench: %s\n", printable(s.status().to_string()).c_str());
            return kExitFailed;
          }
          Figures& f = fig[vi];
          f.create_ms.push_back(create_ms);
          f.session_bytes = s.value()->memory_bytes();
          f.kv_bytes = s.value()->kv_cache_bytes();
          f.weight_bytes = s.value()->weight_bytes_per_token();
          auto t1 = clock::now();
          const double c1 = process_cpu_seconds();
          Status st = s.value()->prefill(prompt.data(), prompt.size());
          f.ttft.push_back(seconds_since(t1) * 1e3);
          const double prefill_cpu = process_cpu_seconds() - c1;
          f.prefill_cpu_tps.push_back(prefill_cpu > 0 ? static_cast<double>(prompt_n) / prefill_cpu : 0.0);
          int32_t tok = Sampler::argmax(s.value()->logits(), c.vocab_size);
          auto t2 = clock::now();
          const double c2 = process_cpu_seconds();
          for (int64_t i = 0; i < decode_n && st.ok(); ++i) {
            st = s.value()->decode(tok);
            tok = Sampler::argmax(s.value()->logits(), c.vocab_size);
          }
          const double secs = seconds_since(t2);
          const double cpu_secs = process_cpu_seconds() - c2;
          if (!st.ok()) {
            std::fprintf(stderr, "ordinal bench: %s\n", printable(st.to_string()).c_str());
            return kExitFailed;
          }
          f.tps.push_back(secs > 0 ? static_cast<double>(decode_n) / secs : 0.0);
          f.cpu_tps.push_back(cpu_secs > 0 ? static_cast<double>(decode_n) / cpu_secs : 0.0);
        }
      }
      for (size_t vi = 0; vi < variants.size(); ++vi) {
        const BenchVariant& v = variants[vi];
        const Figures& f = fig[vi];
        std::printf("%-24s %-7s %-4s %4lld %9.2f %9.3f %12.1f %13zu %12zu %10zu %10ld %12.1f %9.3f\n",
                    name.c_str(), v.weights.c_str(), kv_cache_type_name(v.kv), static_cast<long long>(nt),
                    v.load_ms, median(f.ttft), median(f.tps), f.weight_bytes, f.session_bytes, f.kv_bytes,
                    peak_rss_kb(), median(f.cpu_tps), median(f.create_ms));
        out["runs"].push_back(
            {{"model", name},
             {"path", path},
             {"weights", v.weights},
             {"kv_cache", kv_cache_type_name(v.kv)},
             {"threads", nt},
             {"load_ms", v.load_ms},
             {"ttft_ms", median(f.ttft)},
             {"prompt_tokens", prompt_n},
             {"prefill_chunk", prefill_chunk},
             {"decode_tokens", decode_n},
             {"decode_tokens_per_s", median(f.tps)},
             {"decode_tokens_per_cpu_s", median(f.cpu_tps)},
             {"prefill_tokens_per_s", median(f.ttft) > 0 ? 1e3 * prompt_n / median(f.ttft) : 0.0},
             {"prefill_tokens_per_cpu_s", median(f.prefill_cpu_tps)},
             {"session_create_ms", median(f.create_ms)},
             {"decode_weight_gb_per_s", 1e-9 * median(f.tps) * f.weight_bytes},
             {"weight_bytes_per_token", f.weight_bytes},
             {"session_bytes", f.session_bytes},
             {"kv_cache_bytes", f.kv_bytes},
             {"file_bytes", v.model->file_bytes()},
             {"peak_rss_kib", peak_rss_kb()}});
      }
      // Ratios against the first variant of the group (decode speed up is better; bytes down is better).
      for (size_t vi = 1; vi < variants.size(); ++vi) {
        const Figures& a = fig[0];
        const Figures& b = fig[vi];
        auto ratio = [](double x, double y) { return y > 0 ? x / y : 0.0; };
        std::printf(
            "  %s/%s vs %s/%s, %lld thr: decode x%.2f, weight bytes/token x%.2f smaller, kv bytes x%.2f "
            "smaller, session bytes x%.2f smaller\n",
            variants[vi].weights.c_str(), kv_cache_type_name(variants[vi].kv), variants[0].weights.c_str(),
            kv_cache_type_name(variants[0].kv), static_cast<long long>(nt),
            ratio(median(b.tps), median(a.tps)),
            ratio(static_cast<double>(a.weight_bytes), static_cast<double>(b.weight_bytes)),
            ratio(static_cast<double>(a.kv_bytes), static_cast<double>(b.kv_bytes)),
            ratio(static_cast<double>(a.session_bytes), static_cast<double>(b.session_bytes)));
      }
    }
  }
  return write_json(json_path, out);
}

}  // namespace ordinal::cli
