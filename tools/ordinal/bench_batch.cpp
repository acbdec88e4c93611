#include "ordinal/bench_batch.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ordinal/args.hpp"
#include "ordinal/batch.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/sampler.hpp"

namespace ordinal::cli {

namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t) {
  return std::chrono::duration<double>(clock::now() - t).count();
}

double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// The best of the repeats: on a shared machine other processes only ever slow a run down, so the fastest
// repeat is the closest to what the code does on an idle one.
double best(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
}

struct Measure {
  double decode_tps = 0, decode_cpu_tps = 0;  // aggregate over the sequences
  double token_latency_ms = 0;                // mean wall time between a sequence's decoded tokens
  double completion_ms = 0;                   // mean time from the start until a sequence's last token
  double prefill_ms = 0;                      // all prompts
  uint64_t checksum = 0;  // sum over sequences of a hash of its tokens: both modes must agree
};

// Prompt of sequence i: distinct tokens per sequence.
std::vector<int32_t> prompt_of(size_t i, int64_t n, uint32_t vocab) {
  std::vector<int32_t> p(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k)
    p[static_cast<size_t>(k)] = static_cast<int32_t>((k * 7919 + 3 + i * 104729) % vocab);
  return p;
}

Result<Measure> run_sequential(const BenchVariant& v, uint32_t threads, const BatchBenchSettings& s,
                               int64_t prompt_n, int64_t decode_n) {
  const uint32_t vocab = v.model->config().vocab_size;
  SessionOptions so;
  so.threads = threads;
  so.kv_cache = v.kv;
  so.memory_budget = host_memory_budget();
  Measure m;
  double decode_secs = 0, decode_cpu = 0, completion = 0;
  const auto start = clock::now();
  for (int64_t i = 0; i < s.sequences; ++i) {
    ORDINAL_ASSIGN_OR_RETURN(std::unique_ptr<Session> sess, Session::create(v.model, so));
    const std::vector<int32_t> prompt = prompt_of(static_cast<size_t>(i), prompt_n, vocab);
    const auto p0 = clock::now();
    ORDINAL_RETURN_IF_ERROR(sess->prefill(prompt.data(), prompt.size()));
    m.prefill_ms += seconds_since(p0) * 1e3;
    int32_t tok = Sampler::argmax(sess->logits(), vocab);
    uint64_t sum = 0;
    const auto t0 = clock::now();
    const double c0 = process_cpu_seconds();
    for (int64_t k = 0; k < decode_n; ++k) {
      sum = sum * 1000003u + static_cast<uint64_t>(tok);
      ORDINAL_RETURN_IF_ERROR(sess->decode(tok));
      tok = Sampler::argmax(sess->logits(), vocab);
    }
    decode_secs += seconds_since(t0);
    m.checksum += sum;
    decode_cpu += process_cpu_seconds() - c0;
    completion += seconds_since(start) * 1e3;
  }
  const double tokens = static_cast<double>(decode_n * s.sequences);
  m.decode_tps = decode_secs > 0 ? tokens / decode_secs : 0;
  m.decode_cpu_tps = decode_cpu > 0 ? tokens / decode_cpu : 0;
  m.token_latency_ms = decode_n > 0 ? 1e3 * decode_secs / tokens : 0;
  m.completion_ms = completion / static_cast<double>(s.sequences);
  return m;
}

