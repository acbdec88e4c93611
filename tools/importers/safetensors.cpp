#include "importers/safetensors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "format/json_limits.hpp"
#include "importers/read_file.hpp"
#include "modelio/host_scheme.hpp"
#include "numerics/half.hpp"
#include "positional/alibi.hpp"

namespace ordinal::importers {

namespace {

using modelio::HostTensor;
using nlohmann::json;

// Internal error transport: helpers throw, the public entry points catch and return the Status.
struct ImportError {
  Status status;
};

[[noreturn]] void fail(std::string message) {
  throw ImportError{invalid_argument(std::move(message))};
}

constexpr uint64_t kAny = std::numeric_limits<uint64_t>::max();  // wildcard dimension in an expected shape
constexpr uint64_t kMaxHeaderBytes = 100u << 20;                 // as the reference safetensors library

std::vector<uint8_t> read_file_or_throw(const std::string& path, uint64_t max_bytes) {
  Result<std::vector<uint8_t>> r = read_file(path, max_bytes);
  if (!r.ok()) throw ImportError{r.status()};
  return std::move(r.value());
}

// Size and nesting are checked before nlohmann sees the text (format/json_limits.hpp).
void check_json_or_throw(const uint8_t* data, size_t size, uint64_t max_bytes, const std::string& what) {
  Status st = format::check_json_limits(std::string_view(reinterpret_cast<const char*>(data), size),
                                        max_bytes, format::kMaxJsonDepth, what);
  if (!st.ok()) throw ImportError{st};
}

json parse_json_file(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_or_throw(path, kMaxJsonBytes);
  check_json_or_throw(bytes.data(), bytes.size(), kMaxJsonBytes, path);
  try {
    return json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    fail(path + ": not valid JSON (" + e.what() + ")");
  }
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == kAny ? std::string("*") : std::to_string(shape[i]);
  }
  return s + "]";
}

uint64_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

float bf16_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

SafetensorsFile parse_safetensors(const std::string& path) {
  SafetensorsFile st;
  st.bytes = read_file_or_throw(path, kMaxCheckpointBytes);
  const uint64_t size = st.bytes.size();
  if (size < 8)
    fail(path + ": file of " + std::to_string(size) + " bytes is too small for a safetensors header");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | st.bytes[static_cast<size_t>(i)];
  if (n > size - 8) {
    fail(path + ": header length " + std::to_string(n) + " exceeds the file (" + std::to_string(size) +
         " bytes; truncated or not safetensors)");
  }
  if (n < 2 || n > kMaxHeaderBytes) fail(path + ": implausible header length " + std::to_string(n));
  st.data_start = 8 + n;
  const uint64_t data_size = size - st.data_start;

  // Refuse duplicate top-level names (nlohmann would keep the last one silently).
  check_json_or_throw(st.bytes.data() + 8, static_cast<size_t>(n), kMaxHeaderBytes, path + ": header");
  std::set<std::string> seen;
  std::string duplicate;
  json header;
  try {
    header = json::parse(st.bytes.begin() + 8, st.bytes.begin() + static_cast<std::ptrdiff_t>(8 + n),
                         [&](int depth, json::parse_event_t event, json& parsed) {
                           if (depth == 1 && event == json::parse_event_t::key && duplicate.empty()) {
                             const std::string k = parsed.get<std::string>();
                             if (!seen.insert(k).second) duplicate = k;
                           }
                           return true;
                         });
  } catch (const json::exception& e) {
    fail(path + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!duplicate.empty()) fail(path + ": tensor '" + duplicate + "' appears twice in the header");
  if (!header.is_object()) fail(path + ": header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const std::string what = path + ": tensor '" + name + "'";
    const json& v = it.value();
    if (!v.is_object()) fail(what + ": header entry is not an object");
    for (auto f = v.begin(); f != v.end(); ++f) {
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets") {
        fail(what + ": unknown header field '" + f.key() + "'");
      }
    }
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail(what + ": missing or non-string 'dtype'");
    if (!v.contains("shape") || !v["shape"].is_array()) fail(what + ": missing or non-array 'shape'");
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned()) {
      fail(what + ": 'data_offsets' must be two non-negative integers");
    }
    SafetensorsTensor t;
    t.name = name;
    t.dtype = v["dtype"].get<std::string>();
    const uint64_t esize = dtype_bytes(t.dtype);
    if (esize == 0) fail(what + ": dtype '" + t.dtype + "' is not supported (F32, F16, BF16)");
    if (v["shape"].size() > 8)
      fail(what + ": rank " + std::to_string(v["shape"].size()) + " is not supported");
    uint64_t elements = 1;
    bool overflow = false;
    for (const json& d : v["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
        fail(what + ": shape entries must be integers in [0, 2^32)");
      }
      const uint64_t dim = d.get<uint64_t>();
      t.shape.push_back(dim);
      if (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
      elements *= dim;
    }
    if (overflow || elements > std::numeric_limits<uint64_t>::max() / esize) {
      fail(what + ": shape " + shape_string(t.shape) + " overflows");
    }
    t.begin = v["data_offsets"][0].get<uint64_t>();
    t.end = v["data_offsets"][1].get<uint64_t>();
    if (t.begin > t.end) {
      fail(what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] are reversed");
    }
    if (t.end > data_size) {
      fail(what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] lie outside the data section of " + std::to_string(data_size) + " bytes (truncated file?)");
    }
    if (t.end - t.begin != elements * esize) {
      fail(what + ": " + std::to_string(t.end - t.begin) + " bytes of data, but shape " +
           shape_string(t.shape) + " " + t.dtype + " needs " + std::to_string(elements * esize));
    }
    st.tensors.push_back(std::move(t));
  }

  // The data section must be covered exactly: no overlaps, no holes, nothing trailing.
  std::vector<const SafetensorsTensor*> order;
  for (const SafetensorsTensor& t : st.tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const SafetensorsTensor* a, const SafetensorsTensor* b) {
    return a->begin < b->begin;
  });
  uint64_t at = 0;
  const SafetensorsTensor* prev = nullptr;
  for (const SafetensorsTensor* t : order) {
    if (t->begin < at) fail(path + ": tensors '" + prev->name + "' and '" + t->name + "' overlap");
    if (t->begin > at) {
      fail(path + ": " + std::to_string(t->begin - at) + " unreferenced bytes before tensor '" + t->name +
           "'");
    }
    at = t->end;
    prev = t;
  }
  if (at != data_size) {
    fail(path + ": " + std::to_string(data_size - at) + " bytes after the last tensor are not referenced");
  }
  return st;
}

