// The GGUF reader and converters on hostile and synthetic input: every declared count, length, type,
// offset and extent checked (errors name the field), every truncation of a real file refused, random
// corruption never crashes; ggml dequantization bit-identical to llama.cpp's gguf-py on random blocks;
// Q8_0/Q4_0 takeovers into int8/int4 groups exactly equal to ggml's dequantization.
#include <dirent.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/exercise_model.hpp"
#include "importers/gguf.hpp"
#include "importers/gguf_file.hpp"
#include "importers/gguf_quant.hpp"
#include "introspect/model_introspection.hpp"
#include "modelio/model_spec.hpp"
#include "numerics/half.hpp"
#include "quant/rope_frequencies.hpp"
#include "support/gguf_builder.hpp"

namespace {

using ordinal::importers::GgufImport;
using ordinal::importers::import_gguf_file;
using ordinal::testing::GgufBuilder;
namespace gguf = ordinal::importers::gguf;

std::string data_dir() {
  return std::string(ORDINAL_SOURCE_DIR) + "/tests/data/gguf/";
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  return std::vector<uint8_t>(s.begin(), s.end());
}

// Parse + import; the error message (empty when it worked).
std::string import_error(const std::vector<uint8_t>& bytes) {
  auto f = gguf::parse(bytes.data(), bytes.size(), "test.gguf");
  if (!f.ok()) return f.status().message();
  auto r = import_gguf_file(f.value(), "test.gguf");
  if (!r.ok()) return r.status().message();
  return "";
}

std::vector<float> ramp(size_t n, float scale, float phase = 0.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i) + phase);
  return v;
}

// A tiny llama model (dim 32, 4 heads over 2 kv heads, 1 layer, 265 tokens with byte pieces).
struct TinyLlama {
  std::set<std::string> skip;               // keys or tensors left out
  std::function<void(GgufBuilder&)> extra;  // more keys / tensors
  uint32_t rope_dims = 8;
  uint32_t alignment = 32;

  std::vector<uint8_t> bytes() const {
    GgufBuilder b;
    auto key = [&](const std::string& k) { return skip.count(k) == 0; };
    if (key("general.architecture")) b.str("general.architecture", "llama");
    if (key("llama.embedding_length")) b.u32("llama.embedding_length", 32);
    if (key("llama.block_count")) b.u32("llama.block_count", 1);
    if (key("llama.attention.head_count")) b.u32("llama.attention.head_count", 4);
    b.u32("llama.attention.head_count_kv", 2);
    if (key("llama.feed_forward_length")) b.u32("llama.feed_forward_length", 64);
    if (key("llama.context_length")) b.u32("llama.context_length", 64);
    b.u32("llama.rope.dimension_count", rope_dims);
    b.f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    if (alignment != 32) b.u32("general.alignment", alignment);
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3};
    for (int i = 0; i < 256; ++i) {
      char p[8];
      std::snprintf(p, sizeof p, "<0x%02X>", i);
      tokens.push_back(p);
      types.push_back(6);
    }
    for (const char* p : {"\xE2\x96\x81"
                          "a",
                          "b",
                          "\xE2\x96\x81"
                          "ab",
                          "ba", "\xE2\x96\x81", "a"}) {
      tokens.push_back(p);
      types.push_back(1);
    }
    std::vector<float> scores(tokens.size(), 0.0f);
    for (size_t i = 259; i < tokens.size(); ++i) scores[i] = -static_cast<float>(i - 259);
    if (key("tokenizer.ggml.model")) b.str("tokenizer.ggml.model", "llama");
    if (key("tokenizer.ggml.tokens")) b.strings("tokenizer.ggml.tokens", tokens);
    b.f32s("tokenizer.ggml.scores", scores);
    b.i32s("tokenizer.ggml.token_type", types);
    b.u32("tokenizer.ggml.bos_token_id", 1);
    b.u32("tokenizer.ggml.eos_token_id", 2);
    if (extra) extra(b);
    const uint64_t V = tokens.size(), D = 32, KV = 16, I = 64;
    auto t = [&](const std::string& name, std::vector<uint64_t> ne, float scale) {
      if (!key(name)) return;
      uint64_t n = 1;
      for (uint64_t d : ne) n *= d;
      b.tensor_f32(name, ne, ramp(n, scale, static_cast<float>(name.size())));
    };
    t("token_embd.weight", {D, V}, 0.5f);
    t("output_norm.weight", {D}, 1.0f);
    t("output.weight", {D, V}, 0.3f);
    t("blk.0.attn_norm.weight", {D}, 1.0f);
    t("blk.0.attn_q.weight", {D, D}, 0.2f);
    t("blk.0.attn_k.weight", {D, KV}, 0.2f);
    t("blk.0.attn_v.weight", {D, KV}, 0.2f);
    t("blk.0.attn_output.weight", {D, D}, 0.2f);
    t("blk.0.ffn_norm.weight", {D}, 1.0f);
    t("blk.0.ffn_gate.weight", {D, I}, 0.2f);
    t("blk.0.ffn_up.weight", {D, I}, 0.2f);
    t("blk.0.ffn_down.weight", {I, D}, 0.2f);
    return b.bytes(alignment);
  }
};

