// ordinal run MODEL [-p PROMPT | --batch FILE] [-n STEPS] [-t TEMP] [--top-p P] [--seed S] [--threads N]
// Prints exactly what llama2.c run.c prints on stdout (BOS first, leading-space rule, stop on BOS),
// then "achieved tok/s" on stderr as run.c does, so the two can be compared byte for byte.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/run_batch.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "ordinal/stats_text.hpp"

namespace ordinal::cli {

namespace {
const char* kUsage =
    "usage: ordinal run MODEL [options]\n"
    "  -p, --prompt TEXT   prompt (default: empty; BOS is always fed first)\n"
    "  -n, --steps N       positions to run, prompt included; 0 = the model's context (default 256)\n"
    "  -t, --temperature T 0 = greedy; below 1e-4 also greedy (default 1.0)\n"
    "      --top-p P       nucleus sampling in [0,1]; 0 or 1 disables (default 0.9)\n"
    "      --seed S        RNG seed > 0 (default 42)\n"
    "      --threads N     worker threads in [1, 256], clamped to the cores (default: one per core)\n"
    "      --kv f32|int8   KV cache type (default f32)\n"
    "      --shift N       when the cache is full, drop N tokens after BOS and go on (context shift);\n"
    "                      then -n may exceed the context\n"
    "      --stats         print the session's telemetry on stderr at the end (tokens, time to first\n"
    "                      token, decode latency p50/p95/p99, memory, positions, errors)\n"
    "      --batch FILE    one prompt per line, all run together in one batch; prints each prompt's\n"
    "                      output in input order (each as -p PROMPT prints it), one empty line between\n";

void print_piece(std::string_view piece) {
  if (!Tokenizer::is_printable_piece(piece)) return;
  // run.c's rule drops single unprintable bytes; a longer piece from a hostile tokenizer could still carry
  // an escape sequence, so its control bytes are escaped too (text and UTF-8 pass unchanged).
  const std::string safe = printable_generated(piece);
  std::fwrite(safe.data(), 1, safe.size(), stdout);
}
}  // namespace

int cmd_run(int argc, char** argv) {
  Args args(argc, argv, 1);
  std::string model_path, prompt, batch_file;
  bool have_prompt = false;
  int64_t steps = 256, seed = 42, threads = 0, shift = 0;
  KvCacheType kv = KvCacheType::kF32;
  bool print_stats = false;
  double temperature = 1.0, top_p = 0.9;
  while (!args.empty()) {
    std::string a = args.take(), v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "-p" || a == "--prompt") {
      if (!args.value(a, &prompt)) return usage_error("run", args.error, kUsage);
      have_prompt = true;
    } else if (a == "--batch") {
      if (!args.value(a, &batch_file)) return usage_error("run", args.error, kUsage);
    } else if (a == "-n" || a == "--steps") {
      if (!args.value(a, &v) || !parse_int(v, 0, INT32_MAX, &steps)) {
        return usage_error("run", a + " needs an integer >= 0", kUsage);
      }
    } else if (a == "-t" || a == "--temperature") {
      if (!args.value(a, &v) || !parse_float(v, 0.0, 1e6, &temperature)) {
        return usage_error("run", a + " needs a finite number >= 0", kUsage);
      }
    } else if (a == "--top-p") {
      if (!args.value(a, &v) || !parse_float(v, 0.0, 1.0, &top_p)) {
        return usage_error("run", "--top-p needs a number in [0, 1]", kUsage);
      }
    } else if (a == "--seed") {
      if (!args.value(a, &v) || !parse_int(v, 1, INT64_MAX, &seed)) {
        return usage_error("run", "--seed needs an integer > 0", kUsage);
      }
    } else if (a == "--threads") {
      if (!args.value(a, &v) || !parse_int(v, 1, 256, &threads)) {
        return usage_error("run", "--threads needs an integer in [1, 256]", kUsage);
      }
    } else if (a == "--kv") {
      if (!args.value(a, &v) || (v != "f32" && v != "int8"))
        return usage_error("run", "--kv needs f32 or int8", kUsage);
      kv = v == "int8" ? KvCacheType::kInt8 : KvCacheType::kF32;
    } else if (a == "--shift") {
      if (!args.value(a, &v) || !parse_int(v, 1, INT32_MAX, &shift)) {
        return usage_error("run", "--shift needs an integer >= 1", kUsage);
      }
    } else if (a == "--stats") {
      print_stats = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("run", "unknown option " + a, kUsage);
    } else if (model_path.empty()) {
      model_path = a;
    } else {
      return usage_error("run", "unexpected argument " + a, kUsage);
    }
  }
  if (model_path.empty()) return usage_error("run", "missing MODEL", kUsage);
  if (have_prompt && !batch_file.empty())
    return usage_error("run", "-p and --batch exclude each other", kUsage);
  // Telemetry counters belong to a single-sequence Session; a batch session has none yet.
  if (print_stats && !batch_file.empty())
    return usage_error("run", "--stats is not available with --batch", kUsage);
  std::vector<std::string> batch_prompts;
  if (!batch_file.empty() && !read_prompt_lines(batch_file, &batch_prompts)) {
    std::fprintf(stderr, "ordinal run: cannot read --batch file %s\n", printable(batch_file).c_str());
    return kExitUsage;
  }

