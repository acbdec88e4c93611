#include "importers/llama2c.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

#include "importers/read_file.hpp"

namespace ordinal::importers {

namespace {}  // namespace

Result<Tokenizer::Spec> read_llama2c_tokenizer(const std::string& path, uint32_t vocab_size) {
  ORDINAL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file(path, kMaxTokenizerBytes));
  size_t at = 0;
  auto take = [&](void* dst, size_t n) {
    if (bytes.size() - at < n) return false;
    std::memcpy(dst, bytes.data() + at, n);
    at += n;
    return true;
  };
  int32_t max_len = 0;
  if (!take(&max_len, 4) || max_len <= 0 || max_len > 1024) {
    return invalid_argument(path + ": not a llama2.c tokenizer (bad max_token_length)");
  }
  Tokenizer::Spec spec;
  for (uint32_t i = 0; i < vocab_size; ++i) {
    float score;
    int32_t len;
    if (!take(&score, 4) || !take(&len, 4)) {
      return invalid_argument(path + ": truncated at token " + std::to_string(i) + " of " +
                              std::to_string(vocab_size));
    }
    if (len < 0 || len > max_len) {
      return invalid_argument(path + ": token " + std::to_string(i) + " has length " + std::to_string(len) +
                              " (max_token_length " + std::to_string(max_len) + ")");
    }
    std::string piece(static_cast<size_t>(len), '\0');
    if (!take(piece.data(), static_cast<size_t>(len))) {
      return invalid_argument(path + ": truncated inside token " + std::to_string(i));
    }
    spec.pieces.push_back(std::move(piece));
    spec.scores.push_back(score);
  }
  if (at != bytes.size()) {
    return invalid_argument(path + ": " + std::to_string(bytes.size() - at) + " trailing bytes after " +
                            std::to_string(vocab_size) + " tokens (vocabulary size mismatch?)");
  }
  spec.bos_id = 1;
  spec.eos_id = 2;
  spec.unk_id = 0;
  spec.byte_fallback_base = 3;
  spec.add_dummy_prefix = true;
  return spec;
}