void write_u32(std::vector<uint8_t>* b, size_t at, uint32_t v) {
  std::memcpy(b->data() + at, &v, 4);
}
void write_u64(std::vector<uint8_t>* b, size_t at, uint64_t v) {
  std::memcpy(b->data() + at, &v, 8);
}

}  // namespace

TEST_CASE("gguf tiny llama: imports, '▁' becomes ' ', byte fallback, GQA, separate output, notes") {
  TinyLlama m;
  const std::vector<uint8_t> bytes = m.bytes();
  auto f = gguf::parse(bytes.data(), bytes.size(), "tiny.gguf");
  REQUIRE_MESSAGE(f.ok(), f.status().to_string());
  auto r = import_gguf_file(f.value(), "tiny.gguf");
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  const auto& s = r.value().spec;
  CHECK(s.config.dim == 32);
  CHECK(s.config.n_kv_heads == 2);
  CHECK(s.config.head_dim == 8);
  CHECK_FALSE(s.config.tied_classifier);
  CHECK(s.classifier.present());
  CHECK(s.tokenizer.pieces[259] == " a");
  CHECK(s.tokenizer.pieces[263] == " ");
  CHECK(s.tokenizer.pieces[1] == "<s>");
  CHECK(s.tokenizer.byte_fallback_base == 3);
  REQUIRE(r.value().notes.size() == 1);
  CHECK(r.value().notes[0] == "F32 -> f32 (as stored): 12 tensors");
  // ggml ne [cols, rows] became [rows, cols]; the first row of attn_k is ne[0] = 32 values.
  CHECK(s.layers[0].wk.shape == std::vector<uint32_t>{16, 32});
  auto tok = ordinal::Tokenizer::create(s.tokenizer);
  REQUIRE(tok.ok());
  std::vector<int32_t> ids;
  REQUIRE(tok.value().encode("ab ba\xC3\xA9", true, false, &ids).ok());
  // BOS, " ab", " ", "ba", then é as two byte pieces.
  CHECK(ids == std::vector<int32_t>{1, 261, 263, 262, 3 + 0xC3, 3 + 0xA9});

  TinyLlama tied;
  tied.skip = {"output.weight"};
  auto rt = gguf::parse(tied.bytes().data(), 0, "x");  // an empty file is refused
  CHECK_FALSE(rt.ok());
  const auto tb = tied.bytes();
  auto ft = gguf::parse(tb.data(), tb.size(), "tied.gguf");
  REQUIRE(ft.ok());
  auto it = import_gguf_file(ft.value(), "tied.gguf");
  REQUIRE(it.ok());
  CHECK(it.value().spec.config.tied_classifier);
}

