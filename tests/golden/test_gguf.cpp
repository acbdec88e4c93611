// `ordinal import gguf` on real files: the third-party stories260K.gguf (ORDINAL_SHARED) must run exactly
// like llama2.c and like our llama2.c import of the same checkpoint (identical logits, bit for bit), and
// the small GGUFs in tests/data/gguf (written by llama.cpp's gguf-py from zoo models, models/gguf/) must
// import and pass stated `verify` gates against their f32 import.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "importers/gguf.hpp"
#include "importers/llama2c.hpp"
#include "importers/safetensors.hpp"
#include "support/session_helpers.hpp"

namespace {

using ordinal::testing::load_spec;
using ordinal::testing::session_for;

std::string shared_dir() {
  const char* s = std::getenv("ORDINAL_SHARED");
  return s ? s : "";
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string cli() {
  return ORDINAL_CLI_PATH;
}

}  // namespace

TEST_CASE("gguf stories260K: import, then ordinal run -t 0 -n 256 prints llama2.c's greedy story") {
  const std::string shared = shared_dir();
  if (shared.empty()) {
    MESSAGE("ORDINAL_SHARED is not set: skipping the stories260K.gguf golden test");
    return;
  }
  const std::string gguf = shared + "/models/stories260K.gguf";
  const std::string golden = shared + "/models/stories260K.greedy256.txt";
  REQUIRE_MESSAGE(exists(gguf), "missing " << gguf);
  REQUIRE_MESSAGE(exists(golden), "missing " << golden);
  const std::string model = ordinal::testing::temp_path("stories260K_gguf.ordinal");
  const std::string log = ordinal::testing::temp_path("stories260K_gguf.import.txt");
  const std::string text = ordinal::testing::temp_path("stories260K_gguf.greedy.txt");
  REQUIRE(run("'" + cli() + "' import gguf '" + gguf + "' -o '" + model + "' > '" + log + "'") == 0);
  CHECK(slurp(log).find("gguf: F32 -> f32 (as stored): 47 tensors") != std::string::npos);
  // The converter wrote the tied head out as a copy; the import shares the embedding again.
  CHECK(slurp(log).find(
            "gguf: output.weight is a copy of token_embd.weight: classifier tied to the embedding") !=
        std::string::npos);
  REQUIRE(run("'" + cli() + "' run '" + model + "' -t 0 -n 256 > '" + text + "' 2>/dev/null") == 0);
  const std::string got = slurp(text), want = slurp(golden);
  CHECK(got.size() == want.size());
  CHECK_MESSAGE(got == want, "first difference at byte "
                                 << std::mismatch(got.begin(), got.end(), want.begin()).first - got.begin());
}

TEST_CASE("gguf stories260K: identical logits and tokens to the llama2.c import of the same checkpoint") {
  const std::string shared = shared_dir();
  if (shared.empty()) return;
  auto from_gguf = ordinal::importers::import_gguf(shared + "/models/stories260K.gguf");
  REQUIRE_MESSAGE(from_gguf.ok(), from_gguf.status().to_string());
  auto from_l2c =
      ordinal::importers::import_llama2c(shared + "/models/stories260K.bin", shared + "/models/tok512.bin");
  REQUIRE_MESSAGE(from_l2c.ok(), from_l2c.status().to_string());
  const ordinal::modelio::ModelSpec& g = from_gguf.value().spec;
  const ordinal::modelio::ModelSpec& l = from_l2c.value();
  CHECK(g.config.n_kv_heads == 4);
  CHECK(g.config.tied_classifier);
  CHECK_FALSE(g.classifier.present());
  CHECK(g.config.n_heads == 8);
  CHECK(g.positional.rope_layout == ordinal::detail::RopeLayoutKind::kInterleaved);
  CHECK(g.positional.rotary_dims == 8);
  CHECK(g.tokenizer.byte_fallback_base == 3);
  CHECK(g.tokenizer.bos_id == 1);
  CHECK(g.tokenizer.eos_id == 2);
  // Same merge scores; pieces equal except BOS/EOS, which tok512.bin spells "\n<s>\n" / "\n</s>\n".
  REQUIRE(g.tokenizer.pieces.size() == l.tokenizer.pieces.size());
  CHECK(g.tokenizer.scores == l.tokenizer.scores);
  for (size_t i = 3; i < g.tokenizer.pieces.size(); ++i)
    CHECK(g.tokenizer.pieces[i] == l.tokenizer.pieces[i]);

  auto mg = load_spec(g, "s260k_from_gguf.ordinal");
  auto ml = load_spec(l, "s260k_from_l2c.ordinal");
  std::vector<int32_t> tg, tl;
  const char* prompt = "Once upon a time, Lily saw a big red ball. \xC3\xA9\xE2\x82\xAC";
  REQUIRE(mg->tokenizer().encode(prompt, true, false, &tg).ok());
  REQUIRE(ml->tokenizer().encode(prompt, true, false, &tl).ok());
  CHECK(tg == tl);
  auto sg = session_for(mg), sl = session_for(ml);
  // Prefill, then decode greedily for 200 positions: every logit identical, bit for bit.
  REQUIRE(sg->prefill(tg.data(), tg.size()).ok());
  REQUIRE(sl->prefill(tl.data(), tl.size()).ok());
  size_t differing = 0;
  for (int step = 0; step < 200; ++step) {
    const std::vector<float> a = ordinal::testing::logits_of(*sg), b = ordinal::testing::logits_of(*sl);
    REQUIRE(a.size() == b.size());
    if (std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0) ++differing;
    const int32_t next = static_cast<int32_t>(std::max_element(a.begin(), a.end()) - a.begin());
    REQUIRE(sg->decode(next).ok());
    REQUIRE(sl->decode(next).ok());
  }
  CHECK(differing == 0);
}

TEST_CASE("gguf stories260K: ordinal verify against the llama2.c import passes zero-difference gates") {
  const std::string shared = shared_dir();
  if (shared.empty()) return;
  const std::string a = ordinal::testing::temp_path("s260k_verify_l2c.ordinal");
  const std::string b = ordinal::testing::temp_path("s260k_verify_gguf.ordinal");
  REQUIRE(run("'" + cli() + "' import llama2c '" + shared + "/models/stories260K.bin' '" + shared +
              "/models/tok512.bin' -o '" + a + "' > /dev/null") == 0);
  REQUIRE(run("'" + cli() + "' import gguf '" + shared + "/models/stories260K.gguf' -o '" + b +
              "' > /dev/null") == 0);
  CHECK(run("'" + cli() + "' verify '" + a + "' '" + b +
            "' --samples 2 --order-positions 64 --swap-pairs 4 --min-top1 1 --max-kl 0 --max-ppl-delta 0 "
            "> /dev/null") == 0);
}

namespace {

std::string data_file(const std::string& name) {
  return std::string(ORDINAL_SOURCE_DIR) + "/tests/data/gguf/" + name;
}

std::string zoo_dir(const std::string& name) {
  return std::string(ORDINAL_SOURCE_DIR) + "/models/zoo/" + name;
}

// Imports with the CLI into test_tmp; returns the output path.
std::string import_cli(const std::string& format, const std::string& input, const std::string& out_name,
                       std::string* printed = nullptr) {
  const std::string out = ordinal::testing::temp_path(out_name);
  const std::string log = out + ".log";
  REQUIRE(run("'" + cli() + "' import " + format + " '" + input + "' -o '" + out + "' > '" + log + "'") == 0);
  if (printed) *printed = slurp(log);
  return out;
}

}  // namespace

TEST_CASE("gguf gpt2 (task-learned F16, gguf-py): logits identical to the safetensors import") {
  auto g = ordinal::importers::import_gguf(data_file("task-learned.f16.gguf"));
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  auto s = ordinal::importers::import_safetensors(zoo_dir("task-learned"));
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  CHECK(g.value().spec.config.architecture == ordinal::Architecture::kGPT2);
  CHECK(g.value().spec.positional.scheme == ordinal::PositionalScheme::kLearnedTable);
  CHECK(nlohmann::json::parse(g.value().spec.task_spec) == nlohmann::json::parse(s.value().task_spec));
  CHECK(g.value().spec.tokenizer.pieces == s.value().tokenizer.pieces);
  auto mg = load_spec(g.value().spec, "task_learned_gguf_f16.ordinal");
  auto ms = load_spec(s.value(), "task_learned_st.ordinal");
  const std::vector<int32_t> prompt = {1, 3, 9, 10, 11, 25, 26, 8, 11, 10, 9};
  for (size_t n = 1; n <= prompt.size(); ++n) {
    const std::vector<int32_t> p(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(n));
    const std::vector<float> a = ordinal::testing::logits_after(mg, p),
                             b = ordinal::testing::logits_after(ms, p);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  }
}

TEST_CASE(
    "gguf llama (task-rope F16, gguf-py): Q/K rows in llama.cpp's pair order give the split-half logits") {
  auto g = ordinal::importers::import_gguf(data_file("task-rope.f16.gguf"));
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  auto s = ordinal::importers::import_safetensors(zoo_dir("task-rope"));
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  CHECK(g.value().spec.positional.rope_layout == ordinal::detail::RopeLayoutKind::kInterleaved);
  CHECK(s.value().positional.rope_layout == ordinal::detail::RopeLayoutKind::kSplitHalf);
  CHECK(g.value().spec.config.n_kv_heads == 2);
  CHECK(g.value().spec.config.tied_classifier);
  auto mg = load_spec(g.value().spec, "task_rope_gguf_f16.ordinal");
  auto ms = load_spec(s.value(), "task_rope_st.ordinal");
  const std::vector<int32_t> prompt = {1, 4, 12, 13, 14, 27, 28, 29, 8, 29, 28, 27, 14};
  float worst = 0.0f;
  for (size_t n = 1; n <= prompt.size(); ++n) {
    const std::vector<int32_t> p(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(n));
    worst = std::max(worst, ordinal::testing::max_abs_diff(ordinal::testing::logits_after(mg, p),
                                                           ordinal::testing::logits_after(ms, p)));
  }
  // Same weights, dot products summed in another order: float rounding only.
  CHECK(worst < 1e-4f);
}

TEST_CASE("gguf gpt2 Q8_0 / Q4_0 (task-learned, gguf-py) pass verify gates against the f32 import") {
  const std::string ref = import_cli("safetensors", zoo_dir("task-learned"), "task_learned_ref.ordinal");
  const std::string common =
      " --samples 2 --task-cases 100 --task-extrap-cases 2 --order-positions 64 --swap-pairs 4";
  std::string printed;
  const std::string f16 = import_cli("gguf", data_file("task-learned.f16.gguf"), "tl_f16.ordinal", &printed);
  CHECK(printed.find("gguf: F16 -> f16 (as stored): 14 tensors") != std::string::npos);
  CHECK(run("'" + cli() + "' verify '" + ref + "' '" + f16 + "'" + common +
            " --min-top1 1 --max-kl 0 --max-ppl-delta 0 --min-task-accuracy 1 > /dev/null") == 0);
  const std::string q8 = import_cli("gguf", data_file("task-learned.q8_0.gguf"), "tl_q8.ordinal", &printed);
  CHECK(printed.find("gguf: Q8_0 -> int8 groups of 32, f16 scales (lossless): 14 tensors") !=
        std::string::npos);
  CHECK(run("'" + cli() + "' verify '" + ref + "' '" + q8 + "'" + common +
            " --min-top1 0.995 --max-kl 0.001 --max-ppl-delta 0.005 --min-task-accuracy 0.99 > /dev/null") ==
        0);
  const std::string q4 = import_cli("gguf", data_file("task-learned.q4_0.gguf"), "tl_q4.ordinal", &printed);
  CHECK(printed.find(
            "gguf: Q4_0 -> int4 groups of 32, f16 scales, zero points 8/7 for the sign of d (lossless): "
            "14 tensors") != std::string::npos);
  CHECK(run("'" + cli() + "' verify '" + ref + "' '" + q4 + "'" + common +
            " --min-top1 0.99 --max-kl 0.02 --max-ppl-delta 0.03 --min-task-accuracy 0.97 > /dev/null") == 0);
  // The gates can fail: Q4_0 misses the Q8_0 bound on KL.
  CHECK(run("'" + cli() + "' verify '" + ref + "' '" + q4 + "'" + common +
            " --max-kl 0.001 > /dev/null 2>&1") == 1);
}

TEST_CASE("gguf llama Q8_0 / Q4_0 (stories260K, gguf-py) pass verify gates against the f32 GGUF import") {
  const std::string shared = shared_dir();
  if (shared.empty()) return;
  const std::string ref = import_cli("gguf", shared + "/models/stories260K.gguf", "s260k_f32_ref.ordinal");
  const std::string common = " --samples 2 --max-positions 512 --order-positions 128 --swap-pairs 8";
  std::string printed;
  const std::string q8 = import_cli("gguf", data_file("stories260K.q8_0.gguf"), "s260k_q8.ordinal", &printed);
  // ffn_down rows (172) are not a multiple of 32: the writer kept them F16.
  CHECK(printed.find("gguf: Q8_0 -> int8 groups of 32, f16 scales (lossless): 31 tensors") !=
        std::string::npos);
  CHECK(printed.find("gguf: F16 -> f16 (as stored): 5 tensors") != std::string::npos);
  CHECK(run("'" + cli() + "' verify '" + ref + "' '" + q8 + "'" + common +
            " --min-top1 0.97 --max-kl 0.002 --max-ppl-delta 0.005 --min-gap-ratio 0.98 > /dev/null") == 0);
  // 4 bits on a 64-wide model is costly; the gate states that cost.
  const std::string q4 = import_cli("gguf", data_file("stories260K.q4_0.gguf"), "s260k_q4.ordinal", &printed);
  CHECK(printed.find("gguf: Q4_0 -> int4 groups of 32") != std::string::npos);
  CHECK(run("'" + cli() + "' verify '" + ref + "' '" + q4 + "'" + common +
            " --min-top1 0.75 --max-kl 0.2 --max-ppl-delta 0.25 --min-gap-ratio 0.75 > /dev/null") == 0);
}

TEST_CASE("gguf Q8_0 / Q4_0 matrices arrive as int8 / int4 groups of 32 whose values are ggml's exactly") {
  for (const char* name : {"task-learned.q8_0.gguf", "task-learned.q4_0.gguf"}) {
    auto g = ordinal::importers::import_gguf(data_file(name));
    REQUIRE_MESSAGE(g.ok(), g.status().to_string());
    const bool int8 = std::string(name).find("q8_0") != std::string::npos;
    const ordinal::modelio::HostTensor& w1 = g.value().spec.layers[1].w1;
    CHECK(w1.dtype == (int8 ? ordinal::format::DType::kI8 : ordinal::format::DType::kI4));
    CHECK(w1.granularity == ordinal::format::QuantGranularity::kPerGroup);
    CHECK(w1.group_size == 32);
    CHECK(w1.scale_dtype == ordinal::format::DType::kF16);
    CHECK(g.value().spec.positional.table.dtype == w1.dtype);
    CHECK(g.value().spec.token_embedding.dtype == w1.dtype);
    auto loaded = load_spec(g.value().spec, std::string(name) + ".ordinal");
    CHECK(loaded->config().dim == 64);
  }
}
