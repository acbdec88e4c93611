#include "benchmodel/synthetic_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace ordinal::benchmodel {

namespace {

constexpr float kWeightStd = 0.02f;
constexpr uint32_t kMaxPieceBytes = 16;

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// FNV-1a of the tensor name, mixed with the seed: one independent stream per tensor.
uint64_t stream_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  uint64_t s = seed ^ h;
  return splitmix64(&s);
}

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

// Buffered little-endian writer that remembers the first error.
class Writer {
 public:
  explicit Writer(std::string path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {
    if (!file_) status_ = io_error(path_ + ": cannot create (" + std::strerror(errno) + ")");
    buffer_.reserve(1 << 20);
  }
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buffer_.insert(buffer_.end(), b, b + n);
    if (buffer_.size() >= (1u << 20)) flush();
  }
  void i32(int32_t v) { bytes(&v, 4); }
  void f32(float v) { bytes(&v, 4); }
  // `count` deviates of tensor `name`, times `scale`, plus `offset`.
  void normal(uint64_t seed, const std::string& name, uint64_t count, float scale, float offset) {
    NormalStream s(seed, name);
    for (uint64_t i = 0; i < count; ++i) f32(s.next() * scale + offset);
  }
  Status close() {
    flush();
    if (file_ && status_.ok() && std::fclose(file_.release()) != 0) {
      status_ = io_error(path_ + ": close failed (" + std::strerror(errno) + ")");
    }
    return status_;
  }

 private:
  void flush() {
    if (file_ && status_.ok() && !buffer_.empty() &&
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_.get()) != buffer_.size()) {
      status_ = io_error(path_ + ": write failed (" + std::strerror(errno) + ")");
    }
    buffer_.clear();
  }
  std::string path_;
  File file_;
  Status status_;
  std::vector<uint8_t> buffer_;
};

Status write_text(const std::string& path, const std::string& text) {
  Writer w(path);
  w.bytes(text.data(), text.size());
  return w.close();
}

}  // namespace

const std::vector<Shape>& preset_shapes() {
  static const std::vector<Shape> kShapes = {
      {"stories15M", Family::kLlama2c, 288, 768, 6, 6, 6, 32000, 256},
      {"stories42M", Family::kLlama2c, 512, 1376, 8, 8, 8, 32000, 1024},
      {"stories110M", Family::kLlama2c, 768, 2048, 12, 12, 12, 32000, 1024},
      {"gpt2-small", Family::kGpt2, 768, 3072, 12, 12, 12, 50257, 1024},
  };
  return kShapes;
}

Result<Shape> find_preset(const std::string& name) {
  std::string names;
  for (const Shape& s : preset_shapes()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  return invalid_argument("unknown benchmark model '" + name + "' (" + names + ")");
}

Status check_shape(const Shape& s) {
  auto in = [](uint32_t v, uint32_t hi) { return v > 0 && v <= hi; };
  if (!in(s.dim, 1u << 14) || !in(s.hidden_dim, 1u << 16) || !in(s.n_layers, 256) || !in(s.n_heads, s.dim) ||
      !in(s.n_kv_heads, s.n_heads) || !in(s.seq_len, 1u << 16) || s.vocab_size < 259 ||
      s.vocab_size > (1u << 20) || s.dim % s.n_heads != 0 || s.n_heads % s.n_kv_heads != 0) {
    return invalid_argument("benchmark model '" + s.name + "': implausible shape (dim " +
                            std::to_string(s.dim) + ", hidden " + std::to_string(s.hidden_dim) + ", layers " +
                            std::to_string(s.n_layers) + ", heads " + std::to_string(s.n_heads) + "/" +
                            std::to_string(s.n_kv_heads) + ", vocab " + std::to_string(s.vocab_size) +
                            ", seq_len " + std::to_string(s.seq_len) + ")");
  }
  if ((s.dim / s.n_heads) % 2 != 0) {
    return invalid_argument("benchmark model '" + s.name + "': head_dim must be even (RoPE pairs)");
  }
  if (s.family == Family::kGpt2 && s.n_kv_heads != s.n_heads) {
    return invalid_argument("benchmark model '" + s.name + "': GPT-2 has no grouped-query attention");
  }
  return Status::Ok();
}

uint64_t weight_bytes(const Shape& s) {
  const uint64_t D = s.dim, H = s.hidden_dim, L = s.n_layers, V = s.vocab_size;
  const uint64_t kv = D / s.n_heads * s.n_kv_heads;
  if (s.family == Family::kGpt2) {
    const uint64_t layer = 4 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * H + H) + (H * D + D);
    return 4 * (V * D + uint64_t{s.seq_len} * D + L * layer + 2 * D);
  }
  const uint64_t layer = 2 * D + D * D + 2 * D * kv + D * D + 3 * H * D;
  return 4 * (V * D + L * layer + D);
}

NormalStream::NormalStream(uint64_t seed, const std::string& tensor_name)
    : state_(stream_seed(seed, tensor_name)) {}

