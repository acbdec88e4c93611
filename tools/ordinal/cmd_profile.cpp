// ordinal profile MODEL --text FILE --report out.html [--tokens N] [--map N] [--distances N] [--threads N]
//                  [--kv f32|int8]
// Runs the first tokens of a text through the model with an attention observer (AttentionProfile) and
// writes one self-contained HTML page: attention heatmaps per head, mass by relative distance, entropy,
// padding mass. Prints the per-head table on stdout.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "importers/read_file.hpp"
#include "ordinal/args.hpp"
#include "ordinal/attention_profile.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/runtime.hpp"
#include "profile/profile_report.hpp"
#include "verify/text_stream.hpp"

namespace ordinal::cli {

namespace {
const char* kUsage =
    "usage: ordinal profile MODEL --text FILE --report OUT.html [options]\n"
    "  --text FILE        text to run (BOS first, then its first tokens)\n"
    "  --report OUT.html  self-contained HTML: heatmaps per head, distance curves, entropy\n"
    "  --tokens N         positions to run, BOS included (default: min(256, the model's context))\n"
    "  --map N            positions the heatmaps cover (default 64, at most 512)\n"
    "  --distances N      relative distances tracked one by one (default: --tokens)\n"
    "  --threads N        worker threads in [1, 256] (default 1)\n"
    "  --kv f32|int8      KV cache type (default f32)\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "ordinal profile: %s\n", printable(message).c_str());
  return kExitUsage;
}
}  // namespace

int cmd_profile(int argc, char** argv) {
  Args args(argc, argv, 1);
  std::string model_path, text_path, report_path;
  int64_t tokens = 0, map = 64, distances = 0, threads = 1;
  KvCacheType kv = KvCacheType::kF32;
  while (!args.empty()) {
    std::string a = args.take(), v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--text") {
      if (!args.value(a, &text_path) || text_path.empty())
        return usage_error("profile", "--text needs a file", kUsage);
    } else if (a == "--report") {
      if (!args.value(a, &report_path) || report_path.empty())
        return usage_error("profile", "--report needs a file", kUsage);
    } else if (a == "--tokens") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 20, &tokens))
        return usage_error("profile", "--tokens needs an integer in [1, 2^20]", kUsage);
    } else if (a == "--map") {
      if (!args.value(a, &v) || !parse_int(v, 1, 512, &map))
        return usage_error("profile", "--map needs an integer in [1, 512]", kUsage);
    } else if (a == "--distances") {
      if (!args.value(a, &v) || !parse_int(v, 1, 1 << 20, &distances))
        return usage_error("profile", "--distances needs an integer in [1, 2^20]", kUsage);
    } else if (a == "--threads") {
      if (!args.value(a, &v) || !parse_int(v, 1, 256, &threads))
        return usage_error("profile", "--threads needs an integer in [1, 256]", kUsage);
    } else if (a == "--kv") {
      if (!args.value(a, &v) || (v != "f32" && v != "int8"))
        return usage_error("profile", "--kv needs f32 or int8", kUsage);
      kv = v == "int8" ? KvCacheType::kInt8 : KvCacheType::kF32;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("profile", "unknown option " + a, kUsage);
    } else if (model_path.empty()) {
      model_path = a;
    } else {
      return usage_error("profile", "unexpected argument " + a, kUsage);
    }
  }
  if (model_path.empty()) return usage_error("profile", "missing MODEL", kUsage);
  if (text_path.empty()) return usage_error("profile", "missing --text FILE", kUsage);
  if (report_path.empty()) return usage_error("profile", "missing --report OUT.html", kUsage);

  auto model = Model::load(model_path);
  if (!model.ok()) return fail(model.status().to_string());
  const ModelConfig& cfg = model.value()->config();
  const int64_t context = cfg.max_positions;
  if (tokens == 0) tokens = std::min<int64_t>(256, context);
  if (tokens > context)
    return fail("--tokens " + std::to_string(tokens) + " exceeds the model's context " +
                std::to_string(context));
  if (distances == 0) distances = tokens;

  const Tokenizer& tok = model.value()->tokenizer();
  std::string text;
  std::vector<int32_t> text_tokens;
  Status st = verify::read_text_tokens(tok, text_path, static_cast<size_t>(tokens - 1),
                                       importers::kMaxTextBytes, &text, &text_tokens);
  if (!st.ok()) return fail("text " + text_path + ": " + st.message());
  if (text_tokens.empty()) return fail("text " + text_path + " tokenizes to nothing");
  std::vector<int32_t> ids = {tok.bos_id()};
  for (int32_t t : text_tokens) {
    if (static_cast<int64_t>(ids.size()) >= tokens) break;
    ids.push_back(t);
  }

  SessionOptions so;
  so.threads = clamp_threads(threads, "profile");
  so.memory_budget = host_memory_budget();
  so.kv_cache = kv;
  so.context_length = static_cast<uint32_t>(ids.size());
  auto session = Session::create(model.value(), so);
  if (!session.ok()) return fail(session.status().to_string());
  auto profile = AttentionProfile::create(
      cfg.n_layers, cfg.n_heads, static_cast<uint32_t>(distances),
      static_cast<uint32_t>(std::min<int64_t>(map, static_cast<int64_t>(ids.size()))));
  if (!profile.ok()) return fail(profile.status().to_string());
  st = session.value()->set_attention_observer(AttentionProfile::observe, profile.value().get());
  if (st.ok()) st = session.value()->prefill(ids.data(), ids.size());
  if (!st.ok()) return fail(st.to_string());

  profile::ProfileInput in;
  in.model_path = model_path;
  in.scheme = positional_scheme_name(model.value()->positional_scheme());
  in.text_path = text_path;
  in.tokens = ids.size();
  for (size_t i = 0; i < ids.size(); ++i) {
    in.pieces.push_back(i == 0 ? std::string("<s>") : std::string(tok.decode(ids[i - 1], ids[i])));
  }
  const std::string html = profile::profile_html(in, *profile.value());
  std::ofstream out(report_path, std::ios::binary | std::ios::trunc);
  out << html;
  out.close();
  if (!out) return fail("cannot write " + report_path);
  std::fputs(profile::profile_text(in, *profile.value()).c_str(), stdout);
  std::fprintf(stderr, "ordinal profile: wrote %s (%zu bytes)\n", report_path.c_str(), html.size());
  return kExitOk;
}

}  // namespace ordinal::cli
