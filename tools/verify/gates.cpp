// Gates: every threshold the user set, checked per position bucket where the metric is per position.
// A failing gate is reported as "FAIL METRIC BUCKET: VALUE OP THRESHOLD".
#include <cmath>
#include <cstdio>

#include "verify/verify.hpp"

namespace ordinal::verify {

std::string GateResult::line() const {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s %s%s%s: %.6g %s %.6g", passed ? "pass" : "FAIL", metric.c_str(),
                bucket.empty() ? "" : " ", bucket.c_str(), value,
                passed ? (is_min ? ">=" : "<=") : (is_min ? "<" : ">"), threshold);
  if (metric == "runtime-error") return std::string("FAIL runtime-error: ") + bucket;
  return buf;
}

namespace {
void add(Report* r, const std::string& metric, const std::string& bucket, double value, double threshold,
         bool is_min) {
  GateResult g;
  g.metric = metric;
  g.bucket = bucket;
  g.value = value;
  g.threshold = threshold;
  g.is_min = is_min;
  g.passed = std::isfinite(value) && (is_min ? value >= threshold : value <= threshold);
  r->gates.push_back(g);
}
}  // namespace

void evaluate_gates(Report* r) {
  const Options& o = r->options;
  for (const BucketStats& b : r->buckets) {
    if (!b.supported || b.positions == 0) continue;
    if (o.min_top1) add(r, "top1", b.label(), b.top1, *o.min_top1, true);
    if (o.max_kl) add(r, "kl", b.label(), b.kl_mean, *o.max_kl, false);
    if (o.max_ppl_delta && b.targets > 0)
      add(r, "ppl-delta", b.label(), std::fabs(b.ppl_delta), *o.max_ppl_delta, false);
  }
  if (o.min_gap_ratio) {
    if (r->order.ran) {
      add(r, "gap-ratio", "", r->order.gap_ratio(), *o.min_gap_ratio, true);
    } else {
      add(r, "gap-ratio", "(not measured)", NAN, *o.min_gap_ratio, true);
    }
  }
  if (o.min_swap_agreement) add(r, "swap-agreement", "", r->swap.agreement(), *o.min_swap_agreement, true);
  if (o.min_task_accuracy) {
    bool any = false;
    for (const TaskResult& t : r->tasks) {
      if (t.regime != "in-distribution") continue;
      any = true;
      add(r, "task-accuracy", t.name, t.cand.supported ? t.cand.accuracy() : NAN, *o.min_task_accuracy, true);
    }
    if (!any) add(r, "task-accuracy", "(no tasks: " + r->tasks_note + ")", NAN, *o.min_task_accuracy, true);
  }
  // Batching must change nothing: always checked when the batched pass ran.
  if (r->batched.ran) {
    add(r, "batched-bit-mismatches", "",
        static_cast<double>(r->batched.bit_mismatches + r->batched.padded_mismatches), 0.0, false);
    add(r, "padding-attention-ratio", "", r->batched.padding_ratio, 0.0, false);
  }
  if (r->identity.kind == "table" && !r->identity.shared_by_design && o.min_position_recovery > 0) {
    add(r, "position-recovery", "", r->identity.recovery, o.min_position_recovery, true);
  }
}

}  // namespace ordinal::verify