TEST_CASE("gguf metadata errors name the key") {
  auto expect = [](TinyLlama m, const std::string& needle) {
    const std::string err = import_error(m.bytes());
    CHECK_MESSAGE(err.find(needle) != std::string::npos, "expected '" << needle << "' in: " << err);
  };
  {
    TinyLlama m;
    m.skip = {"llama.block_count"};
    expect(m, "missing metadata key 'llama.block_count'");
  }
  {
    TinyLlama m;
    m.rope_dims = 5;
    expect(m, "llama.rope.dimension_count 5 must be even");
  }
  {
    TinyLlama m;
    m.skip = {"general.architecture"};
    m.extra = [](GgufBuilder& b) { b.str("general.architecture", "falcon"); };
    expect(m, "general.architecture 'falcon' is not supported");
  }
  {
    TinyLlama m;
    m.skip = {"llama.context_length"};
    m.extra = [](GgufBuilder& b) { b.str("llama.context_length", "64"); };
    expect(m, "'llama.context_length' has type string, expected an integer");
  }
  {
    TinyLlama m;
    m.skip = {"llama.attention.head_count"};
    m.extra = [](GgufBuilder& b) { b.u32("llama.attention.head_count", 5); };
    expect(m, "not a multiple of head_count");
  }
  {
    TinyLlama m;
    m.skip = {"tokenizer.ggml.model"};
    m.extra = [](GgufBuilder& b) { b.str("tokenizer.ggml.model", "bert"); };
    expect(m, "tokenizer.ggml.model 'bert' is not supported");
  }
  {
    TinyLlama m;
    m.extra = [](GgufBuilder& b) {
      b.str("llama.rope.scaling.type", "longrope");
      b.f32("llama.rope.scaling.factor", 4);
    };
    expect(m, "llama.rope.scaling.type 'longrope' is not supported");
  }
  {
    TinyLlama m;
    m.extra = [](GgufBuilder& b) {
      b.str("llama.rope.scaling.type", "yarn");
      b.f32("llama.rope.scaling.factor", 4);
    };
    expect(m, "missing metadata key 'llama.rope.scaling.original_context_length'");
  }
  {
    TinyLlama m;
    m.extra = [](GgufBuilder& b) { b.tensor_f32("blk.0.attn_q.bias", {32}, std::vector<float>(32, 0.0f)); };
    expect(m, "tensor 'blk.0.attn_q.bias' not used by this architecture");
  }
  {
    TinyLlama m;
    m.skip = {"blk.0.ffn_up.weight"};
    expect(m, "missing tensor 'blk.0.ffn_up.weight'");
  }
  {
    TinyLlama m;
    m.skip = {"blk.0.attn_k.weight"};
    m.extra = [](GgufBuilder& b) { b.tensor_f32("blk.0.attn_k.weight", {32, 32}, ramp(1024, 0.1f)); };
    expect(m, "tensor 'blk.0.attn_k.weight' has ne [32, 32], expected [32, 16]");
  }
  {
    TinyLlama m;
    m.skip = {"token_embd.weight"};
    m.extra = [](GgufBuilder& b) { b.tensor_f32("token_embd.weight", {32, 100}, ramp(3200, 0.1f)); };
    expect(m, "token_embd.weight has ne [32, 100], the vocabulary has 265 tokens");
  }
  {
    TinyLlama m;
    m.skip = {"blk.0.attn_norm.weight"};
    m.extra = [](GgufBuilder& b) {
      std::vector<float> v(32, 1.0f);
      v[7] = NAN;
      b.tensor_f32("blk.0.attn_norm.weight", {32}, v);
    };
    expect(m, "tensor 'blk.0.attn_norm.weight' element 7 is not finite");
  }
  {
    TinyLlama m;
    m.extra = [](GgufBuilder& b) { b.u32("tokenizer.ggml.bos_token_id", 9999); };  // a second key
    expect(m, "metadata key 'tokenizer.ggml.bos_token_id' appears twice");
  }
}

