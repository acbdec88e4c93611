// ordinal import llama2c MODEL.bin TOKENIZER.bin -o OUT.ordinal
// ordinal import safetensors DIR -o OUT.ordinal
// ordinal import gguf FILE.gguf -o OUT.ordinal
#include <cstdio>
#include <string>

#include "importers/gguf.hpp"
#include "importers/llama2c.hpp"
#include "importers/safetensors.hpp"
#include "modelio/model_spec.hpp"
#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/runtime.hpp"

namespace ordinal::cli {

namespace {
const char* kUsage =
    "usage: ordinal import llama2c MODEL.bin TOKENIZER.bin -o OUT.ordinal\n"
    "       ordinal import safetensors DIR -o OUT.ordinal\n"
    "       ordinal import gguf FILE.gguf -o OUT.ordinal\n"
    "  DIR holds config.json, model.safetensors and tokenizer.json (GPT-2 or llama style, HF tensor "
    "names).\n"
    "  FILE.gguf: llama.cpp's format, llama or gpt2 architecture; Q8_0/Q4_0 are taken over as int8/int4\n"
    "  groups where the runtime reads them, other quantized types are dequantized (each listed).\n";
}

int cmd_import(int argc, char** argv) {
  Args args(argc, argv, 1);
  if (args.empty()) return usage_error("import", "missing format (llama2c, safetensors or gguf)", kUsage);
  std::string format = args.take();
  std::vector<std::string> inputs;
  std::string out;
  while (!args.empty()) {
    std::string a = args.take();
    if (a == "-o" || a == "--output") {
      if (!args.value(a, &out)) return usage_error("import", args.error, kUsage);
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("import", "unknown option " + a, kUsage);
    } else {
      inputs.push_back(a);
    }
  }
  if (out.empty()) return usage_error("import", "missing -o OUT.ordinal", kUsage);
  Result<modelio::ModelSpec> spec = Status(ErrorCode::kInvalidArgument, "unset");
  if (format == "llama2c") {
    if (inputs.size() != 2) return usage_error("import", "llama2c needs MODEL.bin and TOKENIZER.bin", kUsage);
    spec = importers::import_llama2c(inputs[0], inputs[1]);
  } else if (format == "safetensors") {
    if (inputs.size() != 1) return usage_error("import", "safetensors needs one directory", kUsage);
    spec = importers::import_safetensors(inputs[0]);
  } else if (format == "gguf") {
    if (inputs.size() != 1) return usage_error("import", "gguf needs one FILE.gguf", kUsage);
    Result<importers::GgufImport> imported = importers::import_gguf(inputs[0]);
    if (imported.ok()) {
      for (const std::string& note : imported.value().notes) std::printf("gguf: %s\n", note.c_str());
      spec = std::move(imported.value().spec);
    } else {
      spec = imported.status();
    }
  } else {
    return usage_error("import", "unknown format '" + format + "'", kUsage);
  }
  if (!spec.ok()) {
    std::fprintf(stderr, "ordinal import: %s\n", printable(spec.status().to_string()).c_str());
    return kExitUsage;
  }
  Status st = modelio::write_model(spec.value(), out);
  if (!st.ok()) {
    std::fprintf(stderr, "ordinal import: %s\n", printable(st.to_string()).c_str());
    return kExitFailed;
  }
  // Prove the file we wrote loads through the same verifier devices use.
  auto check = Model::load(out);
  if (!check.ok()) {
    std::fprintf(stderr, "ordinal import: written model does not verify: %s\n",
                 printable(check.status().to_string()).c_str());
    return kExitFailed;
  }
  const ModelConfig& c = check.value()->config();
  std::printf("wrote %s: %s, dim %u, %u layers, %u/%u heads, vocab %u, context %u, %zu bytes\n", out.c_str(),
              positional_scheme_name(check.value()->positional_scheme()), c.dim, c.n_layers, c.n_heads,
              c.n_kv_heads, c.vocab_size, c.max_positions, check.value()->file_bytes());
  return kExitOk;
}

}  // namespace ordinal::cli
