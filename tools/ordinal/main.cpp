// ordinal: the host CLI. One executable, one verb per file (tools/ordinal/cmd_*.cpp).
#include <cstdio>
#include <cstring>

#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"

namespace {
const char* kUsage =
    "usage: ordinal VERB [args]   (ordinal VERB --help for details)\n"
    "  import     import a llama2.c or safetensors checkpoint\n"
    "  run        generate text (prints exactly what llama2.c run.c prints)\n"
    "  inspect    show config, positional scheme, tensors and bytes per component\n"
    "  verify     compare a candidate with a reference position by position (missed gate: exit 1)\n"
    "  quantize   shrink positional tables / make RoPE exact (fixed point), f16 weights; prints "
    "before/after\n"
    "  bench      decode tokens/s, time to first token, bytes per token, memory (JSON with --json)\n"
    "  profile    attention profiler: HTML heatmaps per head, attention by distance, entropy\n";
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? ordinal::cli::kExitUsage : 0;
  }
  const char* verb = argv[1];
  struct Entry {
    const char* name;
    int (*fn)(int, char**);
  };
  const Entry verbs[] = {
      {"import", ordinal::cli::cmd_import},   {"run", ordinal::cli::cmd_run},
      {"inspect", ordinal::cli::cmd_inspect}, {"verify", ordinal::cli::cmd_verify},
      {"bench", ordinal::cli::cmd_bench},     {"quantize", ordinal::cli::cmd_quantize},
      {"profile", ordinal::cli::cmd_profile},
  };
  for (const Entry& e : verbs) {
    if (!std::strcmp(verb, e.name)) return e.fn(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "ordinal: unknown verb '%s'\n\n%s", verb, kUsage);
  return ordinal::cli::kExitUsage;
}
