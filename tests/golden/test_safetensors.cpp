// `ordinal import safetensors`: every exported model in models/zoo/ (those with reference.json) is
// imported, written, loaded and decoded token by token; the logits at every position must match the
// PyTorch float32 reference to 1e-4. Negative tests feed crafted, broken directories to the importer.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "importers/safetensors.hpp"
#include "modelio/model_spec.hpp"
#include "numerics/half.hpp"
#include "ordinal/runtime.hpp"
#include "support/synthetic_model.hpp"

namespace {

using nlohmann::json;
using ordinal::importers::import_safetensors;

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Zoo model directories that carry a reference.json, sorted by name.
std::vector<std::string> zoo_models() {
  const std::string zoo = std::string(ORDINAL_SOURCE_DIR) + "/models/zoo";
  std::vector<std::string> names;
  if (DIR* d = opendir(zoo.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      if (is_file(zoo + "/" + name + "/reference.json")) names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------
// Crafted model directories.

struct Entry {
  std::string name;
  std::string dtype;  // F32, F16, BF16, or anything else (written as is)
  std::vector<uint64_t> shape;
  std::vector<float> values;
};

std::string encode_values(const Entry& e) {
  std::string out;
  for (float v : e.values) {
    if (e.dtype == "F32") {
      char b[4];
      std::memcpy(b, &v, 4);
      out.append(b, 4);
    } else if (e.dtype == "F16") {
      const uint16_t h = ordinal::numerics::float_to_half(v);
      out.push_back(static_cast<char>(h & 0xFF));
      out.push_back(static_cast<char>(h >> 8));
    } else if (e.dtype == "BF16") {
      uint32_t u;
      std::memcpy(&u, &v, 4);
      const uint16_t b = static_cast<uint16_t>(u >> 16);  // values used here are exact in bf16
      out.push_back(static_cast<char>(b & 0xFF));
      out.push_back(static_cast<char>(b >> 8));
    } else {
      out.append(8, '\0');  // e.g. I64
    }
  }
  return out;
}

// Serialises entries as safetensors; `mutate` may edit the header JSON before it is written.
std::string safetensors_bytes(const std::vector<Entry>& entries, const std::function<void(json&)>& mutate = nullptr) {
  json header = json::object();
  std::string data;
  for (const Entry& e : entries) {
    const std::string b = encode_values(e);
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {data.size(), data.size() + b.size()}}};
    data += b;
  }
  header["__metadata__"] = {{"format", "pt"}};
  if (mutate) mutate(header);
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h += ' ';
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + h + data;
}

std::vector<float> ramp(size_t n, float scale, float offset = 0.0f) {
  std::vector<float> v(n);
  // Small dyadic values: exact in F16 and BF16.
  for (size_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>(static_cast<int>(i % 17) - 8) / 16.0f;
  return v;
}

constexpr uint64_t kD = 8, kH = 2, kP = 4, kV = 4, kHidden = 16;

std::vector<Entry> tiny_gpt2_tensors(const std::string& matrix_dtype = "F16") {
  std::vector<Entry> t;
  auto add = [&](const std::string& name, const std::string& dtype, std::vector<uint64_t> shape, float scale,
                 float offset = 0.0f) {
    uint64_t n = 1;
    for (uint64_t s : shape) n *= s;
    t.push_back({name, dtype, shape, ramp(n, scale, offset)});
  };
  add("transformer.wte.weight", matrix_dtype, {kV, kD}, 0.5f);
  add("transformer.wpe.weight", matrix_dtype, {kP, kD}, 0.25f);
  const std::string pre = "transformer.h.0.";
  add(pre + "ln_1.weight", "F32", {kD}, 0.0f, 1.0f);
  add(pre + "ln_1.bias", "F32", {kD}, 0.125f);
  add(pre + "attn.c_attn.weight", matrix_dtype, {kD, 3 * kD}, 0.5f);
  add(pre + "attn.c_attn.bias", "F16", {3 * kD}, 0.25f);
  add(pre + "attn.c_proj.weight", matrix_dtype, {kD, kD}, 0.5f);
  add(pre + "attn.c_proj.bias", "F16", {kD}, 0.25f);
  add(pre + "ln_2.weight", "F32", {kD}, 0.0f, 1.0f);
  add(pre + "ln_2.bias", "F32", {kD}, 0.125f);
  add(pre + "mlp.c_fc.weight", matrix_dtype, {kD, kHidden}, 0.5f);
  add(pre + "mlp.c_fc.bias", "F16", {kHidden}, 0.25f);
  add(pre + "mlp.c_proj.weight", matrix_dtype, {kHidden, kD}, 0.5f);
  add(pre + "mlp.c_proj.bias", "F16", {kD}, 0.25f);
  add("transformer.ln_f.weight", "F32", {kD}, 0.0f, 1.0f);
  add("transformer.ln_f.bias", "F32", {kD}, 0.125f);
  // Distinct values in c_attn so the q/k/v split and the transpose are observable.
  for (Entry& e : t) {
    if (e.name == pre + "attn.c_attn.weight" || e.name == pre + "attn.c_attn.bias") {
      for (size_t i = 0; i < e.values.size(); ++i) e.values[i] = static_cast<float>(i) / 256.0f;
    }
  }
  return t;
}

json tiny_gpt2_config() {
  return {{"model_type", "gpt2"},         {"n_embd", kD},
          {"n_layer", 1},                 {"n_head", kH},
          {"n_positions", kP},            {"vocab_size", kV},
          {"layer_norm_epsilon", 1e-5},   {"activation_function", "gelu_new"},
          {"tie_word_embeddings", true},  {"ordinal_positional", {{"scheme", "learned"}}},
          {"ordinal_task", {{"bos_id", 1}, {"name", "tiny"}}}};
}

json tiny_tokenizer() {
  return {{"kind", "llama2c-bpe"},
          {"pieces", {"<unk>", "<s>", "</s>", "a"}},
          {"scores", {0.0, 0.0, 0.0, 0.0}},
          {"bos_id", 1},
          {"eos_id", 2},
          {"max_token_length", 3}};
}

// Writes a model directory under test_tmp and returns its path.
std::string write_dir(const std::string& name, const json& config, const std::string& safetensors,
                      const json& tokenizer = tiny_tokenizer()) {
  const std::string dir = ordinal::testing::temp_path("st_" + name);
  REQUIRE(std::system(("mkdir -p '" + dir + "'").c_str()) == 0);
  spit(dir + "/config.json", config.dump(2));
  spit(dir + "/model.safetensors", safetensors);
  spit(dir + "/tokenizer.json", tokenizer.dump());
  return dir;
}

float f16_at(const ordinal::modelio::HostTensor& t, size_t i) {
  uint16_t h;
  std::memcpy(&h, t.data.data() + 2 * i, 2);
  return ordinal::numerics::half_to_float(h);
}

float f32_at(const ordinal::modelio::HostTensor& t, size_t i) {
  float f;
  std::memcpy(&f, t.data.data() + 4 * i, 4);
  return f;
}

// The import must fail with a message containing every one of `needles`.
void expect_error(const std::string& dir, std::initializer_list<const char*> needles) {
  auto r = import_safetensors(dir);
  REQUIRE_MESSAGE(!r.ok(), dir << " imported although it is broken");
  const std::string msg = r.status().message();
  INFO("error: " << msg);
  for (const char* n : needles) CHECK_MESSAGE(msg.find(n) != std::string::npos, "missing '" << n << "'");
}

}  // namespace

TEST_CASE("safetensors zoo round trip: import, write, load, decode every reference token, logits within 1e-4") {
  const std::vector<std::string> models = zoo_models();
  REQUIRE_MESSAGE(!models.empty(), "models/zoo/ has no model with reference.json");
  for (const std::string& name : models) {
    CAPTURE(name);
    const std::string dir = std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/" + name;
    auto spec = import_safetensors(dir);
    REQUIRE_MESSAGE(spec.ok(), name << ": " << spec.status().to_string());
    const json config = json::parse(slurp(dir + "/config.json"));
    if (config.contains("ordinal_task")) CHECK(spec.value().task_spec == config["ordinal_task"].dump());
    const std::string out = ordinal::testing::temp_path("zoo_" + name + ".ordinal");
    REQUIRE(ordinal::modelio::write_model(spec.value(), out).ok());
    auto model = ordinal::Model::load(out);
    REQUIRE_MESSAGE(model.ok(), name << ": " << model.status().to_string());

    ordinal::SessionOptions opts;
    opts.threads = 1;
    auto session = ordinal::Session::create(model.value(), opts);
    if (!session.ok() && session.status().code() == ordinal::ErrorCode::kUnsupported) {
      WARN_MESSAGE(false, name << ": imported and loaded, but the runtime cannot run it yet: "
                                << session.status().to_string());
      continue;
    }
    REQUIRE_MESSAGE(session.ok(), name << ": " << session.status().to_string());

    const json ref = json::parse(slurp(dir + "/reference.json"));
    const std::vector<int32_t> tokens = ref.at("tokens").get<std::vector<int32_t>>();
    const json& logits = ref.at("logits");
    REQUIRE(logits.size() == tokens.size());
    const size_t V = model.value()->config().vocab_size;
    double max_err = 0.0;
    size_t worst_pos = 0;
    bool unsupported = false;
    for (size_t i = 0; i < tokens.size(); ++i) {
      ordinal::Status st = session.value()->decode(tokens[i]);
      if (st.code() == ordinal::ErrorCode::kUnsupported) {
        WARN_MESSAGE(false, name << ": decode is not supported by the runtime yet: " << st.to_string());
        unsupported = true;
        break;
      }
      REQUIRE_MESSAGE(st.ok(), name << " position " << i << ": " << st.to_string());
      REQUIRE(logits[i].size() == V);
      const float* got = session.value()->logits();
      for (size_t v = 0; v < V; ++v) {
        const double want = static_cast<float>(logits[i][v].get<double>());
        const double err = std::fabs(static_cast<double>(got[v]) - want);
        if (!(err <= max_err)) {  // NaN propagates as the worst error
          max_err = err;
          worst_pos = i;
        }
      }
    }
    if (unsupported) continue;
    MESSAGE(name << ": " << tokens.size() << " positions, max |logit error| = " << max_err << " (at position "
                 << worst_pos << ")");
    CHECK_MESSAGE(max_err <= 1e-4, name << ": max abs logit error " << max_err << " at position " << worst_pos);
  }
}

TEST_CASE("safetensors: tiny GPT-2 maps Conv1D weights (split q|k|v, transpose) and keeps F16 storage") {
  const std::vector<Entry> tensors = tiny_gpt2_tensors();
  const std::string dir = write_dir("gpt2_ok", tiny_gpt2_config(), safetensors_bytes(tensors));
  auto r = import_safetensors(dir);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  const ordinal::modelio::ModelSpec& s = r.value();
  CHECK(s.config.architecture == ordinal::Architecture::kGPT2);
  CHECK(s.config.norm == ordinal::NormType::kLayerNorm);
  CHECK(s.config.activation == ordinal::Activation::kGELU);
  CHECK(s.config.hidden_dim == kHidden);
  CHECK(s.config.head_dim == kD / kH);
  CHECK(s.config.n_kv_heads == kH);
  CHECK(s.config.max_positions == kP);
  CHECK(s.config.tied_classifier);
  CHECK(s.config.attention_bias);
  CHECK(s.config.mlp_bias);
  CHECK(s.positional.scheme == ordinal::PositionalScheme::kLearnedTable);
  CHECK(s.tokenizer.byte_fallback_base == -1);
  CHECK(s.task_spec == R"({"bos_id":1,"name":"tiny"})");
  const auto& y = s.layers[0];
  REQUIRE(y.wq.dtype == ordinal::format::DType::kF16);
  REQUIRE(y.bq.dtype == ordinal::format::DType::kF32);
  REQUIRE(y.wk.shape == std::vector<uint32_t>{kD, kD});
  // c_attn.weight[i][o] = (i * 3d + o) / 256; wk[o][i] must equal c_attn[i][d + o].
  for (uint64_t o = 0; o < kD; ++o) {
    for (uint64_t i = 0; i < kD; ++i) {
      CHECK(f16_at(y.wq, o * kD + i) == static_cast<float>(i * 3 * kD + o) / 256.0f);
      CHECK(f16_at(y.wk, o * kD + i) == static_cast<float>(i * 3 * kD + kD + o) / 256.0f);
      CHECK(f16_at(y.wv, o * kD + i) == static_cast<float>(i * 3 * kD + 2 * kD + o) / 256.0f);
    }
    CHECK(f32_at(y.bv, o) == static_cast<float>(2 * kD + o) / 256.0f);
  }
  CHECK(y.w1.shape == std::vector<uint32_t>{kHidden, kD});
  CHECK(y.w2.shape == std::vector<uint32_t>{kD, kHidden});
  // The written file verifies and runs.
  const std::string out = ordinal::testing::temp_path("st_gpt2_ok.ordinal");
  REQUIRE(ordinal::modelio::write_model(s, out).ok());
  auto model = ordinal::Model::load(out);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  auto session = ordinal::Session::create(model.value());
  REQUIRE(session.ok());
  CHECK(session.value()->decode(1).ok());
}

TEST_CASE("safetensors: BF16 weights are widened to F32 exactly") {
  const std::string dir = write_dir("gpt2_bf16", tiny_gpt2_config(), safetensors_bytes(tiny_gpt2_tensors("BF16")));
  auto r = import_safetensors(dir);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  const auto& wq = r.value().layers[0].wq;
  REQUIRE(wq.dtype == ordinal::format::DType::kF32);
  CHECK(f32_at(wq, 1 * kD + 2) == static_cast<float>(2 * 3 * kD + 1) / 256.0f);
}

TEST_CASE("safetensors: tiny Llama (GQA, untied head, split-half RoPE) imports and runs") {
  const uint64_t d = 8, H = 2, KV = 1, I = 12, V = 4, hd = d / H;
  std::vector<Entry> t;
  auto add = [&](const std::string& name, const std::string& dtype, std::vector<uint64_t> shape, float scale,
                 float offset = 0.0f) {
    uint64_t n = 1;
    for (uint64_t s : shape) n *= s;
    t.push_back({name, dtype, shape, ramp(n, scale, offset)});
  };
  add("model.embed_tokens.weight", "F16", {V, d}, 0.5f);
  add("model.layers.0.input_layernorm.weight", "F32", {d}, 0.0f, 1.0f);
  add("model.layers.0.self_attn.q_proj.weight", "F16", {H * hd, d}, 0.5f);
  add("model.layers.0.self_attn.k_proj.weight", "BF16", {KV * hd, d}, 0.5f);
  add("model.layers.0.self_attn.v_proj.weight", "F16", {KV * hd, d}, 0.5f);
  add("model.layers.0.self_attn.o_proj.weight", "F16", {d, H * hd}, 0.5f);
  add("model.layers.0.post_attention_layernorm.weight", "F32", {d}, 0.0f, 1.0f);
  add("model.layers.0.mlp.gate_proj.weight", "F16", {I, d}, 0.5f);
  add("model.layers.0.mlp.up_proj.weight", "F16", {I, d}, 0.25f);
  add("model.layers.0.mlp.down_proj.weight", "F16", {d, I}, 0.5f);
  add("model.norm.weight", "F32", {d}, 0.0f, 1.0f);
  add("lm_head.weight", "F16", {V, d}, 0.5f);
  const json config = {{"model_type", "llama"},
                       {"hidden_size", d},
                       {"intermediate_size", I},
                       {"num_hidden_layers", 1},
                       {"num_attention_heads", H},
                       {"num_key_value_heads", KV},
                       {"max_position_embeddings", 16},
                       {"rms_norm_eps", 1e-5},
                       {"rope_theta", 500.0},
                       {"vocab_size", V},
                       {"tie_word_embeddings", false},
                       {"hidden_act", "silu"},
                       {"ordinal_positional", {{"scheme", "rope"}, {"layout", "split_half"}}}};
  const std::string dir = write_dir("llama_ok", config, safetensors_bytes(t));
  auto r = import_safetensors(dir);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  const ordinal::modelio::ModelSpec& s = r.value();
  CHECK(s.config.architecture == ordinal::Architecture::kLlama);
  CHECK(s.config.n_kv_heads == KV);
  CHECK(s.config.hidden_dim == I);
  CHECK_FALSE(s.config.tied_classifier);
  CHECK(s.classifier.present());
  CHECK(s.layers[0].wk.dtype == ordinal::format::DType::kF32);  // BF16 widened
  CHECK(s.positional.scheme == ordinal::PositionalScheme::kRope);
  CHECK(s.positional.rope_layout == ordinal::detail::RopeLayoutKind::kSplitHalf);
  CHECK(s.positional.base == 500.0);
  CHECK(s.positional.rotary_dims == hd);
  const std::string out = ordinal::testing::temp_path("st_llama_ok.ordinal");
  REQUIRE(ordinal::modelio::write_model(s, out).ok());
  auto model = ordinal::Model::load(out);
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  auto session = ordinal::Session::create(model.value());
  REQUIRE(session.ok());
  CHECK(session.value()->decode(1).ok());

  SUBCASE("a tied config with an lm_head tensor is refused (unexpected tensor)") {
    json tied = config;
    tied["tie_word_embeddings"] = true;
    expect_error(write_dir("llama_tied_extra", tied, safetensors_bytes(t)), {"unexpected tensor", "lm_head.weight"});
  }
}

TEST_CASE("safetensors: ALiBi slopes and relative-bias tables come from config.json") {
  json config = tiny_gpt2_config();
  config["ordinal_positional"] = {{"scheme", "alibi"}, {"form", "causal"}};
  std::vector<Entry> t = tiny_gpt2_tensors();
  t.erase(std::remove_if(t.begin(), t.end(), [](const Entry& e) { return e.name == "transformer.wpe.weight"; }),
          t.end());
  auto r = import_safetensors(write_dir("gpt2_alibi", config, safetensors_bytes(t)));
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r.value().positional.scheme == ordinal::PositionalScheme::kAlibi);
  // Two heads: 2^-4 and 2^-8 exactly.
  CHECK(r.value().positional.slopes_q32 == std::vector<uint32_t>{1u << 28, 1u << 24});

  config["ordinal_positional"] = {{"scheme", "relative_bias"}, {"num_buckets", 8}, {"max_distance", 16},
                                  {"bidirectional", false}};
  std::vector<Entry> rb = t;
  rb.push_back({"transformer.relative_attention_bias.weight", "F16", {8, kH}, ramp(8 * kH, 0.5f)});
  r = import_safetensors(write_dir("gpt2_relbias", config, safetensors_bytes(rb)));
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r.value().positional.scheme == ordinal::PositionalScheme::kRelativeBias);
  CHECK(r.value().positional.num_buckets == 8);
  CHECK(r.value().positional.max_distance == 16);
  CHECK(r.value().positional.table.dtype == ordinal::format::DType::kF32);
  CHECK(r.value().positional.table.shape == std::vector<uint32_t>{8, kH});