Result<modelio::ModelSpec> import_llama2c(const std::string& model_path, const std::string& tokenizer_path) {
  ORDINAL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file(model_path));
  if (bytes.size() < 28) return invalid_argument(model_path + ": too small for a llama2.c header");
  int32_t h[7];
  std::memcpy(h, bytes.data(), sizeof h);
  const int32_t dim = h[0], hidden = h[1], n_layers = h[2], n_heads = h[3], n_kv = h[4], seq_len = h[6];
  const bool shared = h[5] > 0;
  const int64_t vocab = shared ? h[5] : -static_cast<int64_t>(h[5]);
  auto positive = [](int64_t v, int64_t hi) { return v > 0 && v <= hi; };
  if (!positive(dim, 1 << 16) || !positive(hidden, 1 << 18) || !positive(n_layers, 1024) ||
      !positive(n_heads, dim) || !positive(n_kv, n_heads) || !positive(vocab, 1 << 22) ||
      !positive(seq_len, 1 << 24) || dim % n_heads != 0 || n_heads % n_kv != 0) {
    return invalid_argument(model_path + ": implausible llama2.c header (dim " + std::to_string(dim) +
                            ", hidden " + std::to_string(hidden) + ", layers " + std::to_string(n_layers) +
                            ", heads " + std::to_string(n_heads) + "/" + std::to_string(n_kv) + ", vocab " +
                            std::to_string(vocab) + ", seq_len " + std::to_string(seq_len) + ")");
  }
  const uint64_t hd = dim / n_heads, kv_dim = hd * n_kv, L = n_layers;
  const uint64_t D = dim, H = hidden, V = vocab, S = seq_len;
  const uint64_t base_floats =
      V * D + L * D + L * D * D + 2 * L * D * kv_dim + L * D * D + L * D + 3 * L * H * D + D;
  const uint64_t freq_floats = S * hd;  // freq_cis_real + freq_cis_imag, S * hd/2 each
  const uint64_t expected = 28 + 4 * (base_floats + freq_floats + (shared ? 0 : V * D));
  if (bytes.size() != expected) {
    return invalid_argument(model_path + ": file is " + std::to_string(bytes.size()) +
                            " bytes, the header implies " + std::to_string(expected) +
                            " (truncated or not a legacy llama2.c checkpoint)");
  }
  // Read in place (no second copy of a checkpoint of up to kMaxCheckpointBytes): vector data is aligned for
  // any scalar and 28 is a multiple of 4.
  const float* p = reinterpret_cast<const float*>(bytes.data() + 28);
  auto next = [&p](uint64_t n) {
    const float* r = p;
    p += n;
    return r;
  };
  using modelio::HostTensor;
  const uint32_t d32 = static_cast<uint32_t>(D), h32 = static_cast<uint32_t>(H),
                 v32 = static_cast<uint32_t>(V);
  const uint32_t kv32 = static_cast<uint32_t>(kv_dim);

  modelio::ModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = Architecture::kLlama;
  c.dim = d32;
  c.hidden_dim = h32;
  c.n_layers = static_cast<uint32_t>(L);
  c.n_heads = static_cast<uint32_t>(n_heads);
  c.n_kv_heads = static_cast<uint32_t>(n_kv);
  c.head_dim = static_cast<uint32_t>(hd);
  c.vocab_size = v32;
  c.max_positions = static_cast<uint32_t>(S);
  c.norm = NormType::kRMSNorm;
  c.norm_eps = 1e-5f;
  c.activation = Activation::kSwiGLU;
  c.tied_classifier = shared;

  spec.token_embedding = HostTensor::f32("tok_embeddings.weight", {v32, d32}, next(V * D));
  spec.layers.resize(L);
  const float* rms_att = next(L * D);
  const float* wq = next(L * D * D);
  const float* wk = next(L * D * kv_dim);
  const float* wv = next(L * D * kv_dim);
  const float* wo = next(L * D * D);
  const float* rms_ffn = next(L * D);
  const float* w1 = next(L * H * D);
  const float* w2 = next(L * D * H);
  const float* w3 = next(L * H * D);
  const float* rms_final = next(D);
  next(freq_floats);  // llama2.c's precomputed RoPE tables: recomputed by the runtime
  for (uint64_t l = 0; l < L; ++l) {
    modelio::HostLayer& y = spec.layers[l];
    const std::string pre = "layers." + std::to_string(l) + ".";
    y.attn_norm = HostTensor::f32(pre + "attention_norm.weight", {d32}, rms_att + l * D);
    y.wq = HostTensor::f32(pre + "attention.wq.weight", {d32, d32}, wq + l * D * D);
    y.wk = HostTensor::f32(pre + "attention.wk.weight", {kv32, d32}, wk + l * D * kv_dim);
    y.wv = HostTensor::f32(pre + "attention.wv.weight", {kv32, d32}, wv + l * D * kv_dim);
    y.wo = HostTensor::f32(pre + "attention.wo.weight", {d32, d32}, wo + l * D * D);
    y.ffn_norm = HostTensor::f32(pre + "ffn_norm.weight", {d32}, rms_ffn + l * D);
    y.w1 = HostTensor::f32(pre + "feed_forward.w1.weight", {h32, d32}, w1 + l * H * D);
    y.w2 = HostTensor::f32(pre + "feed_forward.w2.weight", {d32, h32}, w2 + l * D * H);
    y.w3 = HostTensor::f32(pre + "feed_forward.w3.weight", {h32, d32}, w3 + l * H * D);
  }
  spec.final_norm = HostTensor::f32("norm.weight", {d32}, rms_final);
  if (!shared) spec.classifier = HostTensor::f32("output.weight", {v32, d32}, next(V * D));

  spec.positional.scheme = PositionalScheme::kRope;
  spec.positional.base = 10000.0;
  spec.positional.rotary_dims = c.head_dim;
  spec.positional.rope_layout = detail::RopeLayoutKind::kInterleaved;
  spec.positional.precision = detail::TrigPrecision::kF32;

  ORDINAL_ASSIGN_OR_RETURN(spec.tokenizer, read_llama2c_tokenizer(tokenizer_path, v32));
  spec.metadata.push_back({"source", "llama2.c checkpoint"});
  spec.metadata.push_back({"training_context", std::to_string(S)});
  return spec;
}

}  // namespace ordinal::importers
