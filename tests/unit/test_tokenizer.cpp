// Tokenizer: llama2.c semantics — dummy prefix, highest-score merges first, byte fallback, BOS rules.
#include <doctest/doctest.h>

#include "ordinal/tokenizer.hpp"
#include "support/synthetic_model.hpp"

using namespace ordinal;

namespace {
Tokenizer make() {
  auto t = Tokenizer::create(testing::synthetic_tokenizer());
  REQUIRE(t.ok());
  return std::move(t).value();
}
std::string detokenize(const Tokenizer& t, const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 1; i < ids.size(); ++i) s += std::string(t.decode(ids[i - 1], ids[i]));
  return s;
}
}  // namespace

TEST_CASE("encode: dummy prefix, merges by score, BOS/EOS") {
  Tokenizer t = make();
  std::vector<int32_t> ids;
  REQUIRE(t.encode("the", true, true, &ids).ok());
  // " " + "t" "h" "e": "th" (-1) then "the" (-3) beats "he" (-2) after th merged; then " the" (-5).
  REQUIRE(ids.size() == 3);
  CHECK(ids.front() == t.bos_id());
  CHECK(t.piece(ids[1]) == " the");
  CHECK(ids.back() == t.eos_id());
  REQUIRE(t.encode("", true, false, &ids).ok());
  CHECK(ids == std::vector<int32_t>{t.bos_id()});  // no dummy prefix for empty text
}

TEST_CASE("encode: characters outside the vocabulary fall back to UTF-8 bytes") {
  Tokenizer t = make();
  std::vector<int32_t> ids;
  REQUIRE(t.encode("é!", false, false, &ids).ok());
  // " " then bytes C3 A9 as <0xC3> <0xA9>, then "!".
  REQUIRE(ids.size() == 4);
  CHECK(t.piece(ids[1]) == "<0xC3>");
  CHECK(t.piece(ids[2]) == "<0xA9>");
  CHECK(t.piece(ids[3]) == "!");
}

TEST_CASE("decode: leading space stripped after BOS, byte pieces become bytes, round trip") {
  Tokenizer t = make();
  std::vector<int32_t> ids;
  const std::string text = "Once upon a time, in a café the thing ran.";
  REQUIRE(t.encode(text, true, false, &ids).ok());
  CHECK(detokenize(t, ids) == text);  // the dummy-prefix space is stripped after BOS
  CHECK(t.decode(t.bos_id(), t.lookup(" the")) == "the");
  CHECK(t.decode(5, t.lookup(" the")) == " the");
  CHECK(t.decode(5, t.lookup("<0x41>")) == "A");
  CHECK(t.decode(5, -1).empty());
  CHECK(t.decode(5, 100000).empty());
  CHECK_FALSE(Tokenizer::is_printable_piece(std::string(1, '\x01')));
  CHECK(Tokenizer::is_printable_piece("\n"));
  CHECK(Tokenizer::is_printable_piece("ab"));
}

TEST_CASE("create rejects inconsistent vocabularies") {
  auto spec = testing::synthetic_tokenizer();
  spec.scores.pop_back();
  CHECK_FALSE(Tokenizer::create(spec).ok());
  spec = testing::synthetic_tokenizer();
  spec.byte_fallback_base = static_cast<int32_t>(spec.pieces.size()) - 10;
  CHECK_FALSE(Tokenizer::create(spec).ok());
  spec = testing::synthetic_tokenizer();
  spec.eos_id = -3;
  CHECK_FALSE(Tokenizer::create(spec).ok());
}