// A tensor taken out of the file: F32 or F16 storage, row-major.
struct Mat {
  format::DType dtype = format::DType::kF32;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;

  size_t esize() const { return dtype == format::DType::kF16 ? 2 : 4; }
  uint64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  uint64_t cols() const { return shape.size() < 2 ? (shape.empty() ? 1 : shape[0]) : shape[1]; }
};

Mat to_f32(Mat m) {
  if (m.dtype == format::DType::kF32) return m;
  Mat out;
  out.shape = m.shape;
  const size_t n = m.data.size() / 2;
  out.data.resize(n * 4);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, m.data.data() + 2 * i, 2);
    const float f = numerics::half_to_float(h);
    std::memcpy(out.data.data() + 4 * i, &f, 4);
  }
  return out;
}

// [R, C] -> columns [c0, c0 + n) transposed: [n, R].
Mat transpose_cols(const Mat& m, uint64_t c0, uint64_t n) {
  const uint64_t R = m.shape[0], C = m.shape[1];
  const size_t e = m.esize();
  Mat out;
  out.dtype = m.dtype;
  out.shape = {n, R};
  out.data.resize(n * R * e);
  for (uint64_t j = 0; j < n; ++j) {
    for (uint64_t r = 0; r < R; ++r) {
      std::memcpy(out.data.data() + (j * R + r) * e, m.data.data() + (r * C + c0 + j) * e, e);
    }
  }
  return out;
}

