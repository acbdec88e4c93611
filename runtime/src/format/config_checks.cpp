// The model's config: known enum values, dimensions in range and consistent with each other.
#include <cmath>
#include <string>

#include "format/load_checks.hpp"
#include "format/model_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

namespace fb = ::ordinal::schema;

Status check_config(const fb::Config* c, ModelConfig* cfg) {
  auto bad = [](const std::string& m) { return invalid_model("config: " + m); };
  if (static_cast<uint8_t>(c->architecture()) > static_cast<uint8_t>(fb::Architecture::GPT2)) {
    return bad("unknown architecture");
  }
  if (static_cast<uint8_t>(c->norm()) > static_cast<uint8_t>(fb::NormType::LayerNorm))
    return bad("unknown norm");
  if (static_cast<uint8_t>(c->activation()) > static_cast<uint8_t>(fb::Activation::GELU)) {
    return bad("unknown activation");
  }
  cfg->architecture = static_cast<Architecture>(c->architecture());
  cfg->norm = static_cast<NormType>(c->norm());
  cfg->activation = static_cast<Activation>(c->activation());
  cfg->dim = c->dim();
  cfg->hidden_dim = c->hidden_dim();
  cfg->n_layers = c->n_layers();
  cfg->n_heads = c->n_heads();
  cfg->n_kv_heads = c->n_kv_heads();
  cfg->head_dim = c->head_dim();
  cfg->vocab_size = c->vocab_size();
  cfg->max_positions = c->max_positions();
  cfg->norm_eps = c->norm_eps();
  cfg->tied_classifier = c->tied_classifier();
  cfg->attention_bias = c->attention_bias();
  cfg->mlp_bias = c->mlp_bias();
  auto in = [](uint32_t v, uint32_t lo, uint32_t hi) { return v >= lo && v <= hi; };
  if (!in(cfg->dim, 1, kMaxDim)) return bad("dim " + std::to_string(cfg->dim) + " out of range [1, 65536]");
  if (!in(cfg->hidden_dim, 1, 4 * kMaxDim))
    return bad("hidden_dim " + std::to_string(cfg->hidden_dim) + " out of range");
  if (!in(cfg->n_layers, 1, kMaxLayers))
    return bad("n_layers " + std::to_string(cfg->n_layers) + " out of range");
  if (!in(cfg->n_heads, 1, kMaxDim)) return bad("n_heads " + std::to_string(cfg->n_heads) + " out of range");
  if (!in(cfg->n_kv_heads, 1, cfg->n_heads) || cfg->n_heads % cfg->n_kv_heads != 0) {
    return bad("n_kv_heads " + std::to_string(cfg->n_kv_heads) + " must divide n_heads " +
               std::to_string(cfg->n_heads));
  }
  if (!in(cfg->head_dim, 1, kMaxDim) || uint64_t{cfg->head_dim} * cfg->n_heads != cfg->dim) {
    return bad("head_dim " + std::to_string(cfg->head_dim) + " x n_heads " + std::to_string(cfg->n_heads) +
               " must equal dim " + std::to_string(cfg->dim));
  }
  if (!in(cfg->vocab_size, 1, kMaxVocab))
    return bad("vocab_size " + std::to_string(cfg->vocab_size) + " out of range");
  if (!in(cfg->max_positions, 1, kMaxPositions)) {
    return bad("max_positions " + std::to_string(cfg->max_positions) + " out of range");
  }
  if (!std::isfinite(cfg->norm_eps) || cfg->norm_eps <= 0.0f || cfg->norm_eps > 1.0f) {
    return bad("norm_eps must be a finite number in (0, 1]");
  }
  return Status::Ok();
}

}  // namespace ordinal::format