Result<Measure> run_batched(const BenchVariant& v, uint32_t threads, const BatchBenchSettings& s,
                            int64_t prompt_n, int64_t decode_n) {
  const uint32_t vocab = v.model->config().vocab_size;
  const size_t n = static_cast<size_t>(s.sequences);
  BatchOptions bo;
  bo.threads = threads;
  bo.kv_cache = v.kv;
  bo.memory_budget = host_memory_budget();
  bo.max_sequences = static_cast<uint32_t>(n);
  bo.max_batch_tokens = static_cast<uint32_t>(std::min<int64_t>(512, prompt_n * s.sequences));
  bo.max_batch_tokens = std::max<uint32_t>(bo.max_batch_tokens, static_cast<uint32_t>(n));
  bo.max_outputs = static_cast<uint32_t>(n);
  ORDINAL_ASSIGN_OR_RETURN(std::unique_ptr<BatchSession> b, BatchSession::create(v.model, bo));
  std::vector<int32_t> ids(n), tokens, seqs;
  for (size_t i = 0; i < n; ++i) {
    ORDINAL_ASSIGN_OR_RETURN(ids[i], b->open_sequence(0));
  }
  Measure m;
  const auto start = clock::now();
  // Prefill every prompt, in calls of at most max_batch_tokens.
  auto flush = [&]() -> Status {
    Batch bt;
    bt.tokens = tokens.data();
    bt.sequences = seqs.data();
    bt.count = tokens.size();
    Status st = tokens.empty() ? Status::Ok() : b->forward(bt);
    tokens.clear();
    seqs.clear();
    return st;
  };
  for (size_t i = 0; i < n; ++i) {
    for (int32_t t : prompt_of(i, prompt_n, vocab)) {
      tokens.push_back(t);
      seqs.push_back(ids[i]);
      if (tokens.size() == bo.max_batch_tokens) ORDINAL_RETURN_IF_ERROR(flush());
    }
  }
  ORDINAL_RETURN_IF_ERROR(flush());
  m.prefill_ms = seconds_since(start) * 1e3;
  std::vector<int32_t> next(n);
  for (size_t i = 0; i < n; ++i) next[i] = Sampler::argmax(b->sequence_logits(ids[i]), vocab);
  std::vector<uint64_t> sums(n, 0);
  const auto t0 = clock::now();
  const double c0 = process_cpu_seconds();
  for (int64_t k = 0; k < decode_n; ++k) {
    for (size_t i = 0; i < n; ++i) {
      sums[i] = sums[i] * 1000003u + static_cast<uint64_t>(next[i]);
      tokens.push_back(next[i]);
      seqs.push_back(ids[i]);
    }
    ORDINAL_RETURN_IF_ERROR(flush());
    for (size_t i = 0; i < n; ++i) next[i] = Sampler::argmax(b->logits(i), vocab);
  }
  const double secs = seconds_since(t0), cpu = process_cpu_seconds() - c0;
  const double total_ms = seconds_since(start) * 1e3;
  for (size_t i = 0; i < n; ++i) m.checksum += sums[i];
  const double tokens_total = static_cast<double>(decode_n) * static_cast<double>(n);
  m.decode_tps = secs > 0 ? tokens_total / secs : 0;
  m.decode_cpu_tps = cpu > 0 ? tokens_total / cpu : 0;
  m.token_latency_ms = decode_n > 0 ? 1e3 * secs / static_cast<double>(decode_n) : 0;
  m.completion_ms = total_ms;  // every sequence finishes with the last step
  return m;
}

}  // namespace