// 1-D slice [c0, c0 + n).
Mat slice(const Mat& m, uint64_t c0, uint64_t n) {
  Mat out;
  out.dtype = m.dtype;
  out.shape = {n};
  const size_t e = m.esize();
  out.data.assign(m.data.begin() + static_cast<std::ptrdiff_t>(c0 * e),
                  m.data.begin() + static_cast<std::ptrdiff_t>((c0 + n) * e));
  return out;
}

HostTensor host(std::string name, Mat m) {
  HostTensor t;
  t.name = std::move(name);
  t.dtype = m.dtype;
  for (uint64_t d : m.shape) t.shape.push_back(static_cast<uint32_t>(d));
  t.data = std::move(m.data);
  return t;
}

// Hands out tensors by name, checking shape, and remembers which ones were used.
class TensorSource {
 public:
  TensorSource(SafetensorsFile file, std::string path) : file_(std::move(file)), path_(std::move(path)) {
    for (size_t i = 0; i < file_.tensors.size(); ++i) index_[file_.tensors[i].name] = i;
    used_.assign(file_.tensors.size(), false);
  }

  bool has(const std::string& name) const { return index_.count(name) != 0; }

  // `expected` may hold kAny dimensions. F16 data stays F16 when `keep_f16` (matrices and tables the
  // format stores as F16); everything else (BF16 always) becomes F32, which is exact.
  Mat take(const std::string& name, const std::vector<uint64_t>& expected, bool keep_f16) {
    auto it = index_.find(name);
    if (it == index_.end())
      fail(path_ + ": missing tensor '" + name + "' (expected shape " + shape_string(expected) + ")");
    const SafetensorsTensor& t = file_.tensors[it->second];
    bool match = t.shape.size() == expected.size();
    for (size_t i = 0; match && i < expected.size(); ++i)
      match = expected[i] == kAny || expected[i] == t.shape[i];
    if (!match) {
      fail(path_ + ": tensor '" + name + "' has shape " + shape_string(t.shape) + ", expected " +
           shape_string(expected));
    }
    if (used_[it->second]) fail(path_ + ": tensor '" + name + "' is used twice");
    used_[it->second] = true;
    const uint8_t* src = file_.data(t);
    const uint64_t bytes = t.end - t.begin;
    Mat m;
    m.shape = t.shape;
    if (t.dtype == "F32") {
      m.data.assign(src, src + bytes);
    } else if (t.dtype == "F16") {
      m.dtype = format::DType::kF16;
      m.data.assign(src, src + bytes);
      if (!keep_f16) m = to_f32(std::move(m));
    } else {  // BF16
      const uint64_t n = bytes / 2;
      m.data.resize(n * 4);
      for (uint64_t i = 0; i < n; ++i) {
        const float f = bf16_to_float(static_cast<uint16_t>(src[2 * i] | (src[2 * i + 1] << 8)));
        std::memcpy(m.data.data() + 4 * i, &f, 4);
      }
    }
    // Little-endian host assumed for F32/F16 bytes (the format itself is little-endian; so are our targets).
    return m;
  }

  const std::vector<uint64_t>& shape_of(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) fail(path_ + ": missing tensor '" + name + "'");
    return file_.tensors[it->second].shape;
  }

  void check_all_used() const {
    std::string extra;
    size_t count = 0;
    for (size_t i = 0; i < used_.size(); ++i) {
      if (used_[i]) continue;
      if (count++ < 5) extra += (extra.empty() ? "'" : ", '") + file_.tensors[i].name + "'";
    }
    if (count) {
      fail(path_ + ": " + std::to_string(count) + " unexpected tensor" + (count > 1 ? "s " : " ") + extra +
           (count > 5 ? ", ..." : "") + " not used by this model type/positional scheme");
    }
  }

 private:
  SafetensorsFile file_;
  std::string path_;
  std::map<std::string, size_t> index_;
  std::vector<bool> used_;
};

