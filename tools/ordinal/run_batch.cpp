#include "ordinal/run_batch.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "ordinal/args.hpp"
#include "ordinal/batch.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/sampler.hpp"

namespace ordinal::cli {

namespace {

// One prompt's state in the loop of cmd_run.cpp, advanced a token at a time.
struct PromptRun {
  std::vector<int32_t> tokens;
  int64_t n_prompt = 0, prefill_n = 0, pos = 0;
  int32_t token = 0;
  int32_t sequence = -1;
  bool done = false;
  std::string out;  // what `ordinal run -p` would print before its final newline
};

void append_piece(std::string_view piece, std::string* out) {
  if (!Tokenizer::is_printable_piece(piece)) return;
  *out += printable_generated(piece);
}

}  // namespace

bool read_prompt_lines(const std::string& path, std::vector<std::string>* prompts) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  prompts->clear();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    prompts->push_back(line);
    start = end + 1;
  }
  return true;
}

int run_batch(const std::shared_ptr<const Model>& model, const std::vector<std::string>& prompts,
              const RunFlags& f) {
  if (prompts.empty()) {
    std::fprintf(stderr, "ordinal run: --batch: the file holds no prompt\n");
    return kExitUsage;
  }
  const ModelConfig& cfg = model->config();
  int64_t steps = f.steps;
  if (steps == 0 || (steps > cfg.max_positions && f.shift == 0)) steps = cfg.max_positions;  // as run.c
  const Tokenizer& tok = model->tokenizer();
  std::vector<PromptRun> runs(prompts.size());
  std::vector<Sampler> samplers;  // one per prompt, each seeded as a lone run's
  samplers.reserve(prompts.size());
  size_t prefill_total = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    PromptRun& r = runs[i];
    Status st = tok.encode(prompts[i], /*bos=*/true, /*eos=*/false, &r.tokens);
    if (!st.ok()) {
      std::fprintf(stderr, "ordinal run: prompt %zu: %s\n", i + 1, printable(st.to_string()).c_str());
      return kExitFailed;
    }
    auto sampler = Sampler::create(cfg.vocab_size, static_cast<float>(f.temperature),
                                   static_cast<float>(f.top_p), static_cast<uint64_t>(f.seed));
    if (!sampler.ok()) {
      std::fprintf(stderr, "ordinal run: %s\n", printable(sampler.status().message()).c_str());
      return kExitUsage;
    }
    samplers.push_back(std::move(sampler.value()));
    r.n_prompt = static_cast<int64_t>(r.tokens.size());
    r.prefill_n = std::min<int64_t>(r.n_prompt, steps);
    r.token = r.tokens[0];
    prefill_total += static_cast<size_t>(r.prefill_n);
  }
  BatchOptions bo;
  bo.threads = f.threads;
  bo.kv_cache = f.kv;
  bo.memory_budget = host_memory_budget();
  bo.max_sequences = static_cast<uint32_t>(prompts.size());
  // The prompts go in together, in calls of at most 512 tokens (activations grow with the call).
  bo.max_batch_tokens = static_cast<uint32_t>(std::max<size_t>(
      prompts.size(), std::min<size_t>(prefill_total, std::max<size_t>(512, prompts.size()))));
  bo.max_outputs = static_cast<uint32_t>(prompts.size());
  if (prompts.size() > 4096) {
    std::fprintf(stderr, "ordinal run: --batch: %zu prompts, at most 4096\n", prompts.size());
    return kExitUsage;
  }
  auto created = BatchSession::create(model, bo);
  if (!created.ok()) {
    std::fprintf(stderr, "ordinal run: %s\n", printable(created.status().to_string()).c_str());
    return kExitFailed;
  }
  BatchSession& b = *created.value();
  for (PromptRun& r : runs) {
    auto id = b.open_sequence(0);
    if (!id.ok()) {
      std::fprintf(stderr, "ordinal run: %s\n", printable(id.status().to_string()).c_str());
      return kExitFailed;
    }
    r.sequence = id.value();
  }

  std::vector<int32_t> tokens, seqs;
  tokens.reserve(bo.max_batch_tokens);
  seqs.reserve(bo.max_batch_tokens);
  auto flush = [&]() -> Status {
    if (tokens.empty()) return Status::Ok();
    Batch bt;
    bt.tokens = tokens.data();
    bt.sequences = seqs.data();
    bt.count = tokens.size();
    Status st = b.forward(bt);
    tokens.clear();
    seqs.clear();
    return st;
  };
  // Prefill: every prompt's first prefill_n tokens, in calls of at most max_batch_tokens.
  Status st;
  for (PromptRun& r : runs) {
    for (int64_t k = 0; k < r.prefill_n && st.ok(); ++k) {
      tokens.push_back(r.tokens[static_cast<size_t>(k)]);
      seqs.push_back(r.sequence);
      if (tokens.size() == bo.max_batch_tokens) st = flush();
    }
  }
  if (st.ok()) st = flush();

  using clock = std::chrono::steady_clock;
  const clock::time_point start = clock::now();
  int64_t generated = 0;
  std::vector<float> logits(cfg.vocab_size);
  // Each prompt follows cmd_run's loop; where that loop decodes, the token joins the next batch.
  while (st.ok()) {
    for (size_t i = 0; i < runs.size(); ++i) {
      PromptRun& r = runs[i];
      while (!r.done && st.ok()) {
        if (r.pos >= steps) {
          r.done = true;
          break;
        }
        int32_t next;
        if (r.pos < r.n_prompt - 1) {
          next = r.tokens[static_cast<size_t>(r.pos + 1)];
        } else {
          const float* l = b.sequence_logits(r.sequence);
          std::copy(l, l + cfg.vocab_size, logits.begin());
          next = samplers[i].sample(logits.data());
        }
        ++r.pos;
        if (next == tok.bos_id()) {
          r.done = true;
          break;
        }
        append_piece(tok.decode(r.token, next), &r.out);
        r.token = next;
        ++generated;
        if (r.pos >= r.prefill_n && r.pos < steps) {
          if (f.shift > 0 && b.cached_tokens(r.sequence) == b.capacity()) {
            st = b.shift_sequence(
                r.sequence, std::min<size_t>(static_cast<size_t>(f.shift), b.cached_tokens(r.sequence) - 1),
                1);
          }
          tokens.push_back(r.token);
          seqs.push_back(r.sequence);
          break;  // decodes in this step's batch
        }
      }
    }
    if (tokens.empty()) break;
    if (st.ok()) st = flush();
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i > 0) std::fputc('\n', stdout);
    std::fwrite(runs[i].out.data(), 1, runs[i].out.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal run: %s\n", printable(st.to_string()).c_str());
    return kExitFailed;
  }
  const double secs = std::chrono::duration<double>(clock::now() - start).count();
  if (generated > 0 && secs > 0) {
    std::fprintf(stderr, "achieved tok/s: %f (aggregate over %zu sequences)\n",
                 static_cast<double>(generated) / secs, runs.size());
  }
  return kExitOk;
}

}  // namespace ordinal::cli