TEST_CASE("gguf container errors: counts, lengths, types, alignment, extents") {
  TinyLlama m;
  const std::vector<uint8_t> good = m.bytes();
  REQUIRE(import_error(good).empty());
  auto expect = [](std::vector<uint8_t> b, const std::string& needle) {
    const std::string err = import_error(b);
    CHECK_MESSAGE(err.find(needle) != std::string::npos, "expected '" << needle << "' in: " << err);
  };
  {
    auto b = good;
    b[0] = 'X';
    expect(b, "bad magic");
  }
  {
    auto b = good;
    write_u32(&b, 4, 1);
    expect(b, "GGUF version 1 is not supported");
  }
  {
    auto b = good;
    write_u64(&b, 8, uint64_t{1} << 40);
    expect(b, "tensor_count 1099511627776 exceeds the limit");
  }
  {
    auto b = good;
    write_u64(&b, 16, 1000);  // more keys than present: runs into the tensor infos and fails somewhere
    CHECK_FALSE(import_error(b).empty());
  }
  {
    auto b = good;
    write_u64(&b, 24, uint64_t{1} << 62);  // first key's length
    expect(b, "metadata key of 4611686018427387904 bytes");
  }
  {
    auto b = good;
    const size_t type_at = 24 + 8 + std::strlen("general.architecture");
    write_u32(&b, type_at, 13);
    expect(b, "key 'general.architecture': unknown value type 13");
  }
  {
    GgufBuilder g;
    g.strings("a", {"x"});
    auto b = g.bytes();
    // Turn the array's element type into "array".
    const size_t et_at = 24 + 8 + 1 + 4;
    write_u32(&b, et_at, 9);
    expect(b, "arrays of arrays are not supported");
    write_u32(&b, et_at, 8);
    write_u64(&b, et_at + 4, uint64_t{1} << 23);
    expect(b, "truncated: key 'a' declares 8388608 strings");
    write_u64(&b, et_at + 4, uint64_t{1} << 40);
    expect(b, "exceeds the limit");
  }
  {
    GgufBuilder g;
    g.boolean("flag", true);
    auto b = g.bytes();
    b[24 + 8 + 4 + 4] = 2;
    expect(b, "bool value 2 is not 0 or 1");
  }
  {
    TinyLlama bad;
    bad.alignment = 48;
    expect(bad.bytes(), "general.alignment 48 is not a power of two");
  }
  {
    GgufBuilder g;
    g.tensor_f32("t", {4}, {1, 2, 3, 4});
    auto b = g.bytes();
    // Tensor info: name (8 + 1), n_dims (4), ne (8), type (4), offset (8).
    const size_t info = 24;
    write_u32(&b, info + 9, 0);
    expect(b, "n_dims 0 is not in [1, 4]");
    write_u32(&b, info + 9, 1);
    write_u64(&b, info + 13, 0);
    expect(b, "dimension 0 = 0 is not in [1, 2^32)");
    write_u64(&b, info + 13, 4);
    write_u32(&b, info + 21, 11);
    expect(b, "tensor type Q3_K is not supported");
    write_u32(&b, info + 21, 8);
    expect(b, "row length 4 is not a multiple of Q8_0's block of 32");
    write_u32(&b, info + 21, 0);
    write_u64(&b, info + 25, 8);
    expect(b, "offset 8 is not a multiple of the alignment 32");
    write_u64(&b, info + 25, 64);
    expect(b, "lie outside the data section");
    write_u64(&b, info + 25, 0);
    write_u64(&b, info + 13, 1u << 20);
    expect(b, "lie outside the data section");
  }
  {
    GgufBuilder g;
    g.tensor_f32("a", {16}, std::vector<float>(16, 1.0f));
    g.tensor_f32("b", {8}, std::vector<float>(8, 1.0f));
    auto b = g.bytes();
    const size_t second_offset = 24 + (8 + 1 + 4 + 8 + 4 + 8) + (8 + 1 + 4 + 8 + 4);
    write_u64(&b, second_offset, 32);  // b at 32 while a covers [0, 64)
    expect(b, "tensors 'a' and 'b' overlap");
    b[24 + 8] = 'b';  // both named "b"
    expect(b, "tensor 'b' appears twice");
  }
}

