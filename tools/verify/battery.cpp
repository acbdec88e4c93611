// The verify battery in order: agreement by position bucket, word-order sensitivity, swap probes,
// position identity, task accuracy, cost. Everything is seeded; both models see identical inputs.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "importers/read_file.hpp"
#include "introspect/model_introspection.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/sampler.hpp"
#include "verify/text_stream.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

void progress(const Options& o, const std::string& s) {
  if (o.progress) o.progress(s);
}

// Tokens of text already in memory (the word-order pass's normalized copies), segment by segment.
Status tokenize_lines(const Tokenizer& tok, const std::string& text, size_t max_tokens,
                      std::vector<int32_t>* out) {
  return tokenize_text(tok, text, max_tokens, out);
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// Mean NLL per target over sequences, both models. Returns false and a note on a model error.
struct PplPair {
  double nll_ref = 0.0, nll_cand = 0.0;
  int64_t targets = 0;
  std::string error;
};
PplPair perplexity_pass(PairRunner& runner, std::vector<std::vector<int32_t>> seqs, size_t length) {
  PplPair r;
  for (auto& s : seqs) {
    Status st = runner.run(&s, length, nullptr, [&](const PositionSample& p) {
      if (!p.has_target) return;
      r.nll_ref += p.nll_ref;
      r.nll_cand += p.nll_cand;
      ++r.targets;
    });
    if (!st.ok()) {
      r.error = st.to_string();
      break;
    }
  }
  return r;
}

std::vector<std::vector<int32_t>> truncate_total(const std::vector<std::vector<int32_t>>& seqs,
                                                 int64_t budget) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& s : seqs) {
    if (budget < 2) break;
    const size_t n = std::min<size_t>(s.size(), static_cast<size_t>(budget));
    out.emplace_back(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
    budget -= static_cast<int64_t>(n);
  }
  return out;
}

ModelCost cost_of(const std::string& path, const Model& m) {
  ModelCost c;
  c.path = path;
  c.scheme = positional_scheme_name(m.positional_scheme());
  c.positional_bytes = introspect::positional(m).bytes;
  c.file_bytes = m.file_bytes();
  c.position_limit = m.position_limit();
  return c;
}

}  // namespace

bool Report::passed() const {
  return std::all_of(gates.begin(), gates.end(), [](const GateResult& g) { return g.passed; });
}

