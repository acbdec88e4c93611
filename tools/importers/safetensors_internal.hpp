// Internals of the Hugging Face safetensors importer (importers/safetensors.hpp), one file per concern:
// safetensors_file.cpp (the container: header, offsets, coverage; tensors handed out by name),
// hf_config.cpp (config.json access, JSON limits, metadata), hf_tokenizer.cpp (tokenizer.json),
// hf_positional.cpp (ordinal_positional, RoPE block: partial rotary, scaling), hf_gpt2.cpp and
// hf_llama.cpp (per-architecture tensor mapping), safetensors.cpp (entry points).
// Errors travel as ImportError exceptions inside these files only; the entry points catch them and
// return the Status (the public API throws nothing).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "importers/safetensors.hpp"
#include "modelio/model_spec.hpp"

namespace ordinal::importers::hf {

using modelio::HostTensor;
using nlohmann::json;

// Internal error transport: helpers throw, the public entry points catch and return the Status.
struct ImportError {
  Status status;
};

[[noreturn]] void fail(std::string message);

constexpr uint64_t kAny = std::numeric_limits<uint64_t>::max();  // wildcard dimension in an expected shape
constexpr uint64_t kMaxHeaderBytes = 100u << 20;                 // as the reference safetensors library

// Whole-file reads and JSON parsing under the size/nesting limits (format/json_limits.hpp).
std::vector<uint8_t> read_file_or_throw(const std::string& path, uint64_t max_bytes);
void check_json_or_throw(const uint8_t* data, size_t size, uint64_t max_bytes, const std::string& what);
json parse_json_file(const std::string& path);

std::string shape_string(const std::vector<uint64_t>& shape);

// Reads and validates a safetensors file (throws ImportError).
SafetensorsFile parse_safetensors(const std::string& path);

// A tensor taken out of the file: F32 or F16 storage, row-major.
struct Mat {
  format::DType dtype = format::DType::kF32;
  std::vector<uint64_t> shape;
  std::vector<uint8_t> data;

  size_t esize() const { return dtype == format::DType::kF16 ? 2 : 4; }
  uint64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  uint64_t cols() const { return shape.size() < 2 ? (shape.empty() ? 1 : shape[0]) : shape[1]; }
};

// F16 -> F32 (exact); F32 is returned as is.
Mat to_f32(Mat m);
// [R, C] -> columns [c0, c0 + n) transposed: [n, R].
Mat transpose_cols(const Mat& m, uint64_t c0, uint64_t n);
// 1-D slice [c0, c0 + n).
Mat slice(const Mat& m, uint64_t c0, uint64_t n);
HostTensor host(std::string name, Mat m);
float bf16_to_float(uint16_t b);

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

Tokenizer::Spec read_tokenizer(const std::string& path, uint32_t vocab_size);

// `ordinal_positional` with only the keys its scheme defines; `fallback_scheme` when absent ("" refuses).
json positional_config(const json& config, const std::string& path, const std::string& fallback_scheme);
// A GPT-2 body's positional component from `ordinal_positional` (learned, sinusoidal, alibi, relative_bias,
// none); takes the tables it needs from `src`.
void gpt2_positional(const json& pos, const Config& c, TensorSource& src, uint32_t n_heads, uint32_t dim,
                     uint32_t positions, modelio::HostPositional* p);
// A Llama body's RoPE block: rope_theta, partial_rotary_factor, rope_scaling (llama3), layout, and the
// exact frequencies the runtime reads.
void llama_rope(const json& j, const Config& c, const std::string& layout, uint32_t head_dim,
                modelio::HostPositional* p);

void common_metadata(modelio::ModelSpec* spec, const std::string& model_type, uint32_t context,
                     const json& pos);

modelio::ModelSpec import_gpt2(const json& j, const Config& c, TensorSource& src);
modelio::ModelSpec import_llama(const json& j, const Config& c, TensorSource& src);

}  // namespace ordinal::importers::hf
