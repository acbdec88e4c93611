// ordinal quantize IN OUT --pos SCHEME [--rope-scaling KIND:F[,ORIG]] [--context N] [--weights f32|f16|int8]
// Rebuilds the positional component (and optionally the weights) in a smaller or exact format, writes a
// normal model, reloads it through the verifier, and prints a before/after table with reconstruction errors.
// This file parses flags and prints; the transforms are in quantize_positional.cpp (ordinal/quantize.hpp).
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "modelio/host_scheme.hpp"
#include "modelio/model_spec.hpp"
#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/pos_grammar.hpp"
#include "ordinal/position_search.hpp"
#include "ordinal/quantize.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/search_gates.hpp"
#include "ordinal/verify_flags.hpp"
#include "ordinal/weight_quantize.hpp"
#include "quant/metrics.hpp"

namespace ordinal::cli {

namespace {

const std::string kUsage =
    std::string(
        "usage: ordinal quantize IN OUT --pos SCHEME [options]\n"
        "       ordinal quantize IN OUT --search GATES [verify options] [options]\n"
        "  --pos SCHEME          " +
        quantize::pos_usage("                        ") +
        "\n"
        "  --rope-scaling S      " +
        std::string(modelio::kRopeScalingGrammar) +
        "   (RoPE context extension)\n"
        "  --context N           new max_positions (context length) of the output model\n"
        "  --allow-large-session write the model even when its default session (full context, f32 KV\n"
        "                        cache) needs more than 1 GiB; without it such a model is refused\n"
        "  --weights W           f32 | f16 | int8 (per-row scales) | int8-gN | int4 (= int4-g32) | int4-gN | "
        "int4-gN-zp\n"
        "                        (group-wise, f16 scale per N values, N a multiple of 32) for linear layers, "
        "embedding and classifier\n"
        "  --seed S              seed for k-means (default 1)\n"
        "  --search              try every --pos setting for this model's scheme from the smallest "
        "positional size\n"
        "                        to the largest; keep the first whose model passes the verify gates against "
        "IN\n"
        "  --search-schemes L    comma-separated --pos settings to try instead of all of them\n"
        "  --verify-seed S       verify's --seed (sampling, shuffles, probes) during --search (default 42)\n"
        "verify options and gates for --search (as `ordinal verify`)\n") +
    kVerifyInputUsage + kVerifyGateUsage + quantize::kSearchGateDefaultsUsage;

}  // namespace

namespace {

std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = v.find(',', start);
    const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Runs the search and prints one line per attempt; returns the winning --pos or an empty string.
Result<std::string> run_search(const modelio::ModelSpec& spec, const std::string& in, const std::string& out,
                               const std::vector<std::string>& schemes, const quantize::Options& o,
                               const verify::Options& gates) {
  std::printf("search: %zu positional settings for %s, smallest first; gates against %s\n", schemes.size(),
              positional_scheme_name(spec.positional.scheme), in.c_str());
  std::printf("  %-5s %-24s %11s %8s %10s %10s %9s %9s %7s  %s\n", "try", "scheme", "pos bytes", "top1",
              "max|dppl|", "max KL", "gap ratio", "recovery", "secs", "result");
  std::fflush(stdout);
  auto print = [](const quantize::SearchAttempt& a, size_t i, size_t n) {
    char idx[32];
    std::snprintf(idx, sizeof idx, "%zu/%zu", i + 1, n);
    char rec[16] = "-";
    if (a.recovery >= 0) std::snprintf(rec, sizeof rec, "%.4f", a.recovery);
    if (a.verified) {
      std::printf("  %-5s %-24s %11" PRIu64 " %8.5f %10.6f %10.3g %9.4f %9s %7.1f  %s\n", idx,
                  a.scheme.c_str(), a.positional_bytes, a.top1, a.max_ppl_delta, a.max_kl, a.gap_ratio, rec,
                  a.seconds, a.passed ? "PASS" : a.note.c_str());
    } else {
      std::printf("  %-5s %-24s %11" PRIu64 " %8s %10s %10s %9s %9s %7.1f  %s\n", idx, a.scheme.c_str(),
                  a.positional_bytes, "-", "-", "-", "-", "-", a.seconds, a.note.c_str());
    }
    std::fflush(stdout);
  };
  ORDINAL_ASSIGN_OR_RETURN(
      quantize::SearchResult r,
      quantize::search_positional(spec, in, schemes, o, gates, out + ".search-candidate", print));
  for (const quantize::SearchAttempt& a : r.attempts) {
    if (!a.built) std::printf("  %-5s %-24s %s\n", "skip", a.scheme.c_str(), a.note.c_str());
  }
  if (r.winner < 0) return std::string();
  const quantize::SearchAttempt& w = r.attempts[static_cast<size_t>(r.winner)];
  std::printf("search: smallest passing setting is %s (%" PRIu64 " positional bytes)\n", w.scheme.c_str(),
              w.positional_bytes);
  return w.scheme;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  Args args(argc, argv, 1);
  quantize::Options o;
  std::vector<std::string> paths;
  bool search = false, verify_flags_given = false, allow_large_session = false;
  std::string search_schemes;
  verify::Options gates;
  while (!args.empty()) {
    std::string a = args.take(), v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage.c_str(), stdout);
      return kExitOk;
    } else if (a == "--search") {
      search = true;
    } else if (a == "--allow-large-session") {
      allow_large_session = true;
    } else if (a == "--search-schemes") {
      if (!args.value(a, &search_schemes) || split_commas(search_schemes).empty()) {
        return usage_error("quantize", "--search-schemes needs a comma-separated list of --pos settings",
                           kUsage.c_str());
      }
    } else if (a == "--verify-seed") {
      int64_t s = 0;
      if (!args.value(a, &v) || !parse_int(v, 1, INT64_MAX, &s))
        return usage_error("quantize", "--verify-seed needs an integer > 0", kUsage.c_str());
      gates.seed = static_cast<uint64_t>(s);
      verify_flags_given = true;
    } else if (a == "--pos") {
      if (!args.value(a, &o.pos)) return usage_error("quantize", args.error, kUsage.c_str());
    } else if (a == "--rope-scaling") {
      if (!args.value(a, &o.rope_scaling)) return usage_error("quantize", args.error, kUsage.c_str());
    } else if (a == "--context") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 24, &o.context))
        return usage_error("quantize", "--context needs an integer in [1, 2^24]", kUsage.c_str());
    } else if (a == "--weights") {
      if (!args.value(a, &o.weights)) return usage_error("quantize", args.error, kUsage.c_str());
    } else if (a == "--seed") {
      int64_t s = 0;
      if (!args.value(a, &v) || !parse_int(v, 1, INT64_MAX, &s))
        return usage_error("quantize", "--seed needs an integer > 0", kUsage.c_str());
      o.seed = static_cast<uint64_t>(s);
    } else if (!a.empty() && a[0] == '-') {
      const FlagParse f = parse_verify_flag(args, a, &gates);
      if (f == FlagParse::kError) return usage_error("quantize", args.error, kUsage.c_str());
      if (f == FlagParse::kNotMine) return usage_error("quantize", "unknown option " + a, kUsage.c_str());
      verify_flags_given = true;
    } else {
      paths.push_back(a);
    }
  }
  if (paths.size() != 2) return usage_error("quantize", "needs IN and OUT", kUsage.c_str());
  if (search && !o.pos.empty())
    return usage_error("quantize", "--search chooses the scheme: drop --pos", kUsage.c_str());
  if (!search && (verify_flags_given || !search_schemes.empty())) {
    return usage_error("quantize", "verify options, gates and --search-schemes apply only with --search",
                       kUsage.c_str());
  }
  if (search) quantize::apply_default_search_gates(&gates);
  if (!search && o.pos.empty() && o.weights == "keep")
    return usage_error("quantize", "nothing to do: give --pos and/or --weights", kUsage.c_str());

  auto model = Model::load(paths[0]);
  if (!model.ok()) {
    std::fprintf(stderr, "ordinal quantize: %s\n", printable(model.status().to_string()).c_str());
    return kExitUsage;
  }
  modelio::ModelSpec spec = modelio::spec_from_model(*model.value());
  if (search) {
    const std::vector<std::string> schemes =
        search_schemes.empty() ? quantize::search_candidates(spec) : split_commas(search_schemes);
    auto chosen = run_search(spec, paths[0], paths[1], schemes, o, gates);
    if (!chosen.ok()) return usage_error("quantize", chosen.status().message(), kUsage.c_str());
    if (chosen.value().empty()) {
      std::fprintf(stderr, "ordinal quantize: --search: no setting passed the gates; nothing written\n");
      return kExitFailed;
    }
    o.pos = chosen.value();
  }
  const quantize::Components before = quantize::components(spec);
  quantize::TableReport table;
  if (!o.pos.empty()) {
    auto r = quantize::apply_positional(spec, o);
    if (!r.ok()) return usage_error("quantize", r.status().message(), kUsage.c_str());
    table = std::move(r).value();
  }
  auto werr = quantize::convert_model_weights(spec, o.weights);
  if (!werr.ok()) return usage_error("quantize", werr.status().message(), kUsage.c_str());
  spec.metadata.push_back(
      {"quantized", "pos=" + (o.pos.empty() ? std::string("unchanged") : o.pos) + " weights=" + o.weights});
  if (!allow_large_session) {
    Status plan = quantize::check_default_session(spec, kMaxDefaultSessionBytes);
    if (!plan.ok()) {
      std::fprintf(stderr, "ordinal quantize: %s; nothing written (--allow-large-session writes it anyway)\n",
                   printable(plan.to_string()).c_str());
      return kExitUsage;
    }
  }
  Status st = modelio::write_model(spec, paths[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal quantize: %s\n", printable(st.to_string()).c_str());
    return kExitFailed;
  }
  auto check = Model::load(paths[1]);
  if (!check.ok()) {
    std::fprintf(stderr, "ordinal quantize: written model does not verify: %s\n",
                 printable(check.status().to_string()).c_str());
    return kExitFailed;
  }
  const quantize::Components after = quantize::components(spec);
  auto row = [](const char* name, uint64_t b, uint64_t a) {
    char note[64] = "";
    if (a < b && a > 0)
      std::snprintf(note, sizeof note, "x%.2f smaller", static_cast<double>(b) / static_cast<double>(a));
    if (a == 0 && b > 0) std::snprintf(note, sizeof note, "removed");
    if (a > b) std::snprintf(note, sizeof note, "+%" PRIu64 " bytes", a - b);
    if (a == b && b > 0) std::snprintf(note, sizeof note, "=");
    std::printf("  %-18s %12" PRIu64 " %12" PRIu64 "   %s\n", name, b, a, note);
  };

  std::printf("%s -> %s  (positional %s -> %s)\n", paths[0].c_str(), paths[1].c_str(),
              positional_scheme_name(model.value()->positional_scheme()),
              positional_scheme_name(check.value()->positional_scheme()));
  std::printf("  %-18s %12s %12s\n", "component", "bytes before", "bytes after");
  row("token embedding", before.embedding, after.embedding);
  row("positional", before.positional, after.positional);
  row("attention", before.attention, after.attention);
  row("mlp", before.mlp, after.mlp);
  row("norms", before.norms, after.norms);
  row("classifier", before.classifier, after.classifier);
  row("file total", model.value()->file_bytes(), check.value()->file_bytes());
  if (!table.original.empty()) {
    const quant::TableMetrics& m = table.metrics;
    std::printf("reconstruction of the %s: max |err| %.3g, mean |err| %.3g, rms %.3g, %.2f bytes/position\n",
                table.is_bias_table ? "relative-bias table" : "position table", m.max_abs_error,
                m.mean_abs_error, m.rms_error, m.bytes_per_position);
    if (!table.is_bias_table) {
      std::printf(
          "position identity: nearest-neighbour recovery %.2f%%, min distance between positions %.3g, "
          "collapsed pairs %" PRId64 "%s\n",
          100.0 * m.nn_recovery_rate, m.min_pair_distance, m.collapsed_pairs,
          m.shares_positions_by_design
              ? " (positions shared by design)"
              : (m.collapse_flagged ? "  <-- WARNING: distinct positions collapsed" : ""));
      if (table.metrics_sampled) {
        std::printf("  (recovery, distance and collapsed pairs over %" PRId64 " evenly spaced of %" PRId64
                    " positions)\n",
                    quantize::kExactTablePositions, m.positions);
      }
    }
    if (table.energy_kept > 0) std::printf("low-rank energy kept: %.6f\n", table.energy_kept);
  }
  if (o.weights != "keep") {
    const quantize::WeightConversion& w = werr.value();
    std::printf("weights %s: max |err| %.3g, worst rms(err)/rms(w) %.3g over %d tensors", o.weights.c_str(),
                w.max_abs_error, w.max_rel_rms, w.tensors);
    if (w.per_row_fallbacks > 0)
      std::printf(" (%d stored per-row int8: columns not a multiple of the group)", w.per_row_fallbacks);
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace ordinal::cli
