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

namespace {
// run.c's merge loop verbatim (rescan every pair after each merge): the reference for the heap version.
std::vector<int32_t> reference_merges(const Tokenizer& t, std::vector<int32_t> ids) {
  while (true) {
    float best_score = -1e10f;
    int32_t best_id = -1;
    size_t best_idx = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      int32_t id = t.lookup(t.piece(ids[i]) + t.piece(ids[i + 1]));
      if (id >= 0 && t.score(id) > best_score) {
        best_score = t.score(id);
        best_id = id;
        best_idx = i;
      }
    }
    if (best_id < 0) break;
    ids[best_idx] = best_id;
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(best_idx) + 1);
  }
  return ids;
}
}  // namespace

TEST_CASE("encode merges exactly as run.c's rescanning loop, ties and never-merging scores included") {
  // Every string of 2..4 letters over {a, b, c} is a piece, with scores from a small set (many ties),
  // some at or below run.c's -1e10 floor (never merged). Single letters come first with score 0.
  Tokenizer::Spec spec;
  spec.pieces = {"<unk>", "<s>", "</s>", "a", "b", "c", " "};
  spec.byte_fallback_base = -1;
  spec.add_dummy_prefix = false;
  spec.scores.assign(spec.pieces.size(), 0.0f);
  testing::TestRng rng(17);
  const float choices[] = {-1.0f, -2.0f, -2.0f, -3.0f, -1e10f, -2e10f};
  std::vector<std::string> frontier = {"a", "b", "c"};
  for (int len = 2; len <= 4; ++len) {
    std::vector<std::string> next;
    for (const std::string& f : frontier) {
      for (char c : {'a', 'b', 'c'}) next.push_back(f + c);
    }
    for (const std::string& p : next) {
      spec.pieces.push_back(p);
      spec.scores.push_back(choices[rng.next() % 6]);
    }
    frontier = next;
  }
  auto made = Tokenizer::create(spec);
  REQUIRE(made.ok());
  const Tokenizer& t = made.value();
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const size_t len = rng.next() % 60;
    for (size_t i = 0; i < len; ++i) text += "abc "[rng.next() % 4];
    std::vector<int32_t> ids, singles;
    REQUIRE(t.encode(text, true, false, &ids).ok());
    singles.push_back(t.bos_id());
    for (char c : text) singles.push_back(t.lookup(std::string(1, c)));
    CHECK_MESSAGE(ids == reference_merges(t, singles), text);
  }
  // And on the llama2.c-style vocabulary, with real text.
  Tokenizer s = make();
  std::vector<int32_t> ids, singles;
  const std::string text = "Once upon a time there was the thing, and then another thing in the ring.";
  REQUIRE(s.encode(text, true, false, &ids).ok());
  singles = {s.bos_id(), s.lookup(" ")};
  for (char c : text) singles.push_back(s.lookup(std::string(1, c)));
  CHECK(ids == reference_merges(s, singles));
}
