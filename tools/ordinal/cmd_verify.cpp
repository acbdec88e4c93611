// ordinal verify REF CAND [options]: the order-sensitive battery (tools/verify/). Human table on stdout,
// --json / --report files, gates -> exit 1 naming the failing metric and bucket; usage/load errors exit 2.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>

#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/verify_flags.hpp"
#include "verify/verify.hpp"

namespace ordinal::cli {

namespace {
const std::string kUsage = std::string(
                               "usage: ordinal verify REF CAND [options]\n"
                               "  runs REF and CAND side by side and compares them position by position\n"
                               "input\n") +
                           kVerifyInputUsage +
                           "output\n"
                           "      --json FILE            every figure as JSON\n"
                           "      --report FILE          self-contained HTML report with SVG plots\n"
                           "gates (exit 1 when one is missed)\n" +
                           kVerifyGateUsage;

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
  while (!args.empty()) {
    std::string a = args.take();
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage.c_str(), stdout);
      return kExitOk;
    }
    bool ok = true;
    const FlagParse f = parse_verify_flag(args, a, &o);
    if (f == FlagParse::kError) {
      ok = false;
    } else if (f == FlagParse::kParsed) {
      continue;
    } else if (a == "--json") {
      ok = args.value(a, &json_path) && !json_path.empty();
      if (!ok) args.error = "--json needs a file";
    } else if (a == "--report") {
      ok = args.value(a, &html_path) && !html_path.empty();
      if (!ok) args.error = "--report needs a file";
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("verify", "unknown option " + a, kUsage.c_str());
    } else {
      positional.push_back(a);
    }
    if (!ok) return usage_error("verify", args.error, kUsage.c_str());
  }
  if (positional.size() < 2) return usage_error("verify", "missing REF and CAND models", kUsage.c_str());
  if (positional.size() > 2)
    return usage_error("verify", "unexpected argument " + positional[2], kUsage.c_str());
  o.threads = clamp_threads(o.threads, "verify");
  o.ref_path = positional[0];
  o.cand_path = positional[1];

  Progress progress;
  o.progress = [&progress](const std::string& s) { progress(s); };
  auto report = verify::run_battery(o);
  progress.done();
  if (!report.ok()) {
    std::fprintf(stderr, "ordinal verify: %s\n", printable(report.status().to_string()).c_str());
    return kExitUsage;
  }
  const verify::Report& r = report.value();
  const std::string text = printable(verify::report_text(r), /*keep_newlines=*/true);
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
