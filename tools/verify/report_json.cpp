// Machine-readable report: every figure of the battery.
#include <cmath>
#include <nlohmann/json.hpp>

#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {
using nlohmann::json;

json num(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

json bucket_json(const BucketStats& b) {
  json j = {{"bucket", b.label()},      {"lo", b.lo},          {"hi", b.hi}, {"supported", b.supported},
            {"positions", b.positions}, {"targets", b.targets}};
  if (!b.note.empty()) j["note"] = b.note;
  if (b.positions > 0) {
    j["top1"] = num(b.top1);
    j["kl_mean"] = num(b.kl_mean);
    j["kl_p99"] = num(b.kl_p99);
    j["kl_max"] = num(b.kl_max);
  }
  if (b.targets > 0) {
    j["ppl_ref"] = num(b.ppl_ref);
    j["ppl_cand"] = num(b.ppl_cand);
    j["ppl_delta"] = num(b.ppl_delta);
  }
  return j;
}

json cost_json(const ModelCost& c) {
  return {{"path", c.path},
          {"scheme", c.scheme},
          {"positional_bytes", c.positional_bytes},
          {"file_bytes", c.file_bytes},
          {"memory_bytes_per_sequence", c.memory_bytes},
          {"decode_us_per_token", num(c.decode_us_per_token)},
          {"position_limit", c.position_limit},
          {"session_context", c.context}};
}

json task_acc(const TaskAccuracy& a) {
  json j = {{"supported", a.supported}, {"cases", a.cases}, {"correct", a.correct}};
  if (a.supported) j["accuracy"] = num(a.accuracy());
  if (!a.note.empty()) j["note"] = a.note;
  return j;
}

double ratio(double a, double b) {
  return b != 0 ? a / b : NAN;
}
}  // namespace

std::string report_json(const Report& r) {
  json j;
  j["reference"] = r.options.ref_path;
  j["candidate"] = r.options.cand_path;
  j["candidate_kv_cache"] = kv_cache_type_name(r.options.cand_kv_cache);
  j["source"] = r.source;
  j["seed"] = r.options.seed;
  j["context"] = r.context;
  j["eval_length"] = r.eval_length;
  j["positions_evaluated"] = r.positions_evaluated;
  j["max_positions"] = r.options.max_positions;
  j["sequences"] = r.sequences;
  j["seconds"] = num(r.seconds);
  json agreement = {
      {"overall", bucket_json(r.overall)}, {"buckets", json::array()}, {"bins64", json::array()}};
  for (const BucketStats& b : r.buckets) agreement["buckets"].push_back(bucket_json(b));
  for (const BucketStats& b : r.bins) agreement["bins64"].push_back(bucket_json(b));
  j["agreement"] = agreement;

  json order = {{"ran", r.order.ran}, {"note", r.order.note}};
  if (r.order.ran) {
    order["positions"] = r.order.positions;
    order["ppl_ref"] = num(r.order.ppl_ref);
    order["ppl_ref_shuffled"] = num(r.order.ppl_ref_shuffled);
    order["ppl_cand"] = num(r.order.ppl_cand);
    order["ppl_cand_shuffled"] = num(r.order.ppl_cand_shuffled);
    order["gap_ref"] = num(r.order.gap_ref());
    order["gap_cand"] = num(r.order.gap_cand());
    order["gap_ratio"] = num(r.order.gap_ratio());
  }
  j["word_order"] = order;

  json swap = {{"pairs", r.swap.pairs},
               {"agree", r.swap.agree},
               {"agreement", num(r.swap.agreement())},
               {"items", json::array()}};
  for (const auto& it : r.swap.items) {
    json x = {
        {"source", it.source}, {"ref_ll_delta", num(it.ref_delta)}, {"cand_ll_delta", num(it.cand_delta)}};
    if (!it.a.empty()) {
      x["a"] = it.a;
      x["b"] = it.b;
    }
    swap["items"].push_back(x);
  }
  j["swap_probes"] = swap;

  const IdentityResult& id = r.identity;
  json ident = {{"kind", id.kind}, {"note", id.note}};
  if (id.kind == "table") {
    ident["positions"] = id.positions;
    ident["recovery"] = num(id.recovery);
    ident["min_distance"] = num(id.min_distance);
    ident["collapsed_pairs"] = id.collapsed_pairs;
    ident["max_abs_error"] = num(id.max_abs_error);
    ident["rms_error"] = num(id.rms_error);
    ident["mean_rel_error"] = num(id.mean_rel_error);
    ident["max_rel_error"] = num(id.max_rel_error);
    ident["shared_by_design"] = id.shared_by_design;
  } else if (id.kind == "rope") {
    ident["trials"] = id.trials;
    ident["shift_max_abs"] = num(id.shift_max_abs);
    ident["shift_mean_abs"] = num(id.shift_mean_abs);
    ident["shift_max_rel"] = num(id.shift_max_rel);
    ident["ref_shift_max_abs"] = num(id.ref_shift_max_abs);
  }
  j["position_identity"] = ident;

  const BatchedResult& bt = r.batched;
  j["batched"] = {{"ran", bt.ran},
                  {"note", bt.note},
                  {"sequences", bt.sequences},
                  {"positions", bt.positions},
                  {"top1_vs_reference", num(bt.top1)},
                  {"kl_mean_vs_reference", num(bt.kl_mean)},
                  {"bit_mismatches_vs_alone", bt.bit_mismatches},
                  {"padded_rows", bt.padded_rows},
                  {"padded_mismatches_vs_alone", bt.padded_mismatches},
                  {"padding_attention_ratio", num(bt.padding_ratio)}};

  json tasks = json::array();
  for (const TaskResult& t : r.tasks) {
    tasks.push_back({{"task", t.name},
                     {"regime", t.regime},
                     {"input_length", t.length},
                     {"ref", task_acc(t.ref)},
                     {"cand", task_acc(t.cand)}});
  }
  j["tasks"] = {{"note", r.tasks_note}, {"results", tasks}};

  j["cost"] = {{"ref", cost_json(r.ref_cost)},
               {"cand", cost_json(r.cand_cost)},
               {"ratio",
                {{"positional_bytes", num(ratio(r.cand_cost.positional_bytes, r.ref_cost.positional_bytes))},
                 {"file_bytes", num(ratio(r.cand_cost.file_bytes, r.ref_cost.file_bytes))},
                 {"memory_bytes_per_sequence", num(ratio(r.cand_cost.memory_bytes, r.ref_cost.memory_bytes))},
                 {"decode_time_per_token",
                  num(ratio(r.cand_cost.decode_us_per_token, r.ref_cost.decode_us_per_token))}}}};

  json gates = json::array();
  for (const GateResult& g : r.gates) {
    gates.push_back({{"metric", g.metric},
                     {"bucket", g.bucket},
                     {"value", num(g.value)},
                     {"threshold", num(g.threshold)},
                     {"kind", g.is_min ? "min" : "max"},
                     {"passed", g.passed}});
  }
  j["gates"] = gates;
  j["passed"] = r.passed();
  return j.dump(2) + "\n";
}

}  // namespace ordinal::verify