TEST_CASE("gguf: every truncation of a real file is refused with an error, never a crash") {
  const std::vector<uint8_t> file = slurp(data_dir() + "task-learned.q8_0.gguf");
  REQUIRE(file.size() > 100000);
  REQUIRE(import_error(file).empty());
  auto full = gguf::parse(file.data(), file.size(), "x");
  REQUIRE(full.ok());
  const uint64_t header_end = full.value().data_start;
  size_t refused = 0, tried = 0;
  for (uint64_t n = 0; n < file.size(); n += n < header_end + 64 ? 1 : 379) {
    std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
    ++tried;
    const std::string err = import_error(cut);
    if (!err.empty()) ++refused;
    if (n < header_end && err.find("truncated") == std::string::npos) {
      CHECK_MESSAGE(err.find("truncated") != std::string::npos, "prefix " << n << ": " << err);
    }
  }
  CHECK(refused == tried);
}

TEST_CASE("gguf: random corruption of a real file yields a status, never a crash") {
  const std::vector<uint8_t> file = slurp(data_dir() + "task-learned.q4_0.gguf");
  auto full = gguf::parse(file.data(), file.size(), "x");
  REQUIRE(full.ok());
  const uint64_t header_end = full.value().data_start;
  std::mt19937_64 rng(1129);
  int ok = 0, failed = 0;
  for (int trial = 0; trial < 600; ++trial) {
    std::vector<uint8_t> b = file;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      // Mostly the header (where every field is checked), sometimes the data.
      const uint64_t at = rng() % 4 != 0 ? rng() % header_end : rng() % b.size();
      b[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    (import_error(b).empty() ? ok : failed)++;
  }
  CHECK(ok + failed == 600);
  CHECK(failed > 0);
}

TEST_CASE("gguf dequantization matches llama.cpp's gguf-py bit for bit") {
  const std::vector<uint8_t> raw = slurp(data_dir() + "dequant_vectors.json");
  REQUIRE(!raw.empty());
  const nlohmann::json j = nlohmann::json::parse(raw.begin(), raw.end());
  REQUIRE(j.size() == 9);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string hex = it.value()["blocks"].get<std::string>();
    std::vector<uint8_t> blocks(hex.size() / 2);
    for (size_t i = 0; i < blocks.size(); ++i)
      blocks[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    const uint64_t n = it.value()["elements"].get<uint64_t>();
    const uint32_t type = it.value()["type"].get<uint32_t>();
    std::vector<float> out(n);
    REQUIRE(gguf::dequantize(type, blocks.data(), n, out.data()));
    size_t mismatches = 0;
    const auto& want = it.value()["f32_bits"];
    REQUIRE(want.size() == n);
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &out[i], 4);
      if (bits != want[i].get<uint32_t>()) ++mismatches;
    }
    CHECK_MESSAGE(mismatches == 0, it.key() << ": " << mismatches << " of " << n << " values differ");
  }
}

