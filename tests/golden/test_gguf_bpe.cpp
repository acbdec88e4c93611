// GPT-2 byte-level BPE (Tokenizer::Kind::kGpt2ByteBpe) from a GGUF file's metadata, against an
// independent implementation: tests/data/gguf/gpt2_bpe_cases.json holds ids that OpenAI's reference bpe()
// with GPT-2's pattern (Python `regex`) produced for the vocabulary and merges in tiny-gpt2-bpe.gguf
// (both written by models/gguf/make_test_ggufs.py). Also: the tokenizer survives the model file round trip,
// any byte string decodes back to itself, and broken merge tables are refused.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "importers/gguf.hpp"
#include "support/session_helpers.hpp"

namespace {

std::string data_file(const std::string& name) {
  return std::string(ORDINAL_SOURCE_DIR) + "/tests/data/gguf/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ordinal::Tokenizer::Spec imported_spec() {
  auto r = ordinal::importers::import_gguf(data_file("tiny-gpt2-bpe.gguf"));
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return r.value().spec.tokenizer;
}

std::string decode_all(const ordinal::Tokenizer& t, const std::vector<int32_t>& ids) {
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    out += std::string(t.decode(prev, id));
    prev = id;
  }
  return out;
}

}  // namespace

TEST_CASE("gpt2 byte-level BPE from GGUF metadata matches the reference ids on every case") {
  const ordinal::Tokenizer::Spec spec = imported_spec();
  CHECK(spec.kind == ordinal::Tokenizer::Kind::kGpt2ByteBpe);
  const nlohmann::json cases = nlohmann::json::parse(slurp(data_file("gpt2_bpe_cases.json")));
  CHECK(spec.pieces.size() == cases["vocab_size"].get<size_t>());
  CHECK(spec.merges.size() == cases["merges"].get<size_t>());
  CHECK(spec.bos_id == 656);
  CHECK(spec.pieces[656] == "<|endoftext|>");
  CHECK(spec.pieces[32] == " ");  // the byte alphabet's U+0120 'Ġ' is the space byte again
  auto tok = ordinal::Tokenizer::create(spec);
  REQUIRE_MESSAGE(tok.ok(), tok.status().to_string());
  REQUIRE(cases["cases"].size() == 16);
  for (const auto& c : cases["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
    std::vector<int32_t> got;
    REQUIRE(tok.value().encode(text, false, false, &got).ok());
    CHECK_MESSAGE(got == want, "text: " << text);
    CHECK(decode_all(tok.value(), got) == text);
  }
  // BOS/EOS come from the metadata.
  std::vector<int32_t> with_bos;
  REQUIRE(tok.value().encode("hi", true, true, &with_bos).ok());
  CHECK(with_bos.front() == 656);
  CHECK(with_bos.back() == 656);
}

TEST_CASE("gpt2 byte-level BPE survives the model file: the loaded model encodes the same ids") {
  auto r = ordinal::importers::import_gguf(data_file("tiny-gpt2-bpe.gguf"));
  REQUIRE(r.ok());
  auto model = ordinal::testing::load_spec(r.value().spec, "tiny_gpt2_bpe.ordinal");
  auto direct = ordinal::Tokenizer::create(r.value().spec.tokenizer);
  REQUIRE(direct.ok());
  const nlohmann::json cases = nlohmann::json::parse(slurp(data_file("gpt2_bpe_cases.json")));
  for (const auto& c : cases["cases"]) {
    std::vector<int32_t> a, b;
    REQUIRE(model->tokenizer().encode(c["text"].get<std::string>(), false, false, &a).ok());
    REQUIRE(direct.value().encode(c["text"].get<std::string>(), false, false, &b).ok());
    CHECK(a == b);
  }
  // And the CLI runs it: the prompt comes back first.
  const std::string path = ordinal::testing::temp_path("tiny_gpt2_bpe_cli.ordinal");
  const std::string out = ordinal::testing::temp_path("tiny_gpt2_bpe_cli.txt");
  const std::string cli = ORDINAL_CLI_PATH;
  REQUIRE(std::system(("'" + cli + "' import gguf '" + data_file("tiny-gpt2-bpe.gguf") + "' -o '" + path +
                       "' > /dev/null")
                          .c_str()) == 0);
  REQUIRE(std::system(("'" + cli + "' run '" + path + "' -t 0 -n 16 -p 'Once upon a time' > '" + out +
                       "' 2>/dev/null")
                          .c_str()) == 0);
  CHECK(slurp(out).rfind("Once upon a time", 0) == 0);
}

TEST_CASE("gpt2 byte-level BPE: any bytes (invalid UTF-8 included) decode back to themselves") {
  auto tok = ordinal::Tokenizer::create(imported_spec());
  REQUIRE(tok.ok());
  std::mt19937 rng(2026);
  const std::string alphabet[] = {"a",
                                  "b",
                                  " ",
                                  "  ",
                                  "'",
                                  "'s",
                                  "1",
                                  "\xC3\xA9",
                                  "\xE6\x97\xA5",
                                  "\xF0\x9F\x99\x82",
                                  "\n",
                                  "\xFF",
                                  "\xC3",
                                  "\x80",
                                  "\xED\xA0\x80",
                                  "\xF4\x90\x80\x80",
                                  "!",
                                  "the",
                                  " the"};
  for (int trial = 0; trial < 400; ++trial) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) {
      if (rng() % 3 == 0) {
        text += static_cast<char>(rng() % 256);
      } else {
        text += alphabet[rng() % (sizeof alphabet / sizeof alphabet[0])];
      }
    }
    std::vector<int32_t> ids;
    REQUIRE(tok.value().encode(text, false, false, &ids).ok());
    CHECK(decode_all(tok.value(), ids) == text);
  }
  // One 300,000-letter chunk: the heap keeps it O(n log n).
  std::string long_word(300000, 'e');
  for (size_t i = 0; i < long_word.size(); i += 3) long_word[i] = 't';
  std::vector<int32_t> ids;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(tok.value().encode(long_word, false, false, &ids).ok());
  MESSAGE(
      "300,000-byte chunk: " << ids.size() << " tokens in "
                             << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                             << " s");
  CHECK(ids.size() < long_word.size());
  CHECK(decode_all(tok.value(), ids) == long_word);
}

TEST_CASE("gpt2 byte-level BPE: broken tables are refused") {
  const ordinal::Tokenizer::Spec good = imported_spec();
  {
    auto s = good;
    s.merges.push_back({1000, 1});
    auto t = ordinal::Tokenizer::create(s);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find("out of range") != std::string::npos);
  }
  {
    auto s = good;
    s.merges.push_back({'q', 'z'});  // "qz" is not a token
    auto t = ordinal::Tokenizer::create(s);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find("not in the vocabulary") != std::string::npos);
  }
  {
    auto s = good;
    s.pieces[200] = "<x>";  // byte 200 has no token any more
    auto t = ordinal::Tokenizer::create(s);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find("no token for byte 200") != std::string::npos);
  }
  {
    auto s = good;
    s.kind = ordinal::Tokenizer::Kind::kLlama2cBpe;  // merges on the llama2.c kind
    CHECK_FALSE(ordinal::Tokenizer::create(s).ok());
  }
}