float NormalStream::next() {
  const uint64_t r = splitmix64(&state_);
  const int32_t sum =
      static_cast<int32_t>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
  // 2*sum - 4*65535 is centred and exact in a float; one uniform on {0..65535} has variance
  // (65536^2 - 1)/12, four have four times that, and doubling doubles the deviation.
  static const float kUnit =
      static_cast<float>(1.0 / (2.0 * std::sqrt(4.0 * (65536.0 * 65536.0 - 1.0) / 12.0)));
  return static_cast<float>(2 * sum - 4 * 65535) * kUnit;
}

Result<Vocabulary> synthetic_vocabulary(uint32_t vocab_size, uint64_t seed) {
  if (vocab_size < 259 + 95) {
    return invalid_argument("synthetic vocabulary: " + std::to_string(vocab_size) +
                            " pieces cannot hold the specials, 256 bytes and 95 characters");
  }
  Vocabulary v;
  v.pieces = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.pieces.push_back(name);
  }
  const size_t first_text = v.pieces.size();
  // The printable ASCII characters, most frequent in English text first, so that the skewed draw below
  // merges mostly letters and spaces: English text merges into multi-character tokens (a prompt's token
  // count is then closer to a trained vocabulary's than one token per character would be).
  const std::string by_frequency = " etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ.,'\"!?-0123456789";
  for (char c : by_frequency) v.pieces.push_back(std::string(1, c));
  for (char c = ' '; c <= '~'; ++c) {
    if (by_frequency.find(c) == std::string::npos) v.pieces.push_back(std::string(1, c));
  }
  std::unordered_set<std::string> seen(v.pieces.begin(), v.pieces.end());
  uint64_t state = stream_seed(seed, "vocabulary");
  auto skewed = [&](uint32_t bits, size_t n) {  // index in [0, n), density ~ u^3: early pieces favoured
    const double u = static_cast<double>(bits) / 4294967296.0;
    return std::min(n - 1, static_cast<size_t>(static_cast<double>(n) * u * u * u));
  };
  while (v.pieces.size() < vocab_size) {
    const size_t n = v.pieces.size() - first_text;
    const uint64_t r = splitmix64(&state);
    const size_t a = first_text + skewed(static_cast<uint32_t>(r), n);
    const size_t b = first_text + skewed(static_cast<uint32_t>(r >> 32), n);
    std::string merged = v.pieces[a] + v.pieces[b];
    if (merged.size() > kMaxPieceBytes || !seen.insert(merged).second) continue;
    v.pieces.push_back(std::move(merged));
  }
  v.scores.resize(vocab_size);
  for (uint32_t i = 0; i < vocab_size; ++i) {
    v.scores[i] = i < first_text ? 0.0f : -static_cast<float>(i - first_text);
    v.max_token_length = std::max<uint32_t>(v.max_token_length, static_cast<uint32_t>(v.pieces[i].size()));
  }
  return v;
}

Status write_llama2c(const Shape& s, uint64_t seed, const std::string& model_path,
                     const std::string& tokenizer_path) {
  if (Status st = check_shape(s); !st.ok()) return st;
  if (s.family != Family::kLlama2c) return invalid_argument(s.name + ": not a llama2.c shape");
  const uint64_t D = s.dim, H = s.hidden_dim, L = s.n_layers, V = s.vocab_size;
  const uint64_t head_dim = D / s.n_heads, kv = head_dim * s.n_kv_heads;
  Writer w(model_path);
  const int32_t header[7] = {static_cast<int32_t>(s.dim),        static_cast<int32_t>(s.hidden_dim),
                             static_cast<int32_t>(s.n_layers),   static_cast<int32_t>(s.n_heads),
                             static_cast<int32_t>(s.n_kv_heads), static_cast<int32_t>(s.vocab_size),
                             static_cast<int32_t>(s.seq_len)};  // positive vocab: tied classifier
  for (int32_t h : header) w.i32(h);
  // run.c order: each kind of tensor for all layers, then the next kind.
  w.normal(seed, "tok_embeddings", V * D, kWeightStd, 0.0f);
  w.normal(seed, "attention_norm", L * D, kWeightStd, 1.0f);
  w.normal(seed, "wq", L * D * D, kWeightStd, 0.0f);
  w.normal(seed, "wk", L * kv * D, kWeightStd, 0.0f);
  w.normal(seed, "wv", L * kv * D, kWeightStd, 0.0f);
  w.normal(seed, "wo", L * D * D, kWeightStd, 0.0f);
  w.normal(seed, "ffn_norm", L * D, kWeightStd, 1.0f);
  w.normal(seed, "w1", L * H * D, kWeightStd, 0.0f);
  w.normal(seed, "w2", L * D * H, kWeightStd, 0.0f);
  w.normal(seed, "w3", L * H * D, kWeightStd, 0.0f);
  w.normal(seed, "norm", D, kWeightStd, 1.0f);
  // The legacy format's RoPE tables (freq_cis_real, then freq_cis_imag; seq_len x head_dim/2 each), as
  // llama2.c's export wrote them. Readers recompute RoPE and skip them, but they are the real values.
  for (int part = 0; part < 2; ++part) {
    for (uint32_t pos = 0; pos < s.seq_len; ++pos) {
      for (uint64_t i = 0; i < head_dim / 2; ++i) {
        const double freq = std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
        const double angle = pos * freq;
        w.f32(static_cast<float>(part == 0 ? std::cos(angle) : std::sin(angle)));
      }
    }
  }
  if (Status st = w.close(); !st.ok()) return st;

  ORDINAL_ASSIGN_OR_RETURN(Vocabulary vocab, synthetic_vocabulary(s.vocab_size, seed));
  Writer t(tokenizer_path);
  t.i32(static_cast<int32_t>(vocab.max_token_length));
  for (uint32_t i = 0; i < s.vocab_size; ++i) {
    t.f32(vocab.scores[i]);
    t.i32(static_cast<int32_t>(vocab.pieces[i].size()));
    t.bytes(vocab.pieces[i].data(), vocab.pieces[i].size());
  }
  return t.close();
}

