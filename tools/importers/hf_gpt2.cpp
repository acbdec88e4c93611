// GPT-2 bodies: HF Conv1D weights [in, out] split (c_attn = q | k | v) and transposed to Ordinal's
// [out, in]; LayerNorm with biases, GELU (tanh), tied or separate head.
#include "importers/safetensors_internal.hpp"

namespace ordinal::importers::hf {

modelio::ModelSpec import_gpt2(const json& j, const Config& c, TensorSource& src) {
  const uint32_t d = c.u32("n_embd", 1, 1 << 16);
  const uint32_t L = c.u32("n_layer", 1, 1024);
  const uint32_t H = c.u32("n_head", 1, d);
  const uint32_t P = c.u32("n_positions", 1, 1u << 24);
  const uint32_t V = c.u32("vocab_size", 1, 1u << 22);
  if (d % H != 0)
    fail(c.path() + ": n_embd " + std::to_string(d) + " is not a multiple of n_head " + std::to_string(H));
  const std::string act = c.string_or("activation_function", "gelu_new");
  if (act != "gelu_new" && act != "gelu_pytorch_tanh") {
    fail(c.path() + ": activation_function '" + act + "' is not supported (gelu_new: GELU with tanh)");
  }
  const bool tied = c.boolean_or("tie_word_embeddings", true);
  const json pos = positional_config(j, c.path(), "");
  const std::string scheme = pos["scheme"].get<std::string>();
  if (scheme == "rope") fail(c.path() + ": ordinal_positional.scheme 'rope' is not defined for gpt2 bodies");

  modelio::ModelSpec spec;
  ModelConfig& mc = spec.config;
  mc.architecture = Architecture::kGPT2;
  mc.dim = d;
  mc.n_layers = L;
  mc.n_heads = H;
  mc.n_kv_heads = H;
  mc.head_dim = d / H;
  mc.vocab_size = V;
  mc.max_positions = P;
  mc.norm = NormType::kLayerNorm;
  mc.norm_eps = static_cast<float>(c.number_or("layer_norm_epsilon", 1e-5));
  if (!(mc.norm_eps > 0.0f)) fail(c.path() + ": 'layer_norm_epsilon' must be positive");
  mc.activation = Activation::kGELU;
  mc.tied_classifier = tied;
  mc.attention_bias = true;
  mc.mlp_bias = true;

  spec.token_embedding = host("transformer.wte.weight", src.take("transformer.wte.weight", {V, d}, true));
  const std::vector<uint64_t>& fc = src.shape_of("transformer.h.0.mlp.c_fc.weight");
  if (fc.size() != 2 || fc[1] == 0 || fc[1] > (1u << 20)) {
    fail(c.path() + ": tensor 'transformer.h.0.mlp.c_fc.weight' has shape " + shape_string(fc) +
         ", expected [" + std::to_string(d) + ", hidden]");
  }
  const uint64_t hidden = fc[1];
  mc.hidden_dim = static_cast<uint32_t>(hidden);
  spec.layers.resize(L);
  for (uint32_t l = 0; l < L; ++l) {
    modelio::HostLayer& y = spec.layers[l];
    const std::string pre = "transformer.h." + std::to_string(l) + ".";
    y.attn_norm = host(pre + "ln_1.weight", src.take(pre + "ln_1.weight", {d}, false));
    y.attn_norm_bias = host(pre + "ln_1.bias", src.take(pre + "ln_1.bias", {d}, false));
    const Mat qkv = src.take(pre + "attn.c_attn.weight", {d, 3ull * d}, true);
    y.wq = host(pre + "attn.c_attn.weight:q", transpose_cols(qkv, 0, d));
    y.wk = host(pre + "attn.c_attn.weight:k", transpose_cols(qkv, d, d));
    y.wv = host(pre + "attn.c_attn.weight:v", transpose_cols(qkv, 2ull * d, d));
    const Mat qkv_b = src.take(pre + "attn.c_attn.bias", {3ull * d}, false);
    y.bq = host(pre + "attn.c_attn.bias:q", slice(qkv_b, 0, d));
    y.bk = host(pre + "attn.c_attn.bias:k", slice(qkv_b, d, d));
    y.bv = host(pre + "attn.c_attn.bias:v", slice(qkv_b, 2ull * d, d));
    const Mat o = src.take(pre + "attn.c_proj.weight", {d, d}, true);
    y.wo = host(pre + "attn.c_proj.weight", transpose_cols(o, 0, d));
    y.bo = host(pre + "attn.c_proj.bias", src.take(pre + "attn.c_proj.bias", {d}, false));
    y.ffn_norm = host(pre + "ln_2.weight", src.take(pre + "ln_2.weight", {d}, false));
    y.ffn_norm_bias = host(pre + "ln_2.bias", src.take(pre + "ln_2.bias", {d}, false));
    const Mat w1 = src.take(pre + "mlp.c_fc.weight", {d, hidden}, true);
    y.w1 = host(pre + "mlp.c_fc.weight", transpose_cols(w1, 0, hidden));
    y.b1 = host(pre + "mlp.c_fc.bias", src.take(pre + "mlp.c_fc.bias", {hidden}, false));
    const Mat w2 = src.take(pre + "mlp.c_proj.weight", {hidden, d}, true);
    y.w2 = host(pre + "mlp.c_proj.weight", transpose_cols(w2, 0, d));
    y.b2 = host(pre + "mlp.c_proj.bias", src.take(pre + "mlp.c_proj.bias", {d}, false));
  }
  spec.final_norm = host("transformer.ln_f.weight", src.take("transformer.ln_f.weight", {d}, false));
  spec.final_norm_bias = host("transformer.ln_f.bias", src.take("transformer.ln_f.bias", {d}, false));
  if (!tied) spec.classifier = host("lm_head.weight", src.take("lm_head.weight", {V, d}, true));

  gpt2_positional(pos, c, src, H, d, P, &spec.positional);
  common_metadata(&spec, "gpt2", P, pos);
  return spec;
}

}  // namespace ordinal::importers::hf
