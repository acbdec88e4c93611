// The per-architecture mapping of weights: each layer's tensors against the config (norm type, activation,
// biases), and the storage formats the linear kernels run.
#include <string>

#include "format/load_checks.hpp"
#include "format/model_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

namespace fb = ::ordinal::schema;

// What the linear kernels run (kernels/linear.hpp): int8 per row or per tensor (f32/f16 scales), or
// group-wise int8/int4 with f16 scales per group of a multiple of 32 columns (kernels/group_gemm.hpp:
// activations are quantized in blocks of 32, and the scales are read in place as f16). Group-wise int8 takes
// the whole
// [-128, 127] range (GGUF Q8_0 files may hold -128); int4 zero points were range-checked by check_quant.
Status check_linear_weight(const format::TensorView& v) {
  if (!v.present() || (v.dtype != DType::kI8 && v.dtype != DType::kI4)) return Status::Ok();
  const QuantGranularity g = v.quant.granularity;
  if (v.dtype == DType::kI8 && (g == QuantGranularity::kPerRow || g == QuantGranularity::kPerTensor)) {
    return Status::Ok();
  }
  if (g != QuantGranularity::kPerGroup) {
    return invalid_model("tensor '" + v.name + "': " +
                         (v.dtype == DType::kI8 ? "int8 weights need per-row, per-tensor or per-group scales"
                                                : "int4 weights need per-group scales"));
  }
  if (v.quant.scale_dtype != DType::kF16) {
    return invalid_model("tensor '" + v.name + "': group-wise weights need f16 scales");
  }
  if (v.quant.group_size % 32 != 0) {
    return invalid_model("tensor '" + v.name + "': group size " + std::to_string(v.quant.group_size) +
                         " of a linear weight must be a multiple of 32");
  }
  return Status::Ok();
}

Status check_layers(const Ctx& ctx, const fb::Model* m, detail::ModelData* md) {
  const ModelConfig& c = md->config;
  const auto* layers = m->layers();
  if (layers->size() != c.n_layers) {
    return invalid_model("model has " + std::to_string(layers->size()) + " layers, config says " +
                         std::to_string(c.n_layers));
  }
  const uint32_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const bool layer_norm = c.norm == NormType::kLayerNorm;
  const bool swiglu = c.activation == Activation::kSwiGLU;
  md->layers.resize(c.n_layers);
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    const fb::Layer* fl = layers->Get(l);
    detail::LayerWeights& w = md->layers[l];
    const std::string pre = "layers[" + std::to_string(l) + "].";
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->attn_norm(), pre + "attn_norm", {c.dim}, kFloatOnly, true, &w.attn_norm));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->attn_norm_bias(), pre + "attn_norm_bias", {c.dim},
                                         kFloatOnly, layer_norm, &w.attn_norm_bias));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wq(), pre + "wq", {q_dim, c.dim}, kWeight, true, &w.wq));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wk(), pre + "wk", {kv_dim, c.dim}, kWeight, true, &w.wk));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wv(), pre + "wv", {kv_dim, c.dim}, kWeight, true, &w.wv));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->wo(), pre + "wo", {c.dim, q_dim}, kWeight, true, &w.wo));
    const bool ab = c.attention_bias;
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bq(), pre + "bq", {q_dim}, kFloatOnly, ab, &w.bq));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bk(), pre + "bk", {kv_dim}, kFloatOnly, ab, &w.bk));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bv(), pre + "bv", {kv_dim}, kFloatOnly, ab, &w.bv));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->bo(), pre + "bo", {c.dim}, kFloatOnly, ab, &w.bo));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->ffn_norm(), pre + "ffn_norm", {c.dim}, kFloatOnly, true, &w.ffn_norm));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->ffn_norm_bias(), pre + "ffn_norm_bias", {c.dim}, kFloatOnly,
                                         layer_norm, &w.ffn_norm_bias));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->w1(), pre + "w1", {c.hidden_dim, c.dim}, kWeight, true, &w.w1));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->w2(), pre + "w2", {c.dim, c.hidden_dim}, kWeight, true, &w.w2));
    ORDINAL_RETURN_IF_ERROR(
        check_tensor(ctx, fl->w3(), pre + "w3", {c.hidden_dim, c.dim}, kWeight, swiglu, &w.w3));
    const bool mb = c.mlp_bias;
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->b1(), pre + "b1", {c.hidden_dim}, kFloatOnly, mb, &w.b1));
    ORDINAL_RETURN_IF_ERROR(check_tensor(ctx, fl->b2(), pre + "b2", {c.dim}, kFloatOnly, mb, &w.b2));
    // Optional tensors the config does not call for would be silently ignored: refuse them instead.
    if ((!ab && (fl->bq() || fl->bk() || fl->bv() || fl->bo())) || (!mb && (fl->b1() || fl->b2())) ||
        (!layer_norm && (fl->attn_norm_bias() || fl->ffn_norm_bias())) || (!swiglu && fl->w3())) {
      return invalid_model(pre + ": carries bias/w3 tensors that the config does not use");
    }
    for (const format::TensorView* v : {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3}) {
      ORDINAL_RETURN_IF_ERROR(check_linear_weight(*v));
    }
  }
  return Status::Ok();
}

}  // namespace ordinal::format
