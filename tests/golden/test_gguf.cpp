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
#include <sstream>
#include <string>
#include <vector>

#include "importers/gguf.hpp"
#include "importers/llama2c.hpp"
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
  CHECK(slurp(log).find("gguf: F32 -> f32 (as stored): 48 tensors") != std::string::npos);
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