// Typed access to config.json with errors naming the key.
class Config {
 public:
  Config(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

  uint32_t u32(const std::string& key, uint64_t lo, uint64_t hi) const {
    if (!j_.contains(key)) fail(path_ + ": missing key '" + key + "'");
    return u32_value(j_[key], key, lo, hi);
  }
  uint32_t u32_or(const std::string& key, uint32_t fallback, uint64_t lo, uint64_t hi) const {
    return has(key) ? u32_value(j_[key], key, lo, hi) : fallback;
  }
  double number_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number() || !std::isfinite(j_[key].get<double>()))
      fail(path_ + ": '" + key + "' must be a number");
    return j_[key].get<double>();
  }
  bool boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) fail(path_ + ": '" + key + "' must be true or false");
    return j_[key].get<bool>();
  }
  std::string string(const std::string& key) const {
    if (!j_.contains(key)) fail(path_ + ": missing key '" + key + "'");
    if (!j_[key].is_string()) fail(path_ + ": '" + key + "' must be a string");
    return j_[key].get<std::string>();
  }
  std::string string_or(const std::string& key, const std::string& fallback) const {
    return has(key) ? string(key) : fallback;
  }
  const std::string& path() const { return path_; }

 private:
  uint32_t u32_value(const json& v, const std::string& key, uint64_t lo, uint64_t hi) const {
    if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) {
      fail(path_ + ": '" + key + "' must be an integer in [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    }
    return static_cast<uint32_t>(v.get<uint64_t>());
  }
  const json& j_;
  std::string path_;
};

Tokenizer::Spec read_tokenizer(const std::string& path, uint32_t vocab_size) {
  json j = parse_json_file(path);
  if (!j.is_object()) fail(path + ": not a JSON object");
  Config c(j, path);
  const std::string kind = c.string("kind");
  if (kind != "llama2c-bpe") fail(path + ": tokenizer kind '" + kind + "' is not supported (llama2c-bpe)");
  if (!j.contains("pieces") || !j["pieces"].is_array()) fail(path + ": missing array 'pieces'");
  if (!j.contains("scores") || !j["scores"].is_array()) fail(path + ": missing array 'scores'");
  const json& pieces = j["pieces"];
  const json& scores = j["scores"];
  if (pieces.size() != vocab_size || scores.size() != vocab_size) {
    fail(path + ": " + std::to_string(pieces.size()) + " pieces and " + std::to_string(scores.size()) +
         " scores, config.json says vocab_size " + std::to_string(vocab_size));
  }
  Tokenizer::Spec spec;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].is_string()) fail(path + ": piece " + std::to_string(i) + " is not a string");
    if (!scores[i].is_number() || !std::isfinite(scores[i].get<double>())) {
      fail(path + ": score " + std::to_string(i) + " is not a finite number");
    }
    spec.pieces.push_back(pieces[i].get<std::string>());
    spec.scores.push_back(static_cast<float>(scores[i].get<double>()));
  }
  spec.bos_id = static_cast<int32_t>(c.u32("bos_id", 0, vocab_size - 1));
  spec.eos_id = static_cast<int32_t>(c.u32("eos_id", 0, vocab_size - 1));
  spec.unk_id = 0;
  spec.add_dummy_prefix = true;
  bool bytes = vocab_size >= 259;
  for (int b = 0; bytes && b < 256; ++b) {
    char want[8];
    std::snprintf(want, sizeof want, "<0x%02X>", b);
    bytes = spec.pieces[static_cast<size_t>(3 + b)] == want;
  }
  spec.byte_fallback_base = bytes ? 3 : -1;
  Result<Tokenizer> check = Tokenizer::create(spec);
  if (!check.ok()) fail(path + ": " + check.status().message());
  return spec;
}

std::vector<uint32_t> alibi_slopes(uint32_t n_heads) {
  std::vector<uint32_t> slopes(n_heads);
  // The runtime's own construction (BLOOM's get_slopes in exact integer Q0.32): one definition of the slopes.
  Status st = positional::alibi_slopes_q32(static_cast<int>(n_heads), slopes.data());
  if (!st.ok()) fail("alibi: " + st.message());
  return slopes;
}