TEST_CASE("gguf Q8_0 / Q4_0 takeovers into int8 / int4 groups equal ggml's dequantization exactly") {
  std::mt19937 rng(7);
  const uint64_t rows = 3, cols = 64, groups = rows * cols / 32;
  for (int trial = 0; trial < 20; ++trial) {
    const bool mixed_signs = trial % 2 == 1;
    // Q8_0 blocks: random codes (including -128 only with positive scales), scales of both signs.
    std::vector<uint8_t> q8(groups * 34), q4(groups * 18);
    for (uint64_t g = 0; g < groups; ++g) {
      const float d =
          std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 1000.0f, -static_cast<int>(rng() % 10));
      const bool negative = mixed_signs && g % 2 == 1;
      const uint16_t h = ordinal::numerics::float_to_half(negative ? -d : d);
      std::memcpy(&q8[g * 34], &h, 2);
      std::memcpy(&q4[g * 18], &h, 2);
      for (int j = 0; j < 32; ++j) {
        int8_t c = static_cast<int8_t>(rng() % 256);
        if (negative && c == -128) c = -127;
        q8[g * 34 + 2 + j] = static_cast<uint8_t>(c);
      }
      for (int j = 0; j < 16; ++j) q4[g * 18 + 2 + j] = static_cast<uint8_t>(rng() % 256);
    }
    std::vector<float> want8(rows * cols), want4(rows * cols);
    REQUIRE(gguf::dequantize(static_cast<uint32_t>(gguf::TensorType::kQ8_0), q8.data(), rows * cols,
                             want8.data()));
    REQUIRE(gguf::dequantize(static_cast<uint32_t>(gguf::TensorType::kQ4_0), q4.data(), rows * cols,
                             want4.data()));

    ordinal::modelio::HostTensor t8;
    t8.shape = {static_cast<uint32_t>(rows), static_cast<uint32_t>(cols)};
    t8.dtype = ordinal::format::DType::kI8;
    t8.granularity = ordinal::format::QuantGranularity::kPerGroup;
    t8.group_size = 32;
    t8.scale_dtype = ordinal::format::DType::kF16;
    ordinal::modelio::HostTensor t4 = t8;
    t4.dtype = ordinal::format::DType::kI4;
    REQUIRE(gguf::repack_q8_0(q8.data(), rows, cols, &t8.data, &t8.scales) == gguf::Repack::kDone);
    REQUIRE(gguf::repack_q4_0(q4.data(), rows, cols, &t4.data, &t4.scales, &t4.zero_points) ==
            gguf::Repack::kDone);
    CHECK(t4.zero_points.empty() == !mixed_signs);
    CHECK(t8.to_f32() == want8);
    CHECK(t4.to_f32() == want4);
    for (size_t i = 0; i < t8.scales.size(); i += 2) CHECK((t8.scales[i + 1] & 0x80) == 0);  // |d|
  }
  // A negative Q8_0 scale over code -128 has no int8 form: reported, so the importer dequantizes.
  std::vector<uint8_t> block(34, 0);
  const uint16_t h = ordinal::numerics::float_to_half(-0.5f);
  std::memcpy(block.data(), &h, 2);
  block[5] = 0x80;
  std::vector<uint8_t> codes, scales;
  CHECK(gguf::repack_q8_0(block.data(), 1, 32, &codes, &scales) == gguf::Repack::kNotRepresentable);
  const uint16_t inf = 0x7C00;
  std::memcpy(block.data(), &inf, 2);
  CHECK(gguf::repack_q8_0(block.data(), 1, 32, &codes, &scales) == gguf::Repack::kNonFinite);
}

namespace {

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') out.push_back(dir + "/" + e->d_name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Import, serialise, load and run, as the fuzzer does; false when an import that worked did not load/run.
bool import_and_run(const std::vector<uint8_t>& bytes, std::string* notes) {
  auto f = gguf::parse(bytes.data(), bytes.size(), "replay.gguf");
  if (!f.ok()) return true;
  auto r = import_gguf_file(f.value(), "replay.gguf");
  if (!r.ok()) return true;
  for (const std::string& n : r.value().notes) *notes += n + "\n";
  auto image = ordinal::modelio::serialize_model(r.value().spec);
  if (!image.ok()) return false;
  void* buf = std::aligned_alloc(64, (image.value().size() + 64) / 64 * 64);
  std::memcpy(buf, image.value().data(), image.value().size());
  auto model = ordinal::Model::load_from_buffer(buf, image.value().size());
  const bool ran = model.ok() && ordinal::fuzz::exercise_model(model.value());
  std::free(buf);
  return ran;
}

}  // namespace

