// Small random models for tests: any architecture and positional scheme, deterministic from a seed,
// with a llama2.c-style vocabulary (specials, 256 byte pieces, printable ASCII, a few merges).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "modelio/model_spec.hpp"
#include "positional/alibi.hpp"

namespace ordinal::testing {

struct SyntheticOptions {
  Architecture arch = Architecture::kLlama;
  uint32_t dim = 32, hidden = 48, layers = 2, heads = 4, kv_heads = 2, context = 64;
  PositionalScheme scheme = PositionalScheme::kRope;
  uint64_t seed = 1;
  float weight_scale = 0.2f;
};

inline Tokenizer::Spec synthetic_tokenizer() {
  Tokenizer::Spec t;
  t.pieces = {"<unk>", "\n<s>\n", "\n</s>\n"};
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    t.pieces.push_back(buf);
  }
  for (char c = 32; c < 127; ++c) t.pieces.push_back(std::string(1, c));
  t.scores.assign(t.pieces.size(), 0.0f);
  const char* merges[] = {"th", "he", "the", " t", " the", "in", "ing", " a",
                          "an", "er", "on",  " o", "Once", "On", "nc"};
  float score = -1.0f;
  for (const char* m : merges) {
    t.pieces.push_back(m);
    t.scores.push_back(score);
    score -= 1.0f;
  }
  return t;
}

class TestRng {
 public:
  explicit TestRng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  float uniform() { return static_cast<float>(next() >> 40) / 16777216.0f; }  // [0, 1)
  float symmetric(float a) { return (2.0f * uniform() - 1.0f) * a; }

 private:
  uint64_t s_;
};

inline std::vector<float> random_values(TestRng& rng, size_t n, float scale) {
  std::vector<float> v(n);
  for (float& x : v) x = rng.symmetric(scale);
  return v;
}

// A valid positional component of every scheme, one row per scheme (drawn after the weights, so adding a
// scheme never changes the models of the others). Computed schemes use the host's own constructions
// (alibi_slopes_q32); storage formats beyond f32 come from `ordinal quantize`
// (cli::quantize::apply_positional).
struct SyntheticPositional {
  PositionalScheme scheme;
  void (*build)(const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p);
};

inline const SyntheticPositional kSyntheticPositionals[] = {
    {PositionalScheme::kNone,
     [](const SyntheticOptions&, const ModelConfig&, TestRng&, modelio::HostPositional*) {}},
    {PositionalScheme::kLearnedTable,
     [](const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p) {
       p->table = modelio::HostTensor::f32("wpe", {o.context, c.dim},
                                           random_values(rng, size_t{o.context} * c.dim, o.weight_scale));
     }},
    {PositionalScheme::kCodebookTable,
     [](const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p) {
       const uint32_t k = 8;
       p->codebook = modelio::HostTensor::f32("positional.codebook", {k, c.dim},
                                              random_values(rng, size_t{k} * c.dim, o.weight_scale));
       p->indices.name = "positional.indices";
       p->indices.dtype = format::DType::kU8;
       p->indices.shape = {o.context};
       for (uint32_t i = 0; i < o.context; ++i)
         p->indices.data.push_back(static_cast<uint8_t>(rng.next() % k));
     }},
    {PositionalScheme::kBucketedTable,
     [](const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p) {
       p->bucket_rule = detail::BucketRuleKind::kUniformStride;
       p->stride = 2;
       p->positions = o.context;
       const uint32_t rows = (o.context + 1) / 2;
       p->table = modelio::HostTensor::f32("positional.table", {rows, c.dim},
                                           random_values(rng, size_t{rows} * c.dim, o.weight_scale));
     }},
    {PositionalScheme::kLowRankTable,
     [](const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p) {
       const uint32_t r = 4;
       p->low_a = modelio::HostTensor::f32("positional.a", {o.context, r},
                                           random_values(rng, size_t{o.context} * r, o.weight_scale));
       p->low_b =
           modelio::HostTensor::f32("positional.b", {r, c.dim}, random_values(rng, size_t{r} * c.dim, 1.0f));
     }},
    {PositionalScheme::kHybridTable,
     [](const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p) {
       const uint32_t k = 4, r = 2;
       p->table = modelio::HostTensor::f32("positional.head", {k, c.dim},
                                           random_values(rng, size_t{k} * c.dim, o.weight_scale));
       p->low_a = modelio::HostTensor::f32("positional.tail_a", {o.context - k, r},
                                           random_values(rng, size_t{o.context - k} * r, o.weight_scale));
       p->low_b = modelio::HostTensor::f32("positional.tail_b", {r, c.dim},
                                           random_values(rng, size_t{r} * c.dim, 1.0f));
     }},
    {PositionalScheme::kSinusoidal, [](const SyntheticOptions&, const ModelConfig&, TestRng&,
                                       modelio::HostPositional* p) { p->base = 10000.0; }},
    {PositionalScheme::kRope,
     [](const SyntheticOptions&, const ModelConfig& c, TestRng&, modelio::HostPositional* p) {
       p->base = 10000.0;
       p->rotary_dims = c.head_dim;
     }},
    {PositionalScheme::kAlibi,
     [](const SyntheticOptions&, const ModelConfig& c, TestRng&, modelio::HostPositional* p) {
       p->slopes_q32.assign(c.n_heads, 0);
       if (!positional::alibi_slopes_q32(static_cast<int>(c.n_heads), p->slopes_q32.data()).ok())
         p->slopes_q32.clear();
     }},
    {PositionalScheme::kRelativeBias,
     [](const SyntheticOptions& o, const ModelConfig& c, TestRng& rng, modelio::HostPositional* p) {
       p->num_buckets = 16;
       p->max_distance = 64;
       p->bidirectional = false;
       p->table = modelio::HostTensor::f32("positional.relative_bias", {16, c.n_heads},
                                           random_values(rng, size_t{16} * c.n_heads, 1.0f));
     }},
};