  config["ordinal_positional"] = {{"scheme", "sinusoidal"}, {"base", 10000.0}};
  r = import_safetensors(write_dir("gpt2_sin", config, safetensors_bytes(t)));
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r.value().positional.scheme == ordinal::PositionalScheme::kSinusoidal);

  config["ordinal_positional"] = {{"scheme", "none"}};
  r = import_safetensors(write_dir("gpt2_nopos", config, safetensors_bytes(t)));
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r.value().positional.scheme == ordinal::PositionalScheme::kNone);
}

TEST_CASE("safetensors: broken inputs are refused with errors naming the problem") {
  const std::vector<Entry> good = tiny_gpt2_tensors();
  const std::string good_bytes = safetensors_bytes(good);

  SUBCASE("truncated data section") {
    expect_error(write_dir("trunc", tiny_gpt2_config(), good_bytes.substr(0, good_bytes.size() - 10)),
                 {"outside the data section", "truncated"});
  }
  SUBCASE("truncated inside the header") {
    expect_error(write_dir("trunc_header", tiny_gpt2_config(), good_bytes.substr(0, 40)),
                 {"header length", "exceeds the file"});
  }
  SUBCASE("file shorter than the length prefix") {
    expect_error(write_dir("tiny_file", tiny_gpt2_config(), good_bytes.substr(0, 5)), {"too small"});
  }
  SUBCASE("offsets pointing outside the file") {
    const std::string bytes = safetensors_bytes(good, [](json& h) {
      h["transformer.ln_f.bias"]["data_offsets"] = {1000000, 1000032};
    });
    expect_error(write_dir("offsets", tiny_gpt2_config(), bytes), {"transformer.ln_f.bias", "outside the data section"});
  }
  SUBCASE("reversed offsets") {
    const std::string bytes = safetensors_bytes(good, [](json& h) {
      auto& o = h["transformer.ln_f.bias"]["data_offsets"];
      o = {o[1], o[0]};
    });
    expect_error(write_dir("reversed", tiny_gpt2_config(), bytes), {"transformer.ln_f.bias", "reversed"});
  }
  SUBCASE("overlapping tensors") {
    const std::string bytes = safetensors_bytes(good, [](json& h) {
      h["transformer.ln_f.bias"]["data_offsets"] = h["transformer.ln_f.weight"]["data_offsets"];
    });
    expect_error(write_dir("overlap", tiny_gpt2_config(), bytes), {"overlap"});
  }
  SUBCASE("byte size disagrees with shape x dtype") {
    const std::string bytes = safetensors_bytes(good, [](json& h) { h["transformer.ln_f.bias"]["shape"] = {9}; });
    expect_error(write_dir("bytesize", tiny_gpt2_config(), bytes), {"transformer.ln_f.bias", "needs"});
  }
  SUBCASE("wrong shape for one tensor (consistent bytes)") {
    std::vector<Entry> t = good;
    for (Entry& e : t) {
      if (e.name == "transformer.h.0.attn.c_proj.weight") {
        e.shape = {kD / 2, 2 * kD};
      }
    }
    expect_error(write_dir("shape", tiny_gpt2_config(), safetensors_bytes(t)),
                 {"transformer.h.0.attn.c_proj.weight", "[4, 16]", "expected [8, 8]"});
  }
  SUBCASE("unsupported dtype") {
    std::vector<Entry> t = good;
    t.push_back({"transformer.extra_ids", "I64", {1}, {0.0f}});
    expect_error(write_dir("dtype", tiny_gpt2_config(), safetensors_bytes(t)), {"transformer.extra_ids", "I64"});
  }
  SUBCASE("missing tensor") {
    std::vector<Entry> t = good;
    t.erase(std::remove_if(t.begin(), t.end(), [](const Entry& e) { return e.name == "transformer.h.0.ln_2.bias"; }),
            t.end());
    expect_error(write_dir("missing_tensor", tiny_gpt2_config(), safetensors_bytes(t)),
                 {"missing tensor", "transformer.h.0.ln_2.bias"});
  }
  SUBCASE("unexpected extra tensor") {
    std::vector<Entry> t = good;
    t.push_back({"transformer.h.0.attn.masked_bias", "F32", {1}, {0.0f}});
    expect_error(write_dir("extra", tiny_gpt2_config(), safetensors_bytes(t)),
                 {"unexpected tensor", "transformer.h.0.attn.masked_bias"});
  }
  SUBCASE("learned table absent for a model that declares one") {
    json config = tiny_gpt2_config();
    std::vector<Entry> t = good;
    t.erase(std::remove_if(t.begin(), t.end(), [](const Entry& e) { return e.name == "transformer.wpe.weight"; }),
            t.end());
    expect_error(write_dir("no_wpe", config, safetensors_bytes(t)), {"transformer.wpe.weight"});
  }
  SUBCASE("missing config key") {
    json config = tiny_gpt2_config();
    config.erase("n_head");
    expect_error(write_dir("no_n_head", config, good_bytes), {"config.json", "missing key 'n_head'"});
  }
  SUBCASE("unknown positional scheme") {
    json config = tiny_gpt2_config();
    config["ordinal_positional"] = {{"scheme", "fourier"}};
    expect_error(write_dir("scheme", config, good_bytes), {"fourier", "unknown"});
  }
  SUBCASE("unknown positional key") {
    json config = tiny_gpt2_config();
    config["ordinal_positional"] = {{"scheme", "learned"}, {"base", 10000}};
    expect_error(write_dir("poskey", config, good_bytes), {"'base'", "learned"});
  }
  SUBCASE("unknown model type") {
    json config = tiny_gpt2_config();
    config["model_type"] = "bert";
    expect_error(write_dir("bert", config, good_bytes), {"model_type 'bert'"});
  }
  SUBCASE("tokenizer size disagrees with vocab_size") {
    json tok = tiny_tokenizer();
    tok["pieces"].push_back("b");
    tok["scores"].push_back(0.0);
    expect_error(write_dir("tok_size", tiny_gpt2_config(), good_bytes, tok), {"tokenizer.json", "vocab_size 4"});
  }
  SUBCASE("missing directory") {
    auto r = import_safetensors(ordinal::testing::temp_path("st_does_not_exist"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("config.json") != std::string::npos);
  }
  SUBCASE("header is not JSON") {
    std::string bytes = good_bytes;
    bytes[8] = '[';
    bytes[9] = '[';
    expect_error(write_dir("notjson", tiny_gpt2_config(), bytes), {"model.safetensors", "JSON"});
  }
}