TEST_CASE("gguf fuzz seeds (gguf-py: F32, BF16, F16, Q8_0, Q4_0, Q4_1) import, load and run") {
  const std::vector<std::string> seeds = files_in(std::string(ORDINAL_SOURCE_DIR) + "/tests/fuzz/seeds/gguf");
  REQUIRE(seeds.size() == 7);
  for (const std::string& path : seeds) {
    std::string notes;
    CHECK_MESSAGE(import_error(slurp(path)).empty(), path);
    CHECK_MESSAGE(import_and_run(slurp(path), &notes), path);
    if (path.find("q4_1") != std::string::npos) {
      CHECK(notes.find("Q4_1 -> f32 (dequantized with ggml's arithmetic): 8 tensors") != std::string::npos);
    }
    if (path.find("bf16") != std::string::npos)
      CHECK(notes.find("BF16 -> f32 (exact): 8 tensors") != std::string::npos);
  }
}

TEST_CASE("gguf fuzz regressions replay without a crash") {
  for (const std::string& path :
       files_in(std::string(ORDINAL_SOURCE_DIR) + "/tests/fuzz/regressions-tools/gguf")) {
    std::string notes;
    CHECK_MESSAGE(import_and_run(slurp(path), &notes), path);
  }
}

TEST_CASE("gguf rope scaling: linear and yarn map onto the Rope block with host-computed frequencies") {
  {
    TinyLlama m;
    m.extra = [](GgufBuilder& b) {
      b.f32("llama.rope.freq_base", 500000.0f);
      b.str("llama.rope.scaling.type", "linear");
      b.f32("llama.rope.scaling.factor", 4.0f);
    };
    const auto bytes = m.bytes();
    auto f = gguf::parse(bytes.data(), bytes.size(), "linear.gguf");
    REQUIRE(f.ok());
    auto r = import_gguf_file(f.value(), "linear.gguf");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    const auto& p = r.value().spec.positional;
    CHECK(p.base == 500000.0);
    CHECK(p.scaling == ordinal::detail::RopeScalingKind::kLinear);
    CHECK(p.scaling_factor == 4.0f);
    ordinal::detail::PositionalSettings settings;  // the one RoPE parameter type
    settings.rotary_dims = 8;
    settings.base = 500000.0;
    settings.scaling = ordinal::detail::RopeScalingKind::kLinear;
    settings.scaling_factor = 4.0f;
    auto want = ordinal::quant::rope_frequencies(settings);
    REQUIRE(want.ok());
    CHECK(p.frequencies == want.value().turns);
    std::string notes;
    CHECK(import_and_run(bytes, &notes));
  }
  {
    TinyLlama m;
    m.extra = [](GgufBuilder& b) {
      b.str("llama.rope.scaling.type", "yarn");
      b.f32("llama.rope.scaling.factor", 8.0f);
      b.u32("llama.rope.scaling.original_context_length", 16);
    };
    const auto bytes = m.bytes();
    auto f = gguf::parse(bytes.data(), bytes.size(), "yarn.gguf");
    REQUIRE(f.ok());
    auto r = import_gguf_file(f.value(), "yarn.gguf");
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    const auto& p = r.value().spec.positional;
    CHECK(p.scaling == ordinal::detail::RopeScalingKind::kYaRN);
    CHECK(p.original_context == 16);
    CHECK(p.attention_factor == doctest::Approx(0.1 * std::log(8.0) + 1.0));
    CHECK(p.frequencies.size() == 4);
    CHECK(p.beta_fast == 32.0f);
    std::string notes;
    CHECK(import_and_run(bytes, &notes));
    CHECK(notes.find("rope scaling yarn") != std::string::npos);
  }
  {
    TinyLlama m;  // a YaRN variant with another attention temperature is refused by name
    m.extra = [](GgufBuilder& b) {
      b.str("llama.rope.scaling.type", "yarn");
      b.f32("llama.rope.scaling.factor", 8.0f);
      b.u32("llama.rope.scaling.original_context_length", 16);
      b.f32("llama.rope.scaling.yarn_log_multiplier", 0.1f);
    };
    CHECK(import_error(m.bytes()).find("llama.rope.scaling.yarn_log_multiplier is not supported") !=
          std::string::npos);
  }
  {
    TinyLlama m;  // older files: rope.scale_linear
    m.extra = [](GgufBuilder& b) { b.f32("llama.rope.scale_linear", 2.0f); };
    const auto bytes = m.bytes();
    auto f = gguf::parse(bytes.data(), bytes.size(), "old.gguf");
    REQUIRE(f.ok());
    auto r = import_gguf_file(f.value(), "old.gguf");
    REQUIRE(r.ok());
    CHECK(r.value().spec.positional.scaling == ordinal::detail::RopeScalingKind::kLinear);
    CHECK(r.value().spec.positional.scaling_factor == 2.0f);
  }
}