// `ordinal_positional` with only the keys its scheme defines.
json positional_config(const json& config, const std::string& path, const std::string& fallback_scheme) {
  if (!config.contains("ordinal_positional")) {
    if (fallback_scheme.empty()) fail(path + ": missing key 'ordinal_positional'");
    return json{{"scheme", fallback_scheme}};
  }
  const json& p = config["ordinal_positional"];
  if (!p.is_object() || !p.contains("scheme") || !p["scheme"].is_string()) {
    fail(path + ": 'ordinal_positional' must be an object with a string 'scheme'");
  }
  const std::string scheme = p["scheme"].get<std::string>();
  static const std::map<std::string, std::set<std::string>> kKeys = {
      {"learned", {}},
      {"sinusoidal", {"base"}},
      {"rope", {"layout"}},
      {"alibi", {"form"}},
      {"relative_bias", {"num_buckets", "max_distance", "bidirectional"}},
      {"none", {}},
  };
  auto known = kKeys.find(scheme);
  if (known == kKeys.end()) {
    fail(path + ": ordinal_positional.scheme '" + scheme +
         "' is unknown (learned, sinusoidal, rope, alibi, relative_bias, none)");
  }
  for (auto it = p.begin(); it != p.end(); ++it) {
    if (it.key() != "scheme" && known->second.count(it.key()) == 0) {
      fail(path + ": ordinal_positional key '" + it.key() + "' is not defined for scheme '" + scheme + "'");
    }
  }
  return p;
}

void common_metadata(modelio::ModelSpec* spec, const std::string& model_type, uint32_t context,
                     const json& pos) {
  spec->metadata.push_back({"source", "safetensors"});
  spec->metadata.push_back({"model_type", model_type});
  spec->metadata.push_back({"training_context", std::to_string(context)});
  spec->metadata.push_back({"ordinal_positional", pos.dump()});
}

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

  modelio::HostPositional& p = spec.positional;
  if (scheme == "learned") {
    p.scheme = PositionalScheme::kLearnedTable;
    p.policy = detail::OutOfRangePolicy::kError;
    p.table = host("transformer.wpe.weight", src.take("transformer.wpe.weight", {P, d}, true));
  } else if (scheme == "sinusoidal") {
    p.scheme = PositionalScheme::kSinusoidal;
    Config pc(pos, c.path() + ": ordinal_positional");
    p.base = pc.number_or("base", 10000.0);
    if (!(p.base > 1.0)) fail(c.path() + ": ordinal_positional.base must be > 1");
    if (d % 2 != 0) fail(c.path() + ": sinusoidal positions need an even n_embd");
    p.precision = detail::TrigPrecision::kF32;
  } else if (scheme == "alibi") {
    p.scheme = PositionalScheme::kAlibi;
    Config pc(pos, c.path() + ": ordinal_positional");
    const std::string form = pc.string_or("form", "causal");
    if (form == "causal") {
      p.alibi_form = detail::AlibiFormKind::kCausal;
    } else if (form == "symmetric") {
      p.alibi_form = detail::AlibiFormKind::kSymmetric;
    } else {
      fail(c.path() + ": ordinal_positional.form '" + form + "' is unknown (causal, symmetric)");
    }
    p.slopes_q32 = alibi_slopes(H);
  } else if (scheme == "relative_bias") {
    p.scheme = PositionalScheme::kRelativeBias;
    Config pc(pos, c.path() + ": ordinal_positional");
    p.num_buckets = pc.u32("num_buckets", 2, 4096);
    p.max_distance = pc.u32("max_distance", 1, 1u << 24);
    p.bidirectional = pc.boolean_or("bidirectional", false);
    p.table = host("transformer.relative_attention_bias.weight",
                   src.take("transformer.relative_attention_bias.weight", {p.num_buckets, H}, false));
  } else {  // none
    p.scheme = PositionalScheme::kNone;
  }
  common_metadata(&spec, "gpt2", P, pos);
  return spec;
}

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

  modelio::HostPositional& p = spec.positional;
  p.scheme = PositionalScheme::kRope;
  p.base = c.number_or("rope_theta", 10000.0);
  if (!(p.base > 1.0)) fail(c.path() + ": 'rope_theta' must be > 1");
  p.rotary_dims = hd;
  // Partial rotary (HF partial_rotary_factor, GPT-NeoX rotary_pct): only the first int(head_dim * factor)
  // dims of each head rotate; HF computes inv_freq over that many dims, as rope_frequencies does.
  if (c.has("partial_rotary_factor")) {
    const double f = c.number_or("partial_rotary_factor", 1.0);
    const double rot = std::floor(static_cast<double>(hd) * f);
    if (!(f > 0.0 && f <= 1.0) || rot < 2 || static_cast<uint32_t>(rot) % 2 != 0) {
      fail(c.path() + ": 'partial_rotary_factor' " + std::to_string(f) + " gives " + std::to_string(rot) +
           " rotary dims of head_dim " + std::to_string(hd) + " (needs an even count >= 2)");
    }
    p.rotary_dims = static_cast<uint32_t>(rot);
  }
  p.rope_layout =
      layout == "split_half" ? detail::RopeLayoutKind::kSplitHalf : detail::RopeLayoutKind::kInterleaved;
  p.precision = detail::TrigPrecision::kF32;
  if (c.has("rope_scaling")) {
    if (!j["rope_scaling"].is_object()) fail(c.path() + ": 'rope_scaling' must be an object");
    const Config rs(j["rope_scaling"], c.path() + ": rope_scaling");
    const std::string type = rs.has("rope_type") ? rs.string("rope_type") : rs.string_or("type", "default");
    if (type == "llama3") {
      // Llama 3.1: factor, low/high_freq_factor, original_max_position_embeddings (HF names).
      p.scaling = detail::RopeScalingKind::kLlama3;
      p.scaling_factor = static_cast<float>(rs.number_or("factor", 0.0));
      p.low_freq_factor = static_cast<float>(rs.number_or("low_freq_factor", 1.0));
      p.high_freq_factor = static_cast<float>(rs.number_or("high_freq_factor", 4.0));
      p.original_context = rs.u32("original_max_position_embeddings", 1, 1u << 24);
      if (!(p.scaling_factor >= 1.0f && p.scaling_factor <= 1024.0f) || !(p.low_freq_factor > 0.0f) ||
          !(p.high_freq_factor > p.low_freq_factor)) {
        fail(c.path() +
             ": rope_scaling llama3 needs factor in [1, 1024] and 0 < low_freq_factor < "
             "high_freq_factor");
      }
    } else if (type != "default") {
      fail(c.path() + ": rope_scaling type '" + type + "' is not supported by this importer (llama3)");
    }
  }
  // Scaled RoPE stores its exact frequencies (the runtime never re-derives a scaling).
  Status freqs = modelio::compute_rope_frequencies(hd, &p);
  if (!freqs.ok()) fail(c.path() + ": " + freqs.message());
  common_metadata(&spec, "llama", P, pos);
  return spec;
}

}  // namespace

