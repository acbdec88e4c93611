#include "importers/gguf.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <utility>

#include "importers/gguf_quant.hpp"
#include "importers/read_file.hpp"
#include "quant/rope_frequencies.hpp"

namespace ordinal::importers {

namespace {

using gguf::TensorInfo;
using gguf::TensorType;
using gguf::Value;
using gguf::ValueType;
using modelio::HostTensor;

// The runtime reads group-wise int8 / int4 weights (f16 scales, groups of a multiple of 32) in linear layers,
// the embedding and the classifier (kernels/group_gemm.hpp), so Q8_0 / Q4_0 matrices are taken over as they
// are. Turning these off dequantizes them (exactly) to f32 instead.
constexpr bool kRuntimeReadsInt8GroupWeights = true;
constexpr bool kRuntimeReadsInt4GroupWeights = true;
constexpr uint32_t kGgmlGroup = 32;
constexpr size_t kMaxPieceBytes = 256;  // the loader's limit on one tokenizer piece

// Internal error transport: helpers throw, the public entry points catch and return the Status.
struct ImportError {
  Status status;
};

[[noreturn]] void fail(std::string message) {
  throw ImportError{invalid_model(std::move(message))};
}

std::string dims_string(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// Typed access to the metadata with errors naming the key.
class Metadata {
 public:
  Metadata(const gguf::File& f, std::string what) : f_(f), what_(std::move(what)) {}
  const std::string& what() const { return what_; }
  const Value* find(const std::string& key) const { return f_.find(key); }
  bool has(const std::string& key) const { return f_.find(key) != nullptr; }

  uint64_t integer(const std::string& key, uint64_t lo, uint64_t hi) const {
    const Value* v = f_.find(key);
    if (v == nullptr) fail(what_ + ": missing metadata key '" + key + "'");
    return integer_value(*v, key, lo, hi);
  }
  uint64_t integer_or(const std::string& key, uint64_t fallback, uint64_t lo, uint64_t hi) const {
    const Value* v = f_.find(key);
    return v == nullptr ? fallback : integer_value(*v, key, lo, hi);
  }
  double number_or(const std::string& key, double fallback) const {
    const Value* v = f_.find(key);
    if (v == nullptr) return fallback;
    double d = 0;
    if (v->is_float()) {
      d = v->f;
    } else if (v->is_integer()) {
      d = v->type == ValueType::kI8 || v->type == ValueType::kI16 || v->type == ValueType::kI32 ||
                  v->type == ValueType::kI64
              ? static_cast<double>(v->i)
              : static_cast<double>(v->u);
    } else {
      fail(what_ + ": metadata key '" + key + "' has type " + gguf::value_type_name(v->type) +
           ", expected a number");
    }
    if (!std::isfinite(d)) fail(what_ + ": metadata key '" + key + "' is not finite");
    return d;
  }
  std::string string(const std::string& key) const {
    const Value* v = f_.find(key);
    if (v == nullptr) fail(what_ + ": missing metadata key '" + key + "'");
    return string_value(*v, key);
  }
  std::string string_or(const std::string& key, const std::string& fallback) const {
    const Value* v = f_.find(key);
    return v == nullptr ? fallback : string_value(*v, key);
  }
  bool boolean_or(const std::string& key, bool fallback) const {
    const Value* v = f_.find(key);
    if (v == nullptr) return fallback;
    if (v->type != ValueType::kBool) {
      fail(what_ + ": metadata key '" + key + "' has type " + gguf::value_type_name(v->type) +
           ", expected bool");
    }
    return v->u != 0;
  }
  // An array of `n` elements of one of `types`.
  const Value& array(const std::string& key, std::initializer_list<ValueType> types, uint64_t n) const {
    const Value* v = f_.find(key);
    if (v == nullptr) fail(what_ + ": missing metadata key '" + key + "'");
    if (!v->is_array()) {
      fail(what_ + ": metadata key '" + key + "' has type " + gguf::value_type_name(v->type) +
           ", expected an array");
    }
    bool ok = false;
    for (ValueType t : types) ok = ok || v->element_type == t;
    if (!ok) {
      fail(what_ + ": metadata key '" + key + "' is an array of " + gguf::value_type_name(v->element_type) +
           " (unexpected element type)");
    }
    if (v->array_size() != n) {
      fail(what_ + ": metadata key '" + key + "' has " + std::to_string(v->array_size()) +
           " elements, expected " + std::to_string(n));
    }
    return *v;
  }

 private:
  uint64_t integer_value(const Value& v, const std::string& key, uint64_t lo, uint64_t hi) const {
    if (!v.is_integer()) {
      fail(what_ + ": metadata key '" + key + "' has type " + gguf::value_type_name(v.type) +
           ", expected an integer");
    }
    const bool is_signed = v.type == ValueType::kI8 || v.type == ValueType::kI16 ||
                           v.type == ValueType::kI32 || v.type == ValueType::kI64;
    if (is_signed && v.i < 0) fail(what_ + ": metadata key '" + key + "' is negative");
    const uint64_t u = is_signed ? static_cast<uint64_t>(v.i) : v.u;
    if (u < lo || u > hi) {
      fail(what_ + ": metadata key '" + key + "' = " + std::to_string(u) + " is out of range [" +
           std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return u;
  }
  std::string string_value(const Value& v, const std::string& key) const {
    if (v.type != ValueType::kString) {
      fail(what_ + ": metadata key '" + key + "' has type " + gguf::value_type_name(v.type) +
           ", expected string");
    }
    return v.s;
  }

  const gguf::File& f_;
  std::string what_;
};

// What happened to each tensor type, for the notes.
struct Conversions {
  std::map<std::string, int> counts;  // "Q6_K -> f32 (dequantized)" -> tensors
  void add(uint32_t type, const char* how) { ++counts[gguf::tensor_type_name(type) + " " + how]; }
};

enum class Role { kVector, kMatrix, kTable };

// Hands out tensors by name with shape checks, converts them, and remembers which were used.
class TensorSource {
 public:
  TensorSource(const gguf::File& f, std::string what, Conversions* conv)
      : f_(f), what_(std::move(what)), conv_(conv), used_(f.tensors.size(), false) {
    for (size_t i = 0; i < f.tensors.size(); ++i) index_[f.tensors[i].name] = i;
  }

  bool has(const std::string& name) const { return index_.count(name) != 0; }

  // True when `copy` holds exactly the bytes (type and shape) of `original`: it is then marked used, and
  // the model can share `original` instead (llama.cpp's converters write a tied head out as a copy).
  bool consume_if_copy(const std::string& copy, const std::string& original) {
    auto c = index_.find(copy), o = index_.find(original);
    if (c == index_.end() || o == index_.end()) return false;
    const TensorInfo& a = f_.tensors[c->second];
    const TensorInfo& b = f_.tensors[o->second];
    if (a.type != b.type || a.ne != b.ne || a.bytes != b.bytes ||
        std::memcmp(f_.data(a), f_.data(b), a.bytes) != 0) {
      return false;
    }
    used_[c->second] = true;
    return true;
  }

  const TensorInfo& info(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) fail(what_ + ": missing tensor '" + name + "'");
    return f_.tensors[it->second];
  }

  // A 1-D tensor of n elements (norm weights, biases): f32.
  HostTensor vector(const std::string& name, uint64_t n) { return take(name, {n}, Role::kVector); }
  // A [rows, cols] matrix (ggml ne = [cols, rows]).
  HostTensor matrix(const std::string& name, uint64_t rows, uint64_t cols, Role role = Role::kMatrix) {
    return take(name, {cols, rows}, role);
  }

  void check_all_used() const {
    std::string extra;
    size_t count = 0;
    for (size_t i = 0; i < used_.size(); ++i) {
      if (used_[i]) continue;
      if (count++ < 5) extra += (extra.empty() ? "'" : ", '") + f_.tensors[i].name + "'";
    }
    if (count) {
      fail(what_ + ": " + std::to_string(count) + " tensor" + (count > 1 ? "s " : " ") + extra +
           (count > 5 ? ", ..." : "") + " not used by this architecture (unsupported variant?)");
    }
  }

 private:
  HostTensor take(const std::string& name, const std::vector<uint64_t>& ne, Role role) {
    auto it = index_.find(name);
    if (it == index_.end())
      fail(what_ + ": missing tensor '" + name + "' (expected ne " + dims_string(ne) + ")");
    const TensorInfo& t = f_.tensors[it->second];
    if (t.ne != ne) {
      fail(what_ + ": tensor '" + name + "' has ne " + dims_string(t.ne) + ", expected " + dims_string(ne));
    }
    if (used_[it->second]) fail(what_ + ": tensor '" + name + "' is used twice");
    used_[it->second] = true;
    const uint8_t* src = f_.data(t);
    HostTensor h;
    h.name = name;
    const std::vector<uint32_t> shape =
        ne.size() == 1 ? std::vector<uint32_t>{static_cast<uint32_t>(ne[0])}
                       : std::vector<uint32_t>{static_cast<uint32_t>(ne[1]), static_cast<uint32_t>(ne[0])};
    h.shape = shape;
    const uint64_t rows = ne.size() == 1 ? 1 : ne[1], cols = ne[0];
    const auto type = static_cast<TensorType>(t.type);
    const bool matrix = role != Role::kVector;
    if (matrix && type == TensorType::kF16) {
      h.dtype = format::DType::kF16;
      h.data.assign(src, src + t.bytes);
      for (uint64_t i = 0; i + 1 < h.data.size(); i += 2) {
        if ((h.data[i + 1] & 0x7C) == 0x7C) {
          fail(what_ + ": tensor '" + name + "' element " + std::to_string(i / 2) + " is not finite (F16)");
        }
      }
      conv_->add(t.type, "-> f16 (as stored)");
      return h;
    }
    const bool int8_groups = role == Role::kTable || kRuntimeReadsInt8GroupWeights;
    const bool int4_groups = role == Role::kTable || kRuntimeReadsInt4GroupWeights;
    if (matrix && type == TensorType::kQ8_0 && int8_groups) {
      h.dtype = format::DType::kI8;
      set_groups(&h);
      const gguf::Repack r = gguf::repack_q8_0(src, rows, cols, &h.data, &h.scales);
      if (r == gguf::Repack::kNonFinite) fail(what_ + ": tensor '" + name + "' has a non-finite Q8_0 scale");
      if (r == gguf::Repack::kDone) {
        conv_->add(t.type, "-> int8 groups of 32, f16 scales (lossless)");
        return h;
      }
      h = HostTensor();  // a negative scale over code -128: dequantized below
      h.name = name;
      h.shape = shape;
    }
    if (matrix && type == TensorType::kQ4_0 && int4_groups) {
      h.dtype = format::DType::kI4;
      set_groups(&h);
      const gguf::Repack r = gguf::repack_q4_0(src, rows, cols, &h.data, &h.scales, &h.zero_points);
      if (r != gguf::Repack::kDone) fail(what_ + ": tensor '" + name + "' has a non-finite Q4_0 scale");
      conv_->add(t.type, h.zero_points.empty() ? "-> int4 groups of 32, f16 scales (lossless)"
                                               : "-> int4 groups of 32, f16 scales, zero points 8/7 for the "
                                                 "sign of d (lossless)");
      return h;
    }
    h.dtype = format::DType::kF32;
    h.data.resize(t.elements() * 4);
    std::vector<float> values(t.elements());
    if (!gguf::dequantize(t.type, src, t.elements(), values.data())) {
      fail(what_ + ": tensor '" + name + "': cannot convert type " + gguf::tensor_type_name(t.type));
    }
    for (uint64_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        fail(what_ + ": tensor '" + name + "' element " + std::to_string(i) + " is not finite (" +
             gguf::tensor_type_name(t.type) + ")");
      }
    }
    std::memcpy(h.data.data(), values.data(), h.data.size());
    if (type == TensorType::kF32) {
      conv_->add(t.type, "-> f32 (as stored)");
    } else if (type == TensorType::kF16 || type == TensorType::kBF16) {
      conv_->add(t.type, "-> f32 (exact)");
    } else if (type == TensorType::kQ8_0 || type == TensorType::kQ4_0 || type == TensorType::kQ5_0) {
      conv_->add(t.type, "-> f32 (dequantized, exact values)");
    } else {
      conv_->add(t.type, "-> f32 (dequantized with ggml's arithmetic)");
    }
    return h;
  }

  static void set_groups(HostTensor* h) {
    h->granularity = format::QuantGranularity::kPerGroup;
    h->group_size = kGgmlGroup;
    h->scale_dtype = format::DType::kF16;
  }

  const gguf::File& f_;
  std::string what_;
  Conversions* conv_;
  std::map<std::string, size_t> index_;
  std::vector<bool> used_;
};

// Rows [r0, r0 + n) of a 2-D tensor in any of the formats TensorSource produces.
HostTensor split_rows(const HostTensor& t, uint32_t r0, uint32_t n, const std::string& name) {
  HostTensor out;
  out.name = name;
  out.dtype = t.dtype;
  out.shape = {n, t.shape[1]};
  out.granularity = t.granularity;
  out.group_size = t.group_size;
  out.scale_dtype = t.scale_dtype;
  const uint64_t cols = t.shape[1];
  const uint64_t row_bytes = t.dtype == format::DType::kF32   ? cols * 4
                             : t.dtype == format::DType::kF16 ? cols * 2
                             : t.dtype == format::DType::kI8  ? cols
                                                              : cols / 2;
  out.data.assign(t.data.begin() + static_cast<std::ptrdiff_t>(r0 * row_bytes),
                  t.data.begin() + static_cast<std::ptrdiff_t>((r0 + n) * row_bytes));
  if (!t.scales.empty()) {
    const uint64_t row_scale_bytes = cols / t.group_size * 2;
    out.scales.assign(t.scales.begin() + static_cast<std::ptrdiff_t>(r0 * row_scale_bytes),
                      t.scales.begin() + static_cast<std::ptrdiff_t>((r0 + n) * row_scale_bytes));
  }
  if (!t.zero_points.empty()) {
    const uint64_t row_groups = cols / t.group_size;
    out.zero_points.assign(t.zero_points.begin() + static_cast<std::ptrdiff_t>(r0 * row_groups),
                           t.zero_points.begin() + static_cast<std::ptrdiff_t>((r0 + n) * row_groups));
  }
  return out;
}

HostTensor slice_vector(const HostTensor& t, uint32_t i0, uint32_t n, const std::string& name) {
  HostTensor out = HostTensor::f32(name, {n}, reinterpret_cast<const float*>(t.data.data()) + i0);
  return out;
}

bool is_byte_piece(const std::string& p, int* value) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return false;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = p[static_cast<size_t>(i)];
    int h = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (h < 0) return false;
    v = v * 16 + h;
  }
  *value = v;
  return true;
}

Tokenizer::Spec llama_tokenizer(const Metadata& md, uint32_t vocab) {
  const Value& tokens = md.array("tokenizer.ggml.tokens", {ValueType::kString}, vocab);
  Tokenizer::Spec spec;
  spec.pieces.reserve(vocab);
  spec.scores.assign(vocab, 0.0f);
  if (md.has("tokenizer.ggml.scores")) {
    const Value& scores = md.array("tokenizer.ggml.scores", {ValueType::kF32, ValueType::kF64}, vocab);
    for (uint32_t i = 0; i < vocab; ++i) {
      if (!std::isfinite(scores.numbers[i])) {
        fail(md.what() + ": tokenizer.ggml.scores[" + std::to_string(i) + "] is not finite");
      }
      spec.scores[i] = static_cast<float>(scores.numbers[i]);
    }
  }
  std::vector<int> types(vocab, 1);  // 1 = normal
  if (md.has("tokenizer.ggml.token_type")) {
    const Value& tt = md.array("tokenizer.ggml.token_type", {ValueType::kI32, ValueType::kU32}, vocab);
    for (uint32_t i = 0; i < vocab; ++i) types[i] = static_cast<int>(tt.numbers[i]);
  }
  static const std::string kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space
  int32_t byte_base = -1;
  for (uint32_t i = 0; i < vocab; ++i) {
    std::string piece = tokens.strings[i];
    int byte = -1;
    const bool byte_piece = is_byte_piece(piece, &byte);
    if (types[i] == 6 && !byte_piece) {
      fail(md.what() + ": token " + std::to_string(i) + " has type BYTE but is not a <0xNN> piece");
    }
    if (byte_piece && byte == 0 && byte_base < 0) byte_base = static_cast<int32_t>(i);
    if (!byte_piece && types[i] != 3) {  // control tokens (<s>, </s>) keep their text
      for (size_t at = piece.find(kSpaceMark); at != std::string::npos; at = piece.find(kSpaceMark, at + 1)) {
        piece.replace(at, kSpaceMark.size(), " ");
      }
    }
    if (piece.size() > kMaxPieceBytes) {
      fail(md.what() + ": token " + std::to_string(i) + " is " + std::to_string(piece.size()) +
           " bytes long (limit " + std::to_string(kMaxPieceBytes) + ")");
    }
    spec.pieces.push_back(std::move(piece));
  }
  // Byte fallback needs <0x00>..<0xFF> in order.
  if (byte_base >= 0) {
    bool complete = static_cast<uint64_t>(byte_base) + 256 <= vocab;
    for (int b = 0; complete && b < 256; ++b) {
      int v = -1;
      complete = is_byte_piece(spec.pieces[static_cast<size_t>(byte_base + b)], &v) && v == b;
    }
    if (!complete) byte_base = -1;
  }
  spec.byte_fallback_base = byte_base;
  spec.bos_id = static_cast<int32_t>(md.integer_or("tokenizer.ggml.bos_token_id", 1, 0, vocab - 1));
  spec.eos_id = static_cast<int32_t>(md.integer_or("tokenizer.ggml.eos_token_id", 2, 0, vocab - 1));
  spec.unk_id = static_cast<int32_t>(md.integer_or("tokenizer.ggml.unknown_token_id", 0, 0, vocab - 1));
  spec.add_dummy_prefix = md.boolean_or("tokenizer.ggml.add_space_prefix", true);
  return spec;
}

// GPT-2's bytes_to_unicode(): printable bytes stand for themselves, the other 68 bytes for U+0100.. in
// byte order. Returns the byte a code point stands for, or -1.
int gpt2_unicode_to_byte(uint32_t cp) {
  auto printable = [](uint32_t b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  if (cp < 256) return printable(cp) ? static_cast<int>(cp) : -1;
  uint32_t n = 0;
  for (uint32_t b = 0; b < 256; ++b) {
    if (printable(b)) continue;
    if (cp == 256 + n) return static_cast<int>(b);
    ++n;
  }
  return -1;
}

// A GPT-2 vocabulary string (UTF-8 of bytes_to_unicode code points) -> raw bytes; false when it is not one.
bool gpt2_piece_bytes(const std::string& s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    const uint8_t b0 = static_cast<uint8_t>(s[i]);
    uint32_t cp = 0;
    size_t len = 1;
    if (b0 < 0x80) {
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0 && i + 1 < s.size() && (static_cast<uint8_t>(s[i + 1]) & 0xC0) == 0x80) {
      cp = ((b0 & 0x1Fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3Fu);
      len = 2;
    } else {
      return false;  // every code point of the alphabet is below U+0144: one or two bytes
    }
    const int byte = gpt2_unicode_to_byte(cp);
    if (byte < 0) return false;
    out->push_back(static_cast<char>(byte));
    i += len;
  }
  return true;
}

Tokenizer::Spec gpt2_tokenizer(const Metadata& md, uint32_t vocab) {
  const std::string pre = md.string_or("tokenizer.ggml.pre", "default");
  if (pre != "default" && pre != "gpt-2" && pre != "gpt2") {
    fail(md.what() + ": tokenizer.ggml.pre '" + pre +
         "' is not supported (GPT-2's own pre-tokenizer: 'default' or 'gpt-2')");
  }
  const Value& tokens = md.array("tokenizer.ggml.tokens", {ValueType::kString}, vocab);
  std::vector<int> types(vocab, 1);
  if (md.has("tokenizer.ggml.token_type")) {
    const Value& tt = md.array("tokenizer.ggml.token_type", {ValueType::kI32, ValueType::kU32}, vocab);
    for (uint32_t i = 0; i < vocab; ++i) types[i] = static_cast<int>(tt.numbers[i]);
  }
  Tokenizer::Spec spec;
  spec.kind = Tokenizer::Kind::kGpt2ByteBpe;
  spec.scores.assign(vocab, 0.0f);
  spec.pieces.reserve(vocab);
  std::map<std::string, int32_t> normal_ids;  // raw bytes -> first normal token with them
  std::string raw;
  for (uint32_t i = 0; i < vocab; ++i) {
    const std::string& t = tokens.strings[i];
    const bool special = types[i] == 3 || types[i] == 4;  // control / user-defined: stored as text
    if (special) {
      raw = t;
    } else if (!gpt2_piece_bytes(t, &raw)) {
      fail(md.what() + ": tokenizer.ggml.tokens[" + std::to_string(i) + "] is not in GPT-2's byte alphabet");
    }
    if (raw.size() > kMaxPieceBytes) {
      fail(md.what() + ": token " + std::to_string(i) + " is " + std::to_string(raw.size()) +
           " bytes long (limit " + std::to_string(kMaxPieceBytes) + ")");
    }
    if (!special) normal_ids.emplace(raw, static_cast<int32_t>(i));
    spec.pieces.push_back(raw);
  }
  const Value* merges = md.find("tokenizer.ggml.merges");
  if (merges == nullptr || !merges->is_array() || merges->element_type != ValueType::kString) {
    fail(md.what() + ": GPT-2 tokenizer without a string array 'tokenizer.ggml.merges'");
  }
  spec.merges.reserve(merges->strings.size());
  std::string left, right;
  for (size_t k = 0; k < merges->strings.size(); ++k) {
    const std::string& m = merges->strings[k];
    const size_t space = m.find(' ');
    auto id_of = [&](const std::string& text, std::string* bytes) -> int32_t {
      if (!gpt2_piece_bytes(text, bytes)) return -1;
      auto it = normal_ids.find(*bytes);
      return it == normal_ids.end() ? -1 : it->second;
    };
    const int32_t l = space == std::string::npos ? -1 : id_of(m.substr(0, space), &left);
    const int32_t r = space == std::string::npos ? -1 : id_of(m.substr(space + 1), &right);
    if (l < 0 || r < 0 || normal_ids.count(left + right) == 0) {
      fail(md.what() + ": tokenizer.ggml.merges[" + std::to_string(k) + "] '" + m.substr(0, 64) +
           "' is not two vocabulary tokens whose concatenation is one");
    }
    spec.merges.emplace_back(l, r);
  }
  spec.bos_id = static_cast<int32_t>(md.integer_or("tokenizer.ggml.bos_token_id", vocab - 1, 0, vocab - 1));
  spec.eos_id = static_cast<int32_t>(md.integer_or("tokenizer.ggml.eos_token_id", spec.bos_id, 0, vocab - 1));
  spec.unk_id =
      static_cast<int32_t>(md.integer_or("tokenizer.ggml.unknown_token_id", spec.eos_id, 0, vocab - 1));
  spec.byte_fallback_base = -1;
  spec.add_dummy_prefix = false;
  return spec;
}

Tokenizer::Spec tokenizer_from(const Metadata& md, uint32_t vocab) {
  const std::string model = md.string("tokenizer.ggml.model");
  Tokenizer::Spec spec;
  if (model == "llama") {
    spec = llama_tokenizer(md, vocab);
  } else if (model == "gpt2") {
    spec = gpt2_tokenizer(md, vocab);
  } else {
    fail(md.what() + ": tokenizer.ggml.model '" + model + "' is not supported (llama, gpt2)");
  }
  Result<Tokenizer> check = Tokenizer::create(spec);
  if (!check.ok()) fail(md.what() + ": " + check.status().message());
  return spec;
}

uint32_t vocab_from(const Metadata& md, const TensorSource& src) {
  const Value* tokens = md.find("tokenizer.ggml.tokens");
  if (tokens == nullptr || !tokens->is_array()) fail(md.what() + ": missing array 'tokenizer.ggml.tokens'");
  const uint64_t n = tokens->array_size();
  if (n == 0 || n > (1u << 22))
    fail(md.what() + ": vocabulary of " + std::to_string(n) + " tokens is out of range");
  const TensorInfo& emb = src.info("token_embd.weight");
  if (emb.ne.size() != 2 || emb.ne[1] != n) {
    fail(md.what() + ": token_embd.weight has ne " + dims_string(emb.ne) + ", the vocabulary has " +
         std::to_string(n) + " tokens");
  }
  return static_cast<uint32_t>(n);
}

void common_metadata(modelio::ModelSpec* spec, const Metadata& md, const std::string& arch,
                     uint32_t context) {
  spec->metadata.push_back({"source", "gguf"});
  spec->metadata.push_back({"gguf.architecture", arch});
  const std::string name = md.string_or("general.name", "");
  if (!name.empty()) spec->metadata.push_back({"gguf.name", name});
  spec->metadata.push_back({"training_context", std::to_string(context)});
}

// No output.weight, or one that is a byte-for-byte copy of token_embd.weight: the classifier is the
// embedding (same values, one copy in the file and in memory).
bool tied_head(TensorSource& src, std::vector<std::string>* notes) {
  if (!src.has("output.weight")) return true;
  if (!src.consume_if_copy("output.weight", "token_embd.weight")) return false;
  notes->push_back("output.weight is a copy of token_embd.weight: classifier tied to the embedding");
  return true;
}

// RoPE block of a llama file.
void llama_rope(const Metadata& md, const std::string& arch, uint32_t head_dim, modelio::ModelSpec* spec,
                std::vector<std::string>* notes) {
  modelio::HostPositional& p = spec->positional;
  p.scheme = PositionalScheme::kRope;
  p.rope_layout = detail::RopeLayoutKind::kInterleaved;
  p.precision = detail::TrigPrecision::kF32;
  p.base = md.number_or(arch + ".rope.freq_base", 10000.0);
  if (!(p.base > 1.0)) fail(md.what() + ": " + arch + ".rope.freq_base must be > 1");
  // Partial rotary (dimension_count < head_dim): ggml's NORM rope turns the adjacent pairs of the first
  // dimension_count dims by base^(-2j/dimension_count) and passes the rest through, which is the Rope
  // block's rotary_dims with the interleaved layout.
  const uint64_t rot = md.integer_or(arch + ".rope.dimension_count", head_dim, 2, head_dim);
  if (rot % 2 != 0) {
    fail(md.what() + ": " + arch + ".rope.dimension_count " + std::to_string(rot) +
         " must be even (dims rotate in pairs)");
  }
  p.rotary_dims = static_cast<uint32_t>(rot);
  if (rot < head_dim) {
    notes->push_back("partial rotary: the first " + std::to_string(rot) + " of " + std::to_string(head_dim) +
                     " dims of each head rotate");
  }

  std::string type = md.string_or(arch + ".rope.scaling.type", "");
  double factor = md.number_or(arch + ".rope.scaling.factor", 0.0);
  if (md.has(arch + ".rope.scale_linear")) {  // older files: linear scaling only
    if (!type.empty() && type != "linear") {
      fail(md.what() + ": " + arch + ".rope.scale_linear contradicts rope.scaling.type '" + type + "'");
    }
    type = "linear";
    factor = md.number_or(arch + ".rope.scale_linear", 1.0);
  }
  if (type.empty() || type == "none" || (type == "linear" && factor == 1.0)) return;
  if (!(factor >= 1.0 && factor <= 1024.0)) {
    fail(md.what() + ": " + arch + ".rope.scaling.factor " + std::to_string(factor) + " is not in [1, 1024]");
  }
  // The scaling goes into the settings the file, the runtime and quant::rope_frequencies share.
  p.scaling_factor = static_cast<float>(factor);
  if (type == "linear") {
    p.scaling = detail::RopeScalingKind::kLinear;
  } else if (type == "yarn") {
    p.scaling = detail::RopeScalingKind::kYaRN;
    p.original_context =
        static_cast<uint32_t>(md.integer(arch + ".rope.scaling.original_context_length", 1, 1u << 24));
    const double beta_fast = md.number_or(arch + ".rope.scaling.yarn_beta_fast", 32.0);
    const double beta_slow = md.number_or(arch + ".rope.scaling.yarn_beta_slow", 1.0);
    if (!(beta_fast > beta_slow && beta_slow > 0.0)) {
      fail(md.what() + ": " + arch + ".rope.scaling.yarn_beta_fast/slow must satisfy fast > slow > 0");
    }
    p.beta_fast = static_cast<float>(beta_fast);
    p.beta_slow = static_cast<float>(beta_slow);
    // Variants whose attention temperature differs from YaRN's 0.1 ln(F) + 1 are refused by name, never
    // imported with the wrong scale.
    for (const char* key : {".rope.scaling.attn_factor", ".rope.scaling.yarn_attn_factor"}) {
      if (md.number_or(arch + key, 1.0) != 1.0) {
        fail(md.what() + ": " + arch + key + " other than 1 is not supported");
      }
    }
    if (md.number_or(arch + ".rope.scaling.yarn_log_multiplier", 0.0) != 0.0) {
      fail(md.what() + ": " + arch + ".rope.scaling.yarn_log_multiplier is not supported");
    }
    if (md.number_or(arch + ".rope.scaling.yarn_ext_factor", 1.0) != 1.0) {
      fail(md.what() + ": " + arch + ".rope.scaling.yarn_ext_factor other than 1 is not supported");
    }
  } else {
    fail(md.what() + ": " + arch + ".rope.scaling.type '" + type + "' is not supported (none, linear, yarn)");
  }
  Result<quant::RopeFrequencies> f = quant::rope_frequencies(p);
  if (!f.ok()) fail(md.what() + ": " + f.status().message());
  p.frequencies = f.value().turns;
  p.attention_factor = static_cast<float>(f.value().attention_factor);
  notes->push_back("rope scaling " + type + " x" + std::to_string(factor) + " (frequencies precomputed)");
}

modelio::ModelSpec import_llama(const Metadata& md, TensorSource& src, std::vector<std::string>* notes) {
  const std::string a = "llama";
  const uint32_t d = static_cast<uint32_t>(md.integer(a + ".embedding_length", 1, 1 << 16));
  const uint32_t L = static_cast<uint32_t>(md.integer(a + ".block_count", 1, 1024));
  const uint32_t H = static_cast<uint32_t>(md.integer(a + ".attention.head_count", 1, d));
  const uint32_t KV = static_cast<uint32_t>(md.integer_or(a + ".attention.head_count_kv", H, 1, H));
  const uint32_t I = static_cast<uint32_t>(md.integer(a + ".feed_forward_length", 1, 1 << 20));
  const uint32_t P = static_cast<uint32_t>(md.integer(a + ".context_length", 1, 1u << 24));
  if (d % H != 0) {
    fail(md.what() + ": embedding_length " + std::to_string(d) + " is not a multiple of head_count " +
         std::to_string(H));
  }
  if (H % KV != 0) {
    fail(md.what() + ": head_count " + std::to_string(H) + " is not a multiple of head_count_kv " +
         std::to_string(KV));
  }
  const uint32_t hd = d / H;
  if (md.integer_or(a + ".attention.key_length", hd, 1, 1 << 16) != hd ||
      md.integer_or(a + ".attention.value_length", hd, 1, 1 << 16) != hd) {
    fail(md.what() + ": attention.key_length/value_length differ from embedding_length / head_count = " +
         std::to_string(hd) + " (not supported)");
  }
  if (hd % 2 != 0) fail(md.what() + ": RoPE needs an even head dimension, got " + std::to_string(hd));
  if (md.has(a + ".expert_count") && md.integer(a + ".expert_count", 0, 1 << 16) > 0) {
    fail(md.what() + ": mixture-of-experts llama files are not supported");
  }
  if (src.has("rope_freqs.weight")) {
    fail(md.what() + ": tensor 'rope_freqs.weight' (Llama-3.1 frequency factors) is not supported yet");
  }
  const uint32_t V = vocab_from(md, src);

  modelio::ModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = Architecture::kLlama;
  c.dim = d;
  c.hidden_dim = I;
  c.n_layers = L;
  c.n_heads = H;
  c.n_kv_heads = KV;
  c.head_dim = hd;
  c.vocab_size = V;
  c.max_positions = P;
  c.norm = NormType::kRMSNorm;
  c.norm_eps = static_cast<float>(md.number_or(a + ".attention.layer_norm_rms_epsilon", 1e-5));
  if (!(c.norm_eps > 0.0f)) fail(md.what() + ": " + a + ".attention.layer_norm_rms_epsilon must be positive");
  c.activation = Activation::kSwiGLU;
  c.tied_classifier = tied_head(src, notes);

  const uint32_t kv_dim = KV * hd;
  spec.token_embedding = src.matrix("token_embd.weight", V, d);
  spec.layers.resize(L);
  for (uint32_t l = 0; l < L; ++l) {
    modelio::HostLayer& y = spec.layers[l];
    const std::string pre = "blk." + std::to_string(l) + ".";
    y.attn_norm = src.vector(pre + "attn_norm.weight", d);
    y.wq = src.matrix(pre + "attn_q.weight", d, d);
    y.wk = src.matrix(pre + "attn_k.weight", kv_dim, d);
    y.wv = src.matrix(pre + "attn_v.weight", kv_dim, d);
    y.wo = src.matrix(pre + "attn_output.weight", d, d);
    y.ffn_norm = src.vector(pre + "ffn_norm.weight", d);
    y.w1 = src.matrix(pre + "ffn_gate.weight", I, d);
    y.w3 = src.matrix(pre + "ffn_up.weight", I, d);
    y.w2 = src.matrix(pre + "ffn_down.weight", d, I);
  }
  spec.final_norm = src.vector("output_norm.weight", d);
  if (!c.tied_classifier) spec.classifier = src.matrix("output.weight", V, d);
  llama_rope(md, a, hd, &spec, notes);
  common_metadata(&spec, md, a, P);
  return spec;
}

modelio::ModelSpec import_gpt2(const Metadata& md, TensorSource& src, std::vector<std::string>* notes) {
  const std::string a = "gpt2";
  const uint32_t d = static_cast<uint32_t>(md.integer(a + ".embedding_length", 1, 1 << 16));
  const uint32_t L = static_cast<uint32_t>(md.integer(a + ".block_count", 1, 1024));
  const uint32_t H = static_cast<uint32_t>(md.integer(a + ".attention.head_count", 1, d));
  const uint32_t I = static_cast<uint32_t>(md.integer(a + ".feed_forward_length", 1, 1 << 20));
  const uint32_t P = static_cast<uint32_t>(md.integer(a + ".context_length", 1, 1u << 24));
  if (d % H != 0) {
    fail(md.what() + ": embedding_length " + std::to_string(d) + " is not a multiple of head_count " +
         std::to_string(H));
  }
  if (md.integer_or(a + ".attention.head_count_kv", H, 1, H) != H) {
    fail(md.what() + ": gpt2.attention.head_count_kv must equal head_count");
  }
  const uint32_t V = vocab_from(md, src);
  const TensorInfo& pos = src.info("position_embd.weight");
  // The schema's learned table has exactly max_positions rows.
  if (pos.ne.size() != 2 || pos.ne[0] != d || pos.ne[1] != P) {
    fail(md.what() + ": position_embd.weight has ne " + dims_string(pos.ne) + ", expected [" +
         std::to_string(d) + ", context_length " + std::to_string(P) + "]");
  }

  modelio::ModelSpec spec;
  ModelConfig& c = spec.config;
  c.architecture = Architecture::kGPT2;
  c.dim = d;
  c.hidden_dim = I;
  c.n_layers = L;
  c.n_heads = H;
  c.n_kv_heads = H;
  c.head_dim = d / H;
  c.vocab_size = V;
  c.max_positions = P;
  c.norm = NormType::kLayerNorm;
  c.norm_eps = static_cast<float>(md.number_or(a + ".attention.layer_norm_epsilon", 1e-5));
  if (!(c.norm_eps > 0.0f)) fail(md.what() + ": " + a + ".attention.layer_norm_epsilon must be positive");
  c.activation = Activation::kGELU;
  c.attention_bias = true;
  c.mlp_bias = true;

  spec.token_embedding = src.matrix("token_embd.weight", V, d);
  spec.layers.resize(L);
  for (uint32_t l = 0; l < L; ++l) {
    modelio::HostLayer& y = spec.layers[l];
    const std::string pre = "blk." + std::to_string(l) + ".";
    y.attn_norm = src.vector(pre + "attn_norm.weight", d);
    y.attn_norm_bias = src.vector(pre + "attn_norm.bias", d);
    const HostTensor qkv = src.matrix(pre + "attn_qkv.weight", 3 * d, d);
    y.wq = split_rows(qkv, 0, d, pre + "attn_qkv.weight:q");
    y.wk = split_rows(qkv, d, d, pre + "attn_qkv.weight:k");
    y.wv = split_rows(qkv, 2 * d, d, pre + "attn_qkv.weight:v");
    const HostTensor qkv_b = src.vector(pre + "attn_qkv.bias", 3 * d);
    y.bq = slice_vector(qkv_b, 0, d, pre + "attn_qkv.bias:q");
    y.bk = slice_vector(qkv_b, d, d, pre + "attn_qkv.bias:k");
    y.bv = slice_vector(qkv_b, 2 * d, d, pre + "attn_qkv.bias:v");
    y.wo = src.matrix(pre + "attn_output.weight", d, d);
    y.bo = src.vector(pre + "attn_output.bias", d);
    y.ffn_norm = src.vector(pre + "ffn_norm.weight", d);
    y.ffn_norm_bias = src.vector(pre + "ffn_norm.bias", d);
    y.w1 = src.matrix(pre + "ffn_up.weight", I, d);
    y.b1 = src.vector(pre + "ffn_up.bias", I);
    y.w2 = src.matrix(pre + "ffn_down.weight", d, I);
    y.b2 = src.vector(pre + "ffn_down.bias", d);
  }
  spec.final_norm = src.vector("output_norm.weight", d);
  spec.final_norm_bias = src.vector("output_norm.bias", d);
  c.tied_classifier = tied_head(src, notes);
  if (!c.tied_classifier) spec.classifier = src.matrix("output.weight", V, d);

  modelio::HostPositional& p = spec.positional;
  p.scheme = PositionalScheme::kLearnedTable;
  p.policy = detail::OutOfRangePolicy::kError;
  p.table = src.matrix("position_embd.weight", P, d, Role::kTable);
  common_metadata(&spec, md, a, P);
  return spec;
}

GgufImport import_parsed(const gguf::File& file, const std::string& what) {
  Metadata md(file, what);
  const std::string arch = md.string("general.architecture");
  Conversions conv;
  TensorSource src(file, what, &conv);
  GgufImport out;
  if (arch == "llama") {
    out.spec = import_llama(md, src, &out.notes);
  } else if (arch == "gpt2") {
    out.spec = import_gpt2(md, src, &out.notes);
  } else {
    fail(what + ": general.architecture '" + arch + "' is not supported (llama, gpt2)");
  }
  src.check_all_used();
  // Ordinal's own key (written by models/gguf/make_test_ggufs.py for task models): how `verify` scores them.
  out.spec.task_spec = md.string_or("ordinal.task_spec", "");
  out.spec.tokenizer = tokenizer_from(md, out.spec.config.vocab_size);
  for (const auto& [how, n] : conv.counts) {
    out.notes.insert(out.notes.begin(), how + ": " + std::to_string(n) + " tensor" + (n > 1 ? "s" : ""));
  }
  for (const std::string& n : out.notes) out.spec.metadata.push_back({"gguf.import", n});
  return out;
}

}  // namespace

Result<GgufImport> import_gguf_file(const gguf::File& file, const std::string& what) {
  try {
    return import_parsed(file, what);
  } catch (const ImportError& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return invalid_argument(what + ": out of memory while importing");
  }
}

Result<GgufImport> import_gguf(const std::string& path) {
  ORDINAL_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file(path));
  ORDINAL_ASSIGN_OR_RETURN(gguf::File file, gguf::parse(bytes.data(), bytes.size(), path));
  return import_gguf_file(file, path);
}

}  // namespace ordinal::importers
