#include "ordinal/verify_flags.hpp"

#include <cstdint>
#include <optional>
#include <sstream>
#include <vector>

namespace ordinal::cli {

const char* const kVerifyInputUsage =
    "      --text FILE            evaluation text (REF's tokenizer; windows of the context, BOS first);\n"
    "                             without it: sequences sampled from REF (temperature 1)\n"
    "      --seed S               seed for sampling, shuffles, probes and task cases, > 0 (default 42)\n"
    "      --samples N            sampled sequences without --text (default 8)\n"
    "      --max-positions N      cap on positions evaluated for agreement (default 8192)\n"
    "      --order-positions N    positions per variant in the word-order pass (default 2048)\n"
    "      --swap-pairs N         swap pairs built from the text/samples, plus 8 templates (default 48)\n"
    "      --buckets A,B,...      position bucket starts (default 0,64,256; last bucket ends at the "
    "context)\n"
    "      --beyond N             also evaluate positions [context, N) when both models address them\n"
    "      --task-cases N         task cases per task in distribution (default 1000)\n"
    "      --task-extrap-cases N  task cases per task at 1.5x and 2x length (default: --task-cases)\n"
    "      --threads N            threads per model session, same for both, 1..256, clamped to the cores\n"
    "                             (default 1)\n"
    "      --cand-kv f32|int8     the candidate session's KV cache (default f32; the reference's is f32)\n";

const char* const kVerifyGateUsage =
    "      --min-top1 X           top-1 agreement in every bucket >= X\n"
    "      --max-kl X             mean KL(ref||cand) in every bucket <= X\n"
    "      --max-ppl-delta X      |ppl_cand/ppl_ref - 1| in every bucket <= X\n"
    "      --min-gap-ratio X      candidate/reference word-order gap >= X\n"
    "      --min-swap-agreement X fraction of swap pairs where CAND prefers what REF prefers >= X\n"
    "      --min-task-accuracy X  candidate in-distribution accuracy of every task >= X\n"
    "      --min-position-recovery X  nearest-neighbour position recovery for table schemes (default 1;\n"
    "                             0 disables; never applied when positions are shared by design)\n";

namespace {

bool parse_buckets(const std::string& v, std::vector<int64_t>* out) {
  out->clear();
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int64_t x;
    if (!parse_int(item, 0, INT32_MAX, &x)) return false;
    if (!out->empty() && x <= out->back()) return false;
    out->push_back(x);
  }
  return !out->empty() && !v.empty() && v.back() != ',';
}

}  // namespace

FlagParse parse_verify_flag(Args& args, const std::string& a, verify::Options* o) {
  auto int_flag = [&](int64_t lo, int64_t hi, const char* what, int64_t* out) -> FlagParse {
    std::string v;
    if (!args.value(a, &v) || !parse_int(v, lo, hi, out)) {
      args.error = a + " needs " + what;
      return FlagParse::kError;
    }
    return FlagParse::kParsed;
  };
  auto gate_flag = [&](std::optional<double>* out) -> FlagParse {
    std::string v;
    double x;
    if (!args.value(a, &v) || !parse_float(v, 0.0, 1e12, &x)) {
      args.error = a + " needs a finite number >= 0";
      return FlagParse::kError;
    }
    *out = x;
    return FlagParse::kParsed;
  };
  int64_t n = 0;
  FlagParse r = FlagParse::kParsed;
  if (a == "--text") {
    if (!args.value(a, &o->text_path) || o->text_path.empty()) {
      args.error = "--text needs a file";
      return FlagParse::kError;
    }
  } else if (a == "--seed") {
    if ((r = int_flag(1, INT64_MAX, "an integer > 0", &n)) == FlagParse::kParsed)
      o->seed = static_cast<uint64_t>(n);
  } else if (a == "--samples") {
    if ((r = int_flag(1, 1000000, "an integer >= 1", &n)) == FlagParse::kParsed) o->samples = n;
  } else if (a == "--max-positions") {
    if ((r = int_flag(2, INT32_MAX, "an integer >= 2", &n)) == FlagParse::kParsed) o->max_positions = n;
  } else if (a == "--order-positions") {
    if ((r = int_flag(0, INT32_MAX, "an integer >= 0", &n)) == FlagParse::kParsed) o->order_positions = n;
  } else if (a == "--swap-pairs") {
    if ((r = int_flag(0, 1000000, "an integer >= 0", &n)) == FlagParse::kParsed) o->swap_pairs = n;
  } else if (a == "--beyond") {
    if ((r = int_flag(1, 1 << 24, "an integer in [1, 2^24]", &n)) == FlagParse::kParsed) o->beyond = n;
  } else if (a == "--task-cases") {
    if ((r = int_flag(0, 10000000, "an integer >= 0", &n)) == FlagParse::kParsed) o->task_cases = n;
  } else if (a == "--task-extrap-cases") {
    if ((r = int_flag(1, 10000000, "an integer >= 1", &n)) == FlagParse::kParsed) o->task_extrap_cases = n;
  } else if (a == "--threads") {
    if ((r = int_flag(1, 256, "an integer in [1, 256]", &n)) == FlagParse::kParsed)
      o->threads = static_cast<uint32_t>(n);
  } else if (a == "--cand-kv") {
    std::string v;
    if (!args.value(a, &v) || (v != "f32" && v != "int8")) {
      args.error = "--cand-kv needs f32 or int8";
      return FlagParse::kError;
    }
    o->cand_kv_cache = v == "int8" ? KvCacheType::kInt8 : KvCacheType::kF32;
  } else if (a == "--buckets") {
    std::string v;
    if (!args.value(a, &v) || !parse_buckets(v, &o->bucket_starts)) {
      args.error = "--buckets needs increasing integers >= 0 separated by commas (e.g. 0,64,256)";
      return FlagParse::kError;
    }
  } else if (a == "--min-top1") {
    r = gate_flag(&o->min_top1);
  } else if (a == "--max-kl") {
    r = gate_flag(&o->max_kl);
  } else if (a == "--max-ppl-delta") {
    r = gate_flag(&o->max_ppl_delta);
  } else if (a == "--min-gap-ratio") {
    r = gate_flag(&o->min_gap_ratio);
  } else if (a == "--min-swap-agreement") {
    r = gate_flag(&o->min_swap_agreement);
  } else if (a == "--min-task-accuracy") {
    r = gate_flag(&o->min_task_accuracy);
  } else if (a == "--min-position-recovery") {
    std::optional<double> x;
    if ((r = gate_flag(&x)) == FlagParse::kParsed) o->min_position_recovery = *x;
  } else {
    return FlagParse::kNotMine;
  }
  return r;
}

bool has_explicit_gate(const verify::Options& o) {
  return o.min_top1 || o.max_ppl_delta || o.max_kl || o.min_gap_ratio || o.min_swap_agreement ||
         o.min_task_accuracy;
}

}  // namespace ordinal::cli