Result<SafetensorsFile> read_safetensors(const std::string& path) {
  try {
    return parse_safetensors(path);
  } catch (const ImportError& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return invalid_argument(path + ": out of memory while reading");
  }
}

Result<modelio::ModelSpec> import_safetensors(const std::string& dir) {
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  try {
    const std::string config_path = base + "config.json";
    const json j = parse_json_file(config_path);
    if (!j.is_object()) fail(config_path + ": not a JSON object");
    Config c(j, config_path);
    const std::string model_type = c.string("model_type");
    if (model_type != "gpt2" && model_type != "llama") {
      fail(config_path + ": model_type '" + model_type + "' is not supported (gpt2, llama)");
    }
    const std::string st_path = base + "model.safetensors";
    TensorSource src(parse_safetensors(st_path), st_path);
    modelio::ModelSpec spec = model_type == "gpt2" ? import_gpt2(j, c, src) : import_llama(j, c, src);
    src.check_all_used();
    spec.tokenizer = read_tokenizer(base + "tokenizer.json", spec.config.vocab_size);
    if (j.contains("ordinal_task")) {
      if (!j["ordinal_task"].is_object()) fail(config_path + ": 'ordinal_task' must be an object");
      spec.task_spec = j["ordinal_task"].dump();
    }
    return spec;
  } catch (const ImportError& e) {
    return e.status;
  } catch (const json::exception& e) {
    return invalid_argument(dir + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return invalid_argument(dir + ": out of memory while importing");
  }
}

}  // namespace ordinal::importers
