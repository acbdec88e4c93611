// ordinal verify REF CAND [options]: the order-sensitive battery (tools/verify/). Human table on stdout,
// --json / --report files, gates -> exit 1 naming the failing metric and bucket; usage/load errors exit 2.
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "verify/verify.hpp"

namespace ordinal::cli {

namespace {
const char* kUsage =
    "usage: ordinal verify REF CAND [options]\n"
    "  runs REF and CAND side by side and compares them position by position\n"
    "input\n"
    "      --text FILE            evaluation text (REF's tokenizer; windows of the context, BOS first);\n"
    "                             without it: sequences sampled from REF (temperature 1)\n"
    "      --seed S               seed for sampling, shuffles, probes and task cases, > 0 (default 42)\n"
    "      --samples N            sampled sequences without --text (default 8)\n"
    "      --max-positions N      cap on positions evaluated for agreement (default 8192)\n"
    "      --order-positions N    positions per variant in the word-order pass (default 2048)\n"
    "      --swap-pairs N         swap pairs built from the text/samples, plus 8 templates (default 48)\n"
    "      --buckets A,B,...      position bucket starts (default 0,64,256; last bucket ends at the context)\n"
    "      --beyond N             also evaluate positions [context, N) when both models address them\n"
    "      --task-cases N         task cases per task in distribution (default 1000)\n"
    "      --task-extrap-cases N  task cases per task at 1.5x and 2x length (default: --task-cases)\n"
    "      --threads N            threads per model session, same for both (default 1)\n"
    "output\n"
    "      --json FILE            every figure as JSON\n"
    "      --report FILE          self-contained HTML report with SVG plots\n"
    "gates (exit 1 when one is missed)\n"
    "      --min-top1 X           top-1 agreement in every bucket >= X\n"
    "      --max-kl X             mean KL(ref||cand) in every bucket <= X\n"
    "      --max-ppl-delta X      |ppl_cand/ppl_ref - 1| in every bucket <= X\n"
    "      --min-gap-ratio X      candidate/reference word-order gap >= X\n"
    "      --min-swap-agreement X fraction of swap pairs where CAND prefers what REF prefers >= X\n"
    "      --min-task-accuracy X  candidate in-distribution accuracy of every task >= X\n"
    "      --min-position-recovery X  nearest-neighbour position recovery for table schemes (default 1;\n"
    "                             0 disables; never applied when positions are shared by design)\n";

class Progress {
 public:
  Progress() : enabled_(isatty(2) != 0), start_(std::chrono::steady_clock::now()) {}
  void operator()(const std::string& what) {
    if (!enabled_) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (t < 1.0) return;
    std::fprintf(stderr, "\r\033[K[verify %.0fs] %s", t, what.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (shown_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool enabled_, shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

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

bool write_file(const std::string& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return false;
  f << content;
  return static_cast<bool>(f);
}

int verify_main(int argc, char** argv) {
  Args args(argc, argv, 1);
  verify::Options o;
  std::string json_path, html_path;
  std::vector<std::string> positional;
  auto int_flag = [&](const std::string& a, int64_t lo, int64_t hi, int64_t* out, const char* what) -> bool {
    std::string v;
    if (!args.value(a, &v) || !parse_int(v, lo, hi, out)) {
      args.error = a + " needs " + what;
      return false;
    }
    return true;
  };
  auto gate_flag = [&](const std::string& a, std::optional<double>* out) -> bool {
    std::string v;
    double x;
    if (!args.value(a, &v) || !parse_float(v, 0.0, 1e12, &x)) {
      args.error = a + " needs a finite number >= 0";
      return false;
    }
    *out = x;
    return true;
  };
  while (!args.empty()) {
    std::string a = args.take(), v;
    int64_t n = 0;
    bool ok = true;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--text") {
      ok = args.value(a, &o.text_path) && !o.text_path.empty();
      if (!ok) args.error = "--text needs a file";
    } else if (a == "--json") {
      ok = args.value(a, &json_path) && !json_path.empty();
      if (!ok) args.error = "--json needs a file";
    } else if (a == "--report") {
      ok = args.value(a, &html_path) && !html_path.empty();
      if (!ok) args.error = "--report needs a file";
    } else if (a == "--seed") {
      ok = int_flag(a, 1, INT64_MAX, &n, "an integer > 0");
      o.seed = static_cast<uint64_t>(n);
    } else if (a == "--samples") {
      ok = int_flag(a, 1, 1000000, &n, "an integer >= 1");
      o.samples = n;
    } else if (a == "--max-positions") {
      ok = int_flag(a, 2, INT32_MAX, &n, "an integer >= 2");
      o.max_positions = n;
    } else if (a == "--order-positions") {
      ok = int_flag(a, 0, INT32_MAX, &n, "an integer >= 0");
      o.order_positions = n;
    } else if (a == "--swap-pairs") {
      ok = int_flag(a, 0, 1000000, &n, "an integer >= 0");
      o.swap_pairs = n;
    } else if (a == "--beyond") {
      ok = int_flag(a, 1, 1 << 24, &n, "an integer in [1, 2^24]");
      o.beyond = n;
    } else if (a == "--task-cases") {
      ok = int_flag(a, 0, 10000000, &n, "an integer >= 0");
      o.task_cases = n;
    } else if (a == "--task-extrap-cases") {
      ok = int_flag(a, 1, 10000000, &n, "an integer >= 1");
      o.task_extrap_cases = n;
    } else if (a == "--threads") {
      ok = int_flag(a, 1, 256, &n, "an integer in [1, 256]");
      o.threads = static_cast<uint32_t>(n);
    } else if (a == "--buckets") {
      ok = args.value(a, &v) && parse_buckets(v, &o.bucket_starts);
      if (!ok) args.error = "--buckets needs increasing integers >= 0 separated by commas (e.g. 0,64,256)";
    } else if (a == "--min-top1") {
      ok = gate_flag(a, &o.min_top1);
    } else if (a == "--max-kl") {
      ok = gate_flag(a, &o.max_kl);
    } else if (a == "--max-ppl-delta") {
      ok = gate_flag(a, &o.max_ppl_delta);
    } else if (a == "--min-gap-ratio") {
      ok = gate_flag(a, &o.min_gap_ratio);
    } else if (a == "--min-swap-agreement") {
      ok = gate_flag(a, &o.min_swap_agreement);
    } else if (a == "--min-task-accuracy") {
      ok = gate_flag(a, &o.min_task_accuracy);
    } else if (a == "--min-position-recovery") {
      std::optional<double> x;
      ok = gate_flag(a, &x);
      if (ok) o.min_position_recovery = *x;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("verify", "unknown option " + a, kUsage);
    } else {
      positional.push_back(a);
    }
    if (!ok) return usage_error("verify", args.error, kUsage);
  }
  if (positional.size() < 2) return usage_error("verify", "missing REF and CAND models", kUsage);
  if (positional.size() > 2) return usage_error("verify", "unexpected argument " + positional[2], kUsage);
  o.ref_path = positional[0];
  o.cand_path = positional[1];

  Progress progress;
  o.progress = [&progress](const std::string& s) { progress(s); };
  auto report = verify::run_battery(o);
  progress.done();
  if (!report.ok()) {
    std::fprintf(stderr, "ordinal verify: %s\n", report.status().to_string().c_str());
    return kExitUsage;
  }
  const verify::Report& r = report.value();
  const std::string text = verify::report_text(r);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (!json_path.empty() && !write_file(json_path, verify::report_json(r))) {
    std::fprintf(stderr, "ordinal verify: cannot write %s\n", json_path.c_str());
    return kExitUsage;
  }
  if (!html_path.empty() && !write_file(html_path, verify::report_html(r))) {
    std::fprintf(stderr, "ordinal verify: cannot write %s\n", html_path.c_str());
    return kExitUsage;
  }
  if (!r.passed()) {
    for (const verify::GateResult& g : r.gates) {
      if (!g.passed) std::fprintf(stderr, "%s\n", g.line().c_str());
    }
    return kExitFailed;
  }
  return kExitOk;
}
}  // namespace

int cmd_verify(int argc, char** argv) {
  try {
    return verify_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ordinal verify: %s\n", e.what());
    return kExitUsage;
  }
}

}  // namespace ordinal::cli