int bench_batch(const std::string& name, const std::vector<BenchVariant>& variants,
                const std::vector<int64_t>& threads, const BatchBenchSettings& s, void* json_runs) {
  nlohmann::json& runs = *static_cast<nlohmann::json*>(json_runs);
  std::printf("%-24s %-7s %-4s %4s %4s %-10s %12s %12s %12s %13s %14s %11s\n", "model", "weights", "kv",
              "thr", "seqs", "mode", "decode tok/s", "best tok/s", "tok/cpu-s", "ms/token/seq",
              "completion ms", "prefill ms");
  for (const BenchVariant& v : variants) {
    const ModelConfig& c = v.model->config();
    const int64_t ctx = c.max_positions;
    const int64_t prompt_n = std::max<int64_t>(1, std::min<int64_t>(s.prompt_tokens, ctx - 1));
    const int64_t decode_n = std::min<int64_t>(s.steps, ctx - prompt_n);
    for (int64_t nt : threads) {
      std::vector<double> seq_tps, seq_cpu, seq_lat, seq_done, seq_pre, bat_tps, bat_cpu, bat_lat, bat_done,
          bat_pre;
      for (int64_t r = 0; r < s.repeat; ++r) {
        // Interleaved, so background load hits both modes alike.
        auto a = run_sequential(v, static_cast<uint32_t>(nt), s, prompt_n, decode_n);
        auto b = run_batched(v, static_cast<uint32_t>(nt), s, prompt_n, decode_n);
        if (!a.ok() || !b.ok()) {
          std::fprintf(stderr, "ordinal bench: %s\n",
                       printable((a.ok() ? b.status() : a.status()).to_string()).c_str());
          return kExitFailed;
        }
        if (a.value().checksum != b.value().checksum) {
          std::fprintf(stderr, "ordinal bench: batched and sequential runs generated different tokens\n");
          return kExitFailed;
        }
        seq_tps.push_back(a.value().decode_tps);
        seq_cpu.push_back(a.value().decode_cpu_tps);
        seq_lat.push_back(a.value().token_latency_ms);
        seq_done.push_back(a.value().completion_ms);
        seq_pre.push_back(a.value().prefill_ms);
        bat_tps.push_back(b.value().decode_tps);
        bat_cpu.push_back(b.value().decode_cpu_tps);
        bat_lat.push_back(b.value().token_latency_ms);
        bat_done.push_back(b.value().completion_ms);
        bat_pre.push_back(b.value().prefill_ms);
      }
      auto row = [&](const char* mode, const std::vector<double>& tps, const std::vector<double>& cpu,
                     const std::vector<double>& lat, const std::vector<double>& done,
                     const std::vector<double>& pre) {
        std::printf("%-24s %-7s %-4s %4lld %4lld %-10s %12.1f %12.1f %12.1f %13.4f %14.2f %11.2f\n",
                    name.c_str(), v.weights.c_str(), kv_cache_type_name(v.kv), static_cast<long long>(nt),
                    static_cast<long long>(s.sequences), mode, median(tps), best(tps), median(cpu),
                    median(lat), median(done), median(pre));
        runs.push_back({{"model", name},
                        {"weights", v.weights},
                        {"kv_cache", kv_cache_type_name(v.kv)},
                        {"threads", nt},
                        {"sequences", s.sequences},
                        {"mode", mode},
                        {"prompt_tokens", prompt_n},
                        {"decode_tokens", decode_n},
                        {"aggregate_decode_tokens_per_s", median(tps)},
                        {"aggregate_decode_tokens_per_s_best", best(tps)},
                        {"aggregate_decode_tokens_per_cpu_s", median(cpu)},
                        {"per_sequence_ms_per_token", median(lat)},
                        {"per_sequence_completion_ms", median(done)},
                        {"prefill_ms", median(pre)}});
      };
      row("sequential", seq_tps, seq_cpu, seq_lat, seq_done, seq_pre);
      row("batched", bat_tps, bat_cpu, bat_lat, bat_done, bat_pre);
      const double x = median(seq_tps) > 0 ? median(bat_tps) / median(seq_tps) : 0.0;
      const double xc = median(seq_cpu) > 0 ? median(bat_cpu) / median(seq_cpu) : 0.0;
      const double xb = best(seq_tps) > 0 ? best(bat_tps) / best(seq_tps) : 0.0;
      std::printf(
          "  batched vs sequential, %lld seqs, %lld thr: aggregate decode x%.2f median, x%.2f best of %lld "
          "(x%.2f per CPU-s)\n",
          static_cast<long long>(s.sequences), static_cast<long long>(nt), x, xb,
          static_cast<long long>(s.repeat), xc);
    }
  }
  return kExitOk;
}

}  // namespace ordinal::cli
