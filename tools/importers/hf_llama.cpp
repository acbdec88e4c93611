// Llama bodies: nn.Linear weights [out, in] taken as stored; RMSNorm, SwiGLU, GQA, tied or untied head.
#include "importers/safetensors_internal.hpp"

namespace ordinal::importers::hf {

modelio::ModelSpec import_llama(const json& j, const Config& c, TensorSource& src) {
  const uint32_t d = c.u32("hidden_size", 1, 1 << 16);
  const uint32_t I = c.u32("intermediate_size", 1, 1 << 20);
  const uint32_t L = c.u32("num_hidden_layers", 1, 1024);
  const uint32_t H = c.u32("num_attention_heads", 1, d);
  const uint32_t KV = c.u32_or("num_key_value_heads", H, 1, H);
  const uint32_t P = c.u32("max_position_embeddings", 1, 1u << 24);
  const uint32_t V = c.u32("vocab_size", 1, 1u << 22);
  if (H % KV != 0) {
    fail(c.path() + ": num_attention_heads " + std::to_string(H) +
         " is not a multiple of num_key_value_heads " + std::to_string(KV));
  }
  if (!c.has("head_dim") && d % H != 0) {
    fail(c.path() + ": hidden_size " + std::to_string(d) + " is not a multiple of num_attention_heads " +
         std::to_string(H));
  }
  const uint32_t hd = c.u32_or("head_dim", d / H, 2, 1 << 12);
  const std::string act = c.string_or("hidden_act", "silu");
  if (act != "silu") fail(c.path() + ": hidden_act '" + act + "' is not supported (silu)");
  if (c.boolean_or("attention_bias", false) || c.boolean_or("mlp_bias", false)) {
    fail(c.path() + ": llama attention_bias/mlp_bias are not supported by this importer");
  }
  const bool tied = c.boolean_or("tie_word_embeddings", false);
  const json pos = positional_config(j, c.path(), "rope");
  const std::string scheme = pos["scheme"].get<std::string>();
  if (scheme != "rope")
    fail(c.path() + ": llama bodies use ordinal_positional.scheme 'rope', not '" + scheme + "'");
  const std::string layout = Config(pos, c.path() + ": ordinal_positional").string_or("layout", "split_half");
  if (layout != "split_half" && layout != "interleaved") {
    fail(c.path() + ": ordinal_positional.layout '" + layout + "' is unknown (split_half, interleaved)");
  }
  if (hd % 2 != 0) fail(c.path() + ": RoPE needs an even head_dim, got " + std::to_string(hd));

  modelio::ModelSpec spec;
  ModelConfig& mc = spec.config;
  mc.architecture = Architecture::kLlama;
  mc.dim = d;
  mc.hidden_dim = I;
  mc.n_layers = L;
  mc.n_heads = H;
  mc.n_kv_heads = KV;
  mc.head_dim = hd;
  mc.vocab_size = V;
  mc.max_positions = P;
  mc.norm = NormType::kRMSNorm;
  mc.norm_eps = static_cast<float>(c.number_or("rms_norm_eps", 1e-5));
  if (!(mc.norm_eps > 0.0f)) fail(c.path() + ": 'rms_norm_eps' must be positive");
  mc.activation = Activation::kSwiGLU;
  mc.tied_classifier = tied;

  const uint64_t q_dim = uint64_t{H} * hd, kv_dim = uint64_t{KV} * hd;
  spec.token_embedding =
      host("model.embed_tokens.weight", src.take("model.embed_tokens.weight", {V, d}, true));
  spec.layers.resize(L);
  for (uint32_t l = 0; l < L; ++l) {
    modelio::HostLayer& y = spec.layers[l];
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    auto take = [&](const std::string& name, std::vector<uint64_t> shape, bool keep_f16) {
      return host(pre + name, src.take(pre + name, shape, keep_f16));
    };
    y.attn_norm = take("input_layernorm.weight", {d}, false);
    y.wq = take("self_attn.q_proj.weight", {q_dim, d}, true);
    y.wk = take("self_attn.k_proj.weight", {kv_dim, d}, true);
    y.wv = take("self_attn.v_proj.weight", {kv_dim, d}, true);
    y.wo = take("self_attn.o_proj.weight", {d, q_dim}, true);
    y.ffn_norm = take("post_attention_layernorm.weight", {d}, false);
    y.w1 = take("mlp.gate_proj.weight", {I, d}, true);
    y.w3 = take("mlp.up_proj.weight", {I, d}, true);
    y.w2 = take("mlp.down_proj.weight", {d, I}, true);
  }
  spec.final_norm = host("model.norm.weight", src.take("model.norm.weight", {d}, false));
  if (!tied) spec.classifier = host("lm_head.weight", src.take("lm_head.weight", {V, d}, true));

  llama_rope(j, c, layout, hd, &spec.positional);
  common_metadata(&spec, "llama", P, pos);
  return spec;
}

}  // namespace ordinal::importers::hf