Result<Report> run_battery(const Options& o) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  Report rep;
  rep.options = o;
  ORDINAL_ASSIGN_OR_RETURN(ModelPair pair, load_pair(o.ref_path, o.cand_path));
  const Model& ref = *pair.ref;
  const Model& cand = *pair.cand;
  const Tokenizer& tok = ref.tokenizer();

  std::string text;
  std::vector<int32_t> text_tokens;
  if (!o.text_path.empty()) {
    // Streamed: enough tokens for every window (each window of L positions holds L-1 text tokens) and for
    // the word-order pass, read and tokenized segment by segment, never the whole file.
    const size_t want = static_cast<size_t>(std::max(o.max_positions, o.order_positions));
    Status st = read_text_tokens(tok, o.text_path, want, importers::kMaxTextBytes, &text, &text_tokens);
    if (!st.ok()) return Status(st.code(), "text " + o.text_path + ": " + st.message());
    if (text_tokens.size() > static_cast<size_t>(o.max_positions))
      text_tokens.resize(static_cast<size_t>(o.max_positions));
    if (blank(text)) text.clear();
    if (text_tokens.empty()) return invalid_argument("text file " + o.text_path + " tokenizes to nothing");
    rep.source = "text " + o.text_path + " (" + std::to_string(text_tokens.size()) +
                 " tokens used, tokenized line by line)";
  }

  // Lengths: the training context, extended to --beyond when both models address those positions.
  const int64_t ctx = ref.config().max_positions;
  rep.context = static_cast<uint32_t>(ctx);
  const int64_t limit = std::min(ref.position_limit(), cand.position_limit());
  int64_t length = std::min(ctx, limit);
  std::string beyond_note;
  if (o.beyond > ctx) {
    if (limit >= o.beyond) {
      length = o.beyond;
    } else {
      beyond_note = "unsupported:";
      if (ref.position_limit() < o.beyond)
        beyond_note += " reference addresses " + std::to_string(ref.position_limit()) + " positions;";
      if (cand.position_limit() < o.beyond)
        beyond_note += " candidate addresses " + std::to_string(cand.position_limit()) + " positions;";
      beyond_note.pop_back();
    }
  }
  rep.eval_length = length;

  // No sequence is longer than the position budgets, so the sessions' caches need no more (--beyond 2^24
  // with the default caps plans 8192 slots, not 2^24).
  const int64_t session_context = std::min(length, std::max(o.max_positions, o.order_positions));
  ORDINAL_ASSIGN_OR_RETURN(
      PairRunner runner,
      PairRunner::create(pair, o.threads, static_cast<uint32_t>(std::max<int64_t>(session_context, 1)),
                         o.cand_kv_cache));

  // 1. Agreement.
  std::vector<PositionSample> samples;
  std::vector<std::vector<int32_t>> sequences;
  std::vector<std::string> runtime_errors;
  auto on_position = [&](const PositionSample& s) {
    samples.push_back(s);
    if (samples.size() % 256 == 0) {
      progress(o, "agreement " + std::to_string(samples.size()) + "/" + std::to_string(o.max_positions) +
                      " positions");
    }
  };
  if (!text_tokens.empty()) {
    sequences = make_windows(text_tokens, tok.bos_id(), static_cast<size_t>(length), o.max_positions);
    for (auto& w : sequences) {
      Status st = runner.run(&w, w.size(), nullptr, on_position);
      if (!st.ok()) {
        runtime_errors.push_back(st.to_string());
        break;
      }
    }
  } else {
    auto sampler = Sampler::create(ref.config().vocab_size, 1.0f, 0.0f, o.seed);
    if (!sampler.ok()) return sampler.status();
    int64_t budget = o.max_positions;
    for (int64_t i = 0; i < o.samples && budget >= 2; ++i) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(length, budget));
      std::vector<int32_t> seq = {tok.bos_id()};
      Status st = runner.run(&seq, n, &sampler.value(), on_position);
      sequences.push_back(seq);
      budget -= static_cast<int64_t>(n);
      if (!st.ok()) {
        runtime_errors.push_back(st.to_string());
        break;
      }
    }
    rep.source = "sampled from the reference (seed " + std::to_string(o.seed) + ", temperature 1, " +
                 std::to_string(sequences.size()) + " sequences)";
  }
  rep.sequences = static_cast<int64_t>(sequences.size());
  rep.positions_evaluated = static_cast<int64_t>(samples.size());
  std::vector<int64_t> starts;
  for (int64_t s : o.bucket_starts) {
    if (s < ctx && (starts.empty() || s > starts.back())) starts.push_back(s);
  }
  if (starts.empty() || starts.front() != 0) starts.insert(starts.begin(), 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    rep.buckets.push_back(bucket_stats(samples, starts[i], i + 1 < starts.size() ? starts[i + 1] : ctx));
  }
  if (o.beyond > ctx) {
    BucketStats b = bucket_stats(samples, ctx, o.beyond);
    if (!beyond_note.empty()) {
      b.supported = false;
      b.note = beyond_note;
    }
    rep.buckets.push_back(b);
  }
  rep.overall = bucket_stats(samples, 0, std::max<int64_t>(length, 1));
  for (int64_t lo = 0; lo < length; lo += 64)
    rep.bins.push_back(bucket_stats(samples, lo, std::min(lo + 64, length)));
  rep.pictures = position_pictures(ref, cand, samples, length);
  rep.ref_cost = cost_of(o.ref_path, ref);
  rep.cand_cost = cost_of(o.cand_path, cand);
  rep.ref_cost.decode_us_per_token = runner.ref_timing().per_token_us();
  rep.cand_cost.decode_us_per_token = runner.cand_timing().per_token_us();
  rep.ref_cost.memory_bytes = runner.ref().memory_bytes();
  rep.cand_cost.memory_bytes = runner.cand().memory_bytes();
  if (session_context < length) {
    // The sessions were sized to the position caps; report what a session at the full length would take
    // (the memory plan, computed without allocating it).
    SessionOptions at_length;
    at_length.threads = runner.ref().threads();
    at_length.context_length = static_cast<uint32_t>(length);
    auto rb = ref.session_bytes(at_length);
    at_length.kv_cache = o.cand_kv_cache;
    auto cb = cand.session_bytes(at_length);
    if (rb.ok()) rep.ref_cost.memory_bytes = rb.value();
    if (cb.ok()) rep.cand_cost.memory_bytes = cb.value();
  }
  rep.ref_cost.context = rep.cand_cost.context = static_cast<uint32_t>(length);
  samples.clear();
  samples.shrink_to_fit();

  // 2. Word-order sensitivity.
  progress(o, "word order");
  {
    std::vector<std::vector<int32_t>> orig, shuf;
    if (!text.empty()) {
      std::vector<int32_t> a, b;
      const size_t cap = static_cast<size_t>(o.order_positions);
      Status sa = tokenize_lines(tok, normalize_words(text, false, 0), cap, &a);
      Status sb = tokenize_lines(tok, normalize_words(text, true, o.seed + 1), cap, &b);
      if (sa.ok() && sb.ok()) {
        orig = make_windows(a, tok.bos_id(), static_cast<size_t>(length), o.order_positions);
        shuf = make_windows(b, tok.bos_id(), static_cast<size_t>(length), o.order_positions);
      }
      rep.order.note = "words shuffled within each line of the text";
    } else {
      orig = truncate_total(sequences, o.order_positions);
      shuf = shuffle_tokens(orig, o.seed + 1);
      rep.order.note = "tokens shuffled within each sampled sequence (BOS kept first)";
    }
    if (!orig.empty() && !shuf.empty()) {
      PplPair a = perplexity_pass(runner, orig, static_cast<size_t>(length));
      PplPair b = perplexity_pass(runner, shuf, static_cast<size_t>(length));
      if (a.error.empty() && b.error.empty() && a.targets > 0 && b.targets > 0) {
        rep.order.ran = true;
        rep.order.positions = a.targets + b.targets;
        rep.order.ppl_ref = std::exp(a.nll_ref / a.targets);
        rep.order.ppl_cand = std::exp(a.nll_cand / a.targets);
        rep.order.ppl_ref_shuffled = std::exp(b.nll_ref / b.targets);
        rep.order.ppl_cand_shuffled = std::exp(b.nll_cand / b.targets);
      } else {
        rep.order.note = "not run: " + (a.error.empty() ? b.error : a.error);
      }
    } else {
      rep.order.note = "not run: no sequences";
    }
  }

  // 3. Swap probes.
  progress(o, "swap probes");
  {
    std::vector<SwapPair> pairs;
    for (const auto& t : swap_templates()) pairs.push_back({"template", t.first, t.second, {}, {}});
    if (!text.empty()) {
      for (const auto& t : text_swap_pairs(text, o.swap_pairs, o.seed + 2))
        pairs.push_back({"text", t.first, t.second, {}, {}});
    } else {
      for (auto& t : token_swap_pairs(sequences, o.swap_pairs, 32, o.seed + 2)) {
        pairs.push_back({"tokens", "", "", std::move(t.first), std::move(t.second)});
      }
    }
    std::vector<double> scratch;
    for (SwapPair& p : pairs) {
      if (p.ta.empty()) {
        if (!tok.encode(p.a, true, false, &p.ta).ok() || !tok.encode(p.b, true, false, &p.tb).ok()) continue;
      }
      auto ra = log_likelihood(runner.ref(), p.ta, &scratch);
      auto rb = log_likelihood(runner.ref(), p.tb, &scratch);
      auto ca = log_likelihood(runner.cand(), p.ta, &scratch);
      auto cb = log_likelihood(runner.cand(), p.tb, &scratch);
      if (!ra.ok() || !rb.ok() || !ca.ok() || !cb.ok()) continue;
      SwapResult::Item it;
      it.source = p.source;
      it.a = p.a;
      it.b = p.b;
      it.ref_delta = ra.value() - rb.value();
      it.cand_delta = ca.value() - cb.value();
      auto sign = [](double d) { return (d > 0) - (d < 0); };
      ++rep.swap.pairs;
      if (sign(it.ref_delta) == sign(it.cand_delta)) ++rep.swap.agree;
      rep.swap.items.push_back(std::move(it));
    }
  }

  // 4. Position identity.
  progress(o, "position identity");
  rep.identity = position_identity(ref, cand, o.seed);

  // 4b. Batched: the candidate with several sequences in one batch, and a padded batch.
  progress(o, "batched");
  rep.batched = batched_pass(pair, sequences, 256, o.threads, o.cand_kv_cache);

  // 5. Tasks.
  const std::string ref_spec = ref.task_spec(), cand_spec = cand.task_spec();
  if (ref_spec.empty() || cand_spec.empty()) {
    rep.tasks_note = ref_spec.empty() && cand_spec.empty() ? "no task spec in either model"
                     : ref_spec.empty()                    ? "the reference carries no task spec"
                                                           : "the candidate carries no task spec";
  } else {
    auto spec = parse_task_spec(ref_spec, std::min(ref.config().vocab_size, cand.config().vocab_size));
    if (!spec.ok()) {
      rep.tasks_note = spec.status().message();
    } else {
      int64_t need = 0;
      for (const TaskDef& t : spec.value().tasks)
        need = std::max(need, 2 * t.max_len + 3 + std::max<int64_t>(t.key_len, 2 * t.max_len) + 1);
      SessionOptions so;
      so.threads = runner.ref().threads();
      // The longest case needs `need` slots (task lengths are capped by parse_task_spec); a model's 2^24
      // position context would only make the cache bigger.
      so.context_length = static_cast<uint32_t>(need);
      so.memory_budget = cli::host_memory_budget();
      auto rs = Session::create(pair.ref, so);
      so.kv_cache = o.cand_kv_cache;
      auto cs = Session::create(pair.cand, so);
      if (!rs.ok() || !cs.ok()) {
        rep.tasks_note = "cannot create task sessions: " + (rs.ok() ? cs.status() : rs.status()).to_string();
      } else {
        if (ref_spec != cand_spec) rep.tasks_note = "task specs differ; using the reference's";
        std::vector<float> scratch;
        const int64_t extrap = o.task_extrap_cases > 0 ? o.task_extrap_cases : o.task_cases;
        for (size_t ti = 0; ti < spec.value().tasks.size(); ++ti) {
          const TaskDef& t = spec.value().tasks[ti];
          if (t.name != "reverse" && t.name != "sort" && t.name != "copy_offset" && t.name != "passkey")
            continue;
          const struct {
            const char* regime;
            int64_t n, cases;
          } regimes[] = {{"in-distribution", 0, o.task_cases},
                         {"1.5x", (3 * t.max_len + 1) / 2, extrap},
                         {"2x", 2 * t.max_len, extrap}};
          for (const auto& g : regimes) {
            progress(o, "task " + t.name + " " + g.regime);
            TaskResult tr;
            tr.name = t.name;
            tr.regime = g.regime;
            tr.length = g.n;
            uint64_t state = o.seed * 1000003u + ti * 7919u + static_cast<uint64_t>(g.n);
            for (int64_t k = 0; k < g.cases; ++k) {
              const TaskCase c = make_task_case(spec.value(), t, g.n, &state);
              for (auto [acc, sess] : {std::pair<TaskAccuracy*, Session*>{&tr.ref, rs.value().get()},
                                       std::pair<TaskAccuracy*, Session*>{&tr.cand, cs.value().get()}}) {
                if (!acc->supported) continue;
                auto r = score_task_case(*sess, c, &scratch);
                if (!r.ok()) {
                  acc->supported = false;
                  acc->note = "unsupported: " + r.status().message();
                  continue;
                }
                ++acc->cases;
                if (r.value()) ++acc->correct;
              }
            }
            rep.tasks.push_back(tr);
          }
        }
      }
    }
  }

  for (const std::string& e : runtime_errors) {
    GateResult g;
    g.metric = "runtime-error";
    g.bucket = e;
    g.passed = false;
    rep.gates.push_back(g);
  }
  evaluate_gates(&rep);
  rep.seconds = std::chrono::duration<double>(clock::now() - start).count();
  return rep;
}

}  // namespace ordinal::verify