Status write_gpt2_safetensors(const Shape& s, uint64_t seed, const std::string& dir) {
  if (Status st = check_shape(s); !st.ok()) return st;
  if (s.family != Family::kGpt2) return invalid_argument(s.name + ": not a GPT-2 shape");
  const uint64_t D = s.dim, H = s.hidden_dim, V = s.vocab_size, P = s.seq_len;
  struct Tensor {
    std::string name;
    std::vector<uint64_t> shape;
    float offset;  // 1 for norm gains, else 0
  };
  std::vector<Tensor> tensors = {{"transformer.wte.weight", {V, D}, 0.0f},
                                 {"transformer.wpe.weight", {P, D}, 0.0f}};
  for (uint32_t l = 0; l < s.n_layers; ++l) {
    const std::string pre = "transformer.h." + std::to_string(l) + ".";
    tensors.push_back({pre + "ln_1.weight", {D}, 1.0f});
    tensors.push_back({pre + "ln_1.bias", {D}, 0.0f});
    tensors.push_back({pre + "attn.c_attn.weight", {D, 3 * D}, 0.0f});  // Conv1D: [in, out]
    tensors.push_back({pre + "attn.c_attn.bias", {3 * D}, 0.0f});
    tensors.push_back({pre + "attn.c_proj.weight", {D, D}, 0.0f});
    tensors.push_back({pre + "attn.c_proj.bias", {D}, 0.0f});
    tensors.push_back({pre + "ln_2.weight", {D}, 1.0f});
    tensors.push_back({pre + "ln_2.bias", {D}, 0.0f});
    tensors.push_back({pre + "mlp.c_fc.weight", {D, H}, 0.0f});
    tensors.push_back({pre + "mlp.c_fc.bias", {H}, 0.0f});
    tensors.push_back({pre + "mlp.c_proj.weight", {H, D}, 0.0f});
    tensors.push_back({pre + "mlp.c_proj.bias", {D}, 0.0f});
  }
  tensors.push_back({"transformer.ln_f.weight", {D}, 1.0f});
  tensors.push_back({"transformer.ln_f.bias", {D}, 0.0f});

  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {
      {"format", "pt"}, {"generator", "ordinal-benchmodel"}, {"seed", std::to_string(seed)}};
  uint64_t at = 0;
  for (const Tensor& t : tensors) {
    uint64_t n = 1;
    for (uint64_t d : t.shape) n *= d;
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {at, at + 4 * n}}};
    at += 4 * n;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data section starts 8-byte aligned
  Writer w(dir + "/model.safetensors");
  const uint64_t header_len = text.size();
  uint8_t len_le[8];
  for (int i = 0; i < 8; ++i) len_le[i] = static_cast<uint8_t>(header_len >> (8 * i));
  w.bytes(len_le, 8);
  w.bytes(text.data(), text.size());
  for (const Tensor& t : tensors) {
    uint64_t n = 1;
    for (uint64_t d : t.shape) n *= d;
    w.normal(seed, t.name, n, kWeightStd, t.offset);
  }
  if (Status st = w.close(); !st.ok()) return st;

  const nlohmann::json config = {
      {"model_type", "gpt2"},        {"n_embd", s.dim},
      {"n_layer", s.n_layers},       {"n_head", s.n_heads},
      {"n_positions", s.seq_len},    {"vocab_size", s.vocab_size},
      {"layer_norm_epsilon", 1e-5},  {"activation_function", "gelu_new"},
      {"tie_word_embeddings", true}, {"ordinal_positional", {{"scheme", "learned"}}}};
  if (Status st = write_text(dir + "/config.json", config.dump(2) + "\n"); !st.ok()) return st;

  ORDINAL_ASSIGN_OR_RETURN(Vocabulary vocab, synthetic_vocabulary(s.vocab_size, seed));
  const nlohmann::json tokenizer = {{"kind", "llama2c-bpe"},
                                    {"pieces", vocab.pieces},
                                    {"scores", vocab.scores},
                                    {"bos_id", 1},
                                    {"eos_id", 2},
                                    {"max_token_length", vocab.max_token_length}};
  return write_text(dir + "/tokenizer.json", tokenizer.dump() + "\n");
}

}  // namespace ordinal::benchmodel