// rope.dimension_count below head_dim: ggml's NORM rope turns the adjacent pairs of the first
// dimension_count dims by p * base^(-2j / dimension_count) and leaves the others alone. The import goes
// through the Rope module (rotary_dims); the loaded model's own rotation is checked against that
// definition evaluated in double, and a session runs on it.
TEST_CASE("gguf partial rotary: dimension_count < head_dim imports as rotary_dims and rotates as ggml does") {
  TinyLlama m;
  m.rope_dims = 4;  // head_dim 8
  m.extra = [](GgufBuilder& b) { b.f32("llama.rope.freq_base", 10000.0f); };
  const auto bytes = m.bytes();
  auto f = gguf::parse(bytes.data(), bytes.size(), "partial.gguf");
  REQUIRE(f.ok());
  auto r = import_gguf_file(f.value(), "partial.gguf");
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r.value().spec.positional.rotary_dims == 4);
  CHECK(r.value().spec.config.head_dim == 8);
  auto image = ordinal::modelio::serialize_model(r.value().spec);
  REQUIRE(image.ok());
  auto model = ordinal::Model::load_copy(image.value().data(), image.value().size());
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  CHECK(ordinal::introspect::positional(*model.value()).rotary_dims == 4);
  auto enc = ordinal::introspect::positional_encoder(*model.value());
  REQUIRE(enc.ok());
  REQUIRE(enc->rotates());
  const int head_dim = 8, rot = 4;
  double worst = 0.0;
  int rotated_changed = 0;
  for (int64_t pos : {0, 1, 7, 63}) {
    std::vector<float> x(head_dim);
    for (int i = 0; i < head_dim; ++i) x[i] = 0.25f * static_cast<float>(i + 1) - 0.9f;
    std::vector<float> y = x;
    enc->rotate(pos, y.data(), 1);
    for (int j = 0; j < rot / 2; ++j) {
      const double theta = static_cast<double>(pos) * std::pow(10000.0, -2.0 * j / rot);
      const double a = x[2 * j], b = x[2 * j + 1];
      worst = std::max(worst, std::fabs(y[2 * j] - (a * std::cos(theta) - b * std::sin(theta))));
      worst = std::max(worst, std::fabs(y[2 * j + 1] - (a * std::sin(theta) + b * std::cos(theta))));
      if (pos > 0 && y[2 * j] != x[2 * j]) ++rotated_changed;
    }
    for (int i = rot; i < head_dim; ++i) CHECK(y[i] == x[i]);  // pass-through dims: same bits
  }
  CHECK(worst < 5e-5);  // f32 angles: cosf/sinf of a float phase up to 63 rad (~1e-5 of rounding)
  CHECK(rotated_changed > 0);
  auto s = ordinal::Session::create(model.value());
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  const std::vector<int32_t> prompt = {1, 259, 260, 261};
  REQUIRE(s.value()->prefill(prompt.data(), prompt.size()).ok());
  CHECK(std::isfinite(s.value()->logits()[0]));
}