  auto model = Model::load(model_path);
  if (!model.ok()) {
    std::fprintf(stderr, "ordinal run: %s\n", printable(model.status().to_string()).c_str());
    return kExitUsage;
  }
  if (!batch_file.empty()) {
    RunFlags flags;
    flags.steps = steps;
    flags.seed = seed;
    flags.shift = shift;
    flags.threads = clamp_threads(threads, "run");
    flags.kv = kv;
    flags.temperature = temperature;
    flags.top_p = top_p;
    return run_batch(model.value(), batch_prompts, flags);
  }
  const ModelConfig& cfg = model.value()->config();
  if (steps == 0 || (steps > cfg.max_positions && shift == 0)) steps = cfg.max_positions;  // as run.c
  SessionOptions so;
  so.threads = clamp_threads(threads, "run");
  so.memory_budget = host_memory_budget();
  so.kv_cache = kv;
  auto session = Session::create(model.value(), so);
  if (!session.ok()) {
    std::fprintf(stderr, "ordinal run: %s\n", printable(session.status().to_string()).c_str());
    return kExitFailed;
  }
  auto sampler = Sampler::create(cfg.vocab_size, static_cast<float>(temperature), static_cast<float>(top_p),
                                 static_cast<uint64_t>(seed));
  if (!sampler.ok()) return usage_error("run", sampler.status().message(), kUsage);
  const Tokenizer& tok = model.value()->tokenizer();
  std::vector<int32_t> prompt_tokens;
  Status st = tok.encode(prompt, /*bos=*/true, /*eos=*/false, &prompt_tokens);
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal run: %s\n", printable(st.to_string()).c_str());
    return kExitFailed;
  }
  const int64_t n_prompt = static_cast<int64_t>(prompt_tokens.size());
  Session& s = *session.value();
  std::vector<float> logits(cfg.vocab_size);

  using clock = std::chrono::steady_clock;
  clock::time_point start;
  bool started = false;
  int64_t pos = 0;
  int32_t token = prompt_tokens[0];
  // The prompt goes through prefill in one batched call (as far as the step budget reaches).
  const int64_t prefill_n = std::min<int64_t>(n_prompt, steps);
  st = s.prefill(prompt_tokens.data(), static_cast<size_t>(prefill_n));
  while (st.ok() && pos < steps) {
    int32_t next;
    if (pos < n_prompt - 1) {
      next = prompt_tokens[static_cast<size_t>(pos + 1)];
    } else {
      std::copy(s.logits(), s.logits() + cfg.vocab_size, logits.begin());
      next = sampler.value().sample(logits.data());
    }
    ++pos;
    if (next == tok.bos_id()) break;
    print_piece(tok.decode(token, next));
    std::fflush(stdout);
    token = next;
    if (!started) {
      start = clock::now();
      started = true;
    }
    if (pos >= prefill_n && pos < steps) {
      if (shift > 0 && s.cached_tokens() == s.capacity()) {
        st = s.shift(std::min<size_t>(static_cast<size_t>(shift), s.cached_tokens() - 1), 1);  // keep BOS
      }
      if (st.ok()) st = s.decode(token);
    }
  }
  std::printf("\n");
  std::fflush(stdout);
  if (print_stats) std::fputs(format_session_stats(s.stats()).c_str(), stderr);
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal run: %s\n", printable(st.to_string()).c_str());
    return kExitFailed;
  }
  if (pos > 1 && started) {
    double secs = std::chrono::duration<double>(clock::now() - start).count();
    std::fprintf(stderr, "achieved tok/s: %f\n", secs > 0 ? static_cast<double>(pos - 1) / secs : 0.0);
  }
  return kExitOk;
}

}  // namespace ordinal::cli