inline const SyntheticPositional* find_synthetic_positional(PositionalScheme scheme) {
  for (const SyntheticPositional& b : kSyntheticPositionals) {
    if (b.scheme == scheme) return &b;
  }
  return nullptr;
}

inline modelio::ModelSpec make_synthetic_model(const SyntheticOptions& o) {
  using modelio::HostTensor;
  TestRng rng(o.seed);
  modelio::ModelSpec s;
  s.tokenizer = synthetic_tokenizer();
  ModelConfig& c = s.config;
  c.architecture = o.arch;
  c.dim = o.dim;
  c.hidden_dim = o.hidden;
  c.n_layers = o.layers;
  c.n_heads = o.heads;
  c.n_kv_heads = o.kv_heads;
  c.head_dim = o.dim / o.heads;
  c.vocab_size = static_cast<uint32_t>(s.tokenizer.pieces.size());
  c.max_positions = o.context;
  const bool gpt2 = o.arch == Architecture::kGPT2;
  c.norm = gpt2 ? NormType::kLayerNorm : NormType::kRMSNorm;
  c.activation = gpt2 ? Activation::kGELU : Activation::kSwiGLU;
  c.tied_classifier = true;
  c.attention_bias = gpt2;
  c.mlp_bias = gpt2;
  const uint32_t D = o.dim, H = o.hidden, V = c.vocab_size, kv = o.kv_heads * c.head_dim;
  const float w = o.weight_scale;
  auto mat = [&](const std::string& name, uint32_t r, uint32_t cols) {
    return HostTensor::f32(name, {r, cols}, random_values(rng, size_t{r} * cols, w));
  };
  auto vec = [&](const std::string& name, uint32_t n, float center, float spread) {
    std::vector<float> v = random_values(rng, n, spread);
    for (float& x : v) x += center;
    return HostTensor::f32(name, {n}, v);
  };
  s.token_embedding = mat("tok_embeddings", V, D);
  for (uint32_t l = 0; l < o.layers; ++l) {
    modelio::HostLayer y;
    std::string p = "layers." + std::to_string(l) + ".";
    y.attn_norm = vec(p + "attn_norm", D, 1.0f, 0.1f);
    y.wq = mat(p + "wq", D, D);
    y.wk = mat(p + "wk", kv, D);
    y.wv = mat(p + "wv", kv, D);
    y.wo = mat(p + "wo", D, D);
    y.ffn_norm = vec(p + "ffn_norm", D, 1.0f, 0.1f);
    y.w1 = mat(p + "w1", H, D);
    y.w2 = mat(p + "w2", D, H);
    if (gpt2) {
      y.attn_norm_bias = vec(p + "attn_norm_bias", D, 0.0f, 0.1f);
      y.ffn_norm_bias = vec(p + "ffn_norm_bias", D, 0.0f, 0.1f);
      y.bq = vec(p + "bq", D, 0.0f, 0.1f);
      y.bk = vec(p + "bk", kv, 0.0f, 0.1f);
      y.bv = vec(p + "bv", kv, 0.0f, 0.1f);
      y.bo = vec(p + "bo", D, 0.0f, 0.1f);
      y.b1 = vec(p + "b1", H, 0.0f, 0.1f);
      y.b2 = vec(p + "b2", D, 0.0f, 0.1f);
    } else {
      y.w3 = mat(p + "w3", H, D);
    }
    s.layers.push_back(std::move(y));
  }
  s.final_norm = vec("norm", D, 1.0f, 0.1f);
  if (gpt2) s.final_norm_bias = vec("norm_bias", D, 0.0f, 0.1f);
  modelio::HostPositional& p = s.positional;
  p.scheme = o.scheme;
  const SyntheticPositional* builder = find_synthetic_positional(o.scheme);
  if (builder != nullptr) builder->build(o, c, rng, &p);
  return s;
}

// A per-process scratch path under the build tree.
inline std::string temp_path(const std::string& name) {
  std::string dir = std::string(ORDINAL_BINARY_DIR) + "/test_tmp";
  std::string cmd = "mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) return name;
  return dir + "/" + name;
}

}  // namespace ordinal::testing
