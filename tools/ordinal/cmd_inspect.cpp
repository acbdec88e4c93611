// ordinal inspect MODEL: config, positional scheme, tensors, and bytes per component.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>

#include "introspect/model_introspection.hpp"
#include "modelio/host_scheme.hpp"
#include "ordinal/args.hpp"
#include "ordinal/commands.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/runtime.hpp"

namespace ordinal::cli {

namespace {
const char* kUsage = "usage: ordinal inspect MODEL [--tensors]\n";

std::string quant_string(const format::TensorView& v) {
  switch (v.quant.granularity) {
    case format::QuantGranularity::kNone:
      return "-";
    case format::QuantGranularity::kPerTensor:
      return std::string("per-tensor ") + format::dtype_name(v.quant.scale_dtype);
    case format::QuantGranularity::kPerRow:
      return std::string("per-row ") + format::dtype_name(v.quant.scale_dtype);
    case format::QuantGranularity::kPerColumn:
      return std::string("per-column ") + format::dtype_name(v.quant.scale_dtype);
    case format::QuantGranularity::kPerGroup:
      return "group-" + std::to_string(v.quant.group_size) + " " + format::dtype_name(v.quant.scale_dtype) +
             (v.quant.zero_points ? " +zp" : "");
  }
  return "?";
}

}  // namespace

int cmd_inspect(int argc, char** argv) {
  Args args(argc, argv, 1);
  std::string path;
  bool list_tensors = true;
  while (!args.empty()) {
    std::string a = args.take();
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--summary") {
      list_tensors = false;
    } else if (a == "--tensors") {
      list_tensors = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("inspect", "unknown option " + a, kUsage);
    } else if (path.empty()) {
      path = a;
    } else {
      return usage_error("inspect", "unexpected argument " + a, kUsage);
    }
  }
  if (path.empty()) return usage_error("inspect", "missing MODEL", kUsage);
  auto model = Model::load(path);
  if (!model.ok()) {
    std::fprintf(stderr, "ordinal inspect: %s\n", printable(model.status().to_string()).c_str());
    return kExitUsage;
  }
  const detail::ModelData& m = introspect::contents(*model.value());
  const ModelConfig& c = m.config;
  // Everything printed that comes from the file or the command line goes through printable().
  std::printf("model          %s (format v%u, %zu bytes)\n", printable(path).c_str(), m.format_version,
              model.value()->file_bytes());
  std::printf("architecture   %s\n", c.architecture == Architecture::kLlama ? "llama" : "gpt2");
  std::printf("dims           dim %u, hidden %u, layers %u, heads %u, kv-heads %u, head_dim %u\n", c.dim,
              c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim);
  std::printf("vocab          %u (bos %d, eos %d)\n", c.vocab_size, m.tokenizer.bos_id(),
              m.tokenizer.eos_id());
  std::printf("context        %u positions (addressable: %" PRId64 ")\n", c.max_positions, m.position_limit);
  std::printf("norm           %s eps %g; activation %s; classifier %s\n",
              c.norm == NormType::kRMSNorm ? "rmsnorm" : "layernorm", c.norm_eps,
              c.activation == Activation::kSwiGLU ? "swiglu" : "gelu",
              c.tied_classifier ? "tied" : "separate");
  std::printf("positional     %s: %s\n", positional_scheme_name(m.positional.scheme),
              modelio::describe_positional(m.positional, m.config).c_str());
  for (const auto& kv : m.metadata)
    std::printf("meta           %s = %s\n", printable(kv.first).c_str(), printable(kv.second).c_str());
  if (!m.task_spec.empty()) std::printf("task spec      %zu bytes of JSON\n", m.task_spec.size());

  if (list_tensors) {
    std::printf("\n%-44s %-5s %-14s %-22s %10s\n", "tensor", "dtype", "shape", "quantization", "bytes");
    for (const format::TensorView* v : introspect::tensors(*model.value())) {
      std::printf("%-44s %-5s %-14s %-22s %10" PRIu64 "\n", printable(v->name).c_str(),
                  format::dtype_name(v->dtype), v->shape_string().c_str(), quant_string(*v).c_str(),
                  format::stored_bytes(*v));
    }
  }
  const introspect::ComponentBytes bytes = introspect::component_bytes(*model.value());
  std::printf("\nbytes per component\n");
  std::printf("  %-22s %12" PRIu64 "\n", "token embedding", bytes.token_embedding);
  std::printf("  %-22s %12" PRIu64 "   (%s)\n", "positional", bytes.positional,
              positional_scheme_name(m.positional.scheme));
  std::printf("  %-22s %12" PRIu64 "\n", "attention", bytes.attention);
  std::printf("  %-22s %12" PRIu64 "\n", "mlp", bytes.mlp);
  std::printf("  %-22s %12" PRIu64 "\n", "norms", bytes.norms);
  std::printf("  %-22s %12" PRIu64 "%s\n", "classifier", bytes.classifier,
              c.tied_classifier ? "   (tied to token embedding)" : "");
  std::printf("  %-22s %12zu\n", "file total", model.value()->file_bytes());

  // What one session costs at the model's full context, per KV cache type (1 thread).
  std::printf("\nsession memory at %u positions (1 thread)\n", c.max_positions);
  std::printf("  %-10s %14s %14s %16s\n", "kv cache", "session bytes", "kv bytes", "weights B/token");
  size_t f32_kv = 0;
  for (KvCacheType kv : {KvCacheType::kF32, KvCacheType::kInt8}) {
    SessionOptions so;
    so.threads = 1;
    so.kv_cache = kv;
    so.memory_budget =
        host_memory_budget();  // planned first: a 2^24-position context is reported, not allocated
    auto s = Session::create(model.value(), so);
    if (!s.ok()) {
      std::printf("  %-10s %s\n", kv_cache_type_name(kv), printable(s.status().to_string()).c_str());
      continue;
    }
    const size_t kvb = s.value()->kv_cache_bytes();
    if (kv == KvCacheType::kF32) f32_kv = kvb;
    char note[48] = "";
    if (kv != KvCacheType::kF32 && kvb > 0 && f32_kv > 0) {
      std::snprintf(note, sizeof note, "   kv x%.2f smaller",
                    static_cast<double>(f32_kv) / static_cast<double>(kvb));
    }
    std::printf("  %-10s %14zu %14zu %16zu%s\n", kv_cache_type_name(kv), s.value()->memory_bytes(), kvb,
                s.value()->weight_bytes_per_token(), note);
  }
  return kExitOk;
}

}  // namespace ordinal::cli
