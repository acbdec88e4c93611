// Human-readable report (stdout).
#include <cinttypes>
#include <cstdio>

#include "report/text_format.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {
using report::appendf;

void bucket_row(std::string* s, const std::string& label, const BucketStats& b) {
  if (!b.supported) {
    appendf(s, "  %-14s %s\n", label.c_str(), b.note.c_str());
    return;
  }
  if (b.positions == 0) {
    appendf(s, "  %-14s %9s\n", label.c_str(), "0  (no positions evaluated)");
    return;
  }
  appendf(s, "  %-14s %9" PRId64 " %8.4f %11.3e %11.3e", label.c_str(), b.positions, b.top1, b.kl_mean,
          b.kl_p99);
  if (b.targets > 0) {
    appendf(s, " %9.4f %9.4f %+10.3e\n", b.ppl_ref, b.ppl_cand, b.ppl_delta);
  } else {
    appendf(s, " %9s %9s %10s\n", "-", "-", "-");
  }
}

std::string ratio(double a, double b) {
  if (b == 0) return a == 0 ? "1" : "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", a / b);
  return buf;
}
}  // namespace

std::string report_text(const Report& r) {
  std::string s;
  appendf(&s, "ordinal verify\n  reference  %s (%s)\n  candidate  %s (%s%s)\n", r.options.ref_path.c_str(),
          r.ref_cost.scheme.c_str(), r.options.cand_path.c_str(), r.cand_cost.scheme.c_str(),
          r.options.cand_kv_cache == KvCacheType::kInt8 ? ", int8 KV cache" : "");
  appendf(&s, "  input      %s\n", r.source.c_str());
  appendf(&s,
          "  evaluated  %" PRId64 " positions (cap %" PRId64 ") in %" PRId64 " sequences of up to %" PRId64
          " tokens; training context %u\n\n",
          r.positions_evaluated, r.options.max_positions, r.sequences, r.eval_length, r.context);

  appendf(&s,
          "agreement by position (top1: same argmax; KL(ref||cand) nats; delta = ppl_cand/ppl_ref - 1)\n");
  appendf(&s, "  %-14s %9s %8s %11s %11s %9s %9s %10s\n", "bucket", "positions", "top1", "KL mean", "KL p99",
          "ppl ref", "ppl cand", "delta");
  for (const BucketStats& b : r.buckets) bucket_row(&s, b.label(), b);
  bucket_row(&s, "all", r.overall);

  s += "\nword-order sensitivity (gap = ppl shuffled / ppl original)\n";
  if (r.order.ran) {
    appendf(&s, "  %s, %" PRId64 " positions\n", r.order.note.c_str(), r.order.positions);
    appendf(&s, "  reference  ppl %.4f -> %.4f  gap %.4f\n", r.order.ppl_ref, r.order.ppl_ref_shuffled,
            r.order.gap_ref());
    appendf(&s, "  candidate  ppl %.4f -> %.4f  gap %.4f\n", r.order.ppl_cand, r.order.ppl_cand_shuffled,
            r.order.gap_cand());
    appendf(&s, "  gap ratio (candidate / reference) %.4f\n", r.order.gap_ratio());
  } else {
    appendf(&s, "  %s\n", r.order.note.c_str());
  }

  appendf(&s,
          "\nswap probes: %" PRId64 " pairs; candidate prefers the same order as the reference in %" PRId64
          " (%.1f%%)\n",
          r.swap.pairs, r.swap.agree, 100.0 * r.swap.agreement());

  const IdentityResult& id = r.identity;
  s += "\nposition identity\n";
  if (id.kind == "table") {
    appendf(&s, "  %s\n", id.note.c_str());
    appendf(&s, "  nearest-neighbour recovery %.4f of %" PRId64 " positions%s\n", id.recovery, id.positions,
            id.shared_by_design ? "  (shared by design: not gated)" : "");
    appendf(&s,
            "  min distance between distinct candidate positions %.4g; %" PRId64
            " collapsed (identical) pairs\n",
            id.min_distance, id.collapsed_pairs);
    appendf(&s, "  error vs reference: max abs %.3e, rms %.3e; per-row relative mean %.3e max %.3e\n",
            id.max_abs_error, id.rms_error, id.mean_rel_error, id.max_rel_error);
  } else if (id.kind == "rope") {
    appendf(&s,
            "  RoPE shift invariance over %" PRId64
            " trials: max %.3e, mean %.3e (max %.3e of |q||k|); reference max %.3e\n",
            id.trials, id.shift_max_abs, id.shift_mean_abs, id.shift_max_rel, id.ref_shift_max_abs);
    appendf(&s, "  %s\n", id.note.c_str());
  } else {
    appendf(&s, "  n/a: %s\n", id.note.c_str());
  }

  const BatchedResult& bt = r.batched;
  s += "\nbatched (candidate in one batch vs alone)\n";
  if (bt.ran) {
    appendf(&s,
            "  %" PRId64 " sequences, %" PRId64 " positions: top1 vs reference alone %.4f, mean KL %.3e\n",
            bt.sequences, bt.positions, bt.top1, bt.kl_mean);
    appendf(&s, "  bit-identical to the candidate alone: %" PRId64 " of %" PRId64 " positions differ\n",
            bt.bit_mismatches, bt.positions);
    appendf(&s,
            "  padded batch (%" PRId64 " rows, left-padded): %" PRId64
            " rows differ from alone; padding attention ratio %.6g\n",
            bt.padded_rows, bt.padded_mismatches, bt.padding_ratio);
  } else {
    appendf(&s, "  %s\n", bt.note.c_str());
  }

  s += "\ntask accuracy (greedy exact match after <sep>)\n";
  if (r.tasks.empty()) {
    appendf(&s, "  %s\n", r.tasks_note.c_str());
  } else {
    if (!r.tasks_note.empty()) appendf(&s, "  %s\n", r.tasks_note.c_str());
    appendf(&s, "  %-12s %-16s %6s %8s %10s %10s\n", "task", "regime", "n", "cases", "reference",
            "candidate");
    for (const TaskResult& t : r.tasks) {
      auto acc = [](const TaskAccuracy& a) {
        char b[32];
        if (!a.supported) return std::string("unsupported");
        std::snprintf(b, sizeof b, "%.4f", a.accuracy());
        return std::string(b);
      };
      appendf(&s, "  %-12s %-16s %6s %8" PRId64 " %10s %10s\n", t.name.c_str(), t.regime.c_str(),
              t.length ? std::to_string(t.length).c_str() : "dist", std::max(t.ref.cases, t.cand.cases),
              acc(t.ref).c_str(), acc(t.cand).c_str());
    }
  }

  s += "\ncost (same run, same threads)\n";
  appendf(&s, "  %-28s %14s %14s %8s\n", "", "reference", "candidate", "ratio");
  appendf(&s, "  %-28s %14" PRIu64 " %14" PRIu64 " %8s\n", "positional bytes", r.ref_cost.positional_bytes,
          r.cand_cost.positional_bytes,
          ratio(r.cand_cost.positional_bytes, r.ref_cost.positional_bytes).c_str());
  appendf(&s, "  %-28s %14" PRIu64 " %14" PRIu64 " %8s\n", "model file bytes", r.ref_cost.file_bytes,
          r.cand_cost.file_bytes, ratio(r.cand_cost.file_bytes, r.ref_cost.file_bytes).c_str());
  appendf(&s, "  %-28s %14.2f %14.2f %8s\n", "decode us/token (mean)", r.ref_cost.decode_us_per_token,
          r.cand_cost.decode_us_per_token,
          ratio(r.cand_cost.decode_us_per_token, r.ref_cost.decode_us_per_token).c_str());
  appendf(&s, "  %-28s %14" PRIu64 " %14" PRIu64 " %8s\n", "memory bytes per sequence",
          r.ref_cost.memory_bytes, r.cand_cost.memory_bytes,
          ratio(r.cand_cost.memory_bytes, r.ref_cost.memory_bytes).c_str());

  if (!r.gates.empty()) {
    s += "\ngates\n";
    for (const GateResult& g : r.gates) appendf(&s, "  %s\n", g.line().c_str());
  }
  size_t failed = 0;
  for (const GateResult& g : r.gates) failed += g.passed ? 0 : 1;
  appendf(&s, "\nresult: %s (%zu gate%s, %zu failed; %.1f s)\n", failed ? "FAIL" : "PASS", r.gates.size(),
          r.gates.size() == 1 ? "" : "s", failed, r.seconds);
  return s;
}

}  // namespace ordinal::verify
