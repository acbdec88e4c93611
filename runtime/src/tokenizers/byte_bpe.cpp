// GPT-2 byte-level BPE (Tokenizer::Kind::kGpt2ByteBpe).
//
// Pre-tokenization follows GPT-2's pattern, alternatives tried in order at each position:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with \p{L}, \p{N}, \s exactly as the `regex` module that the reference runs it with defines them
// (unicode_classes.inc, generated). Invalid UTF-8 bytes count as one code point each of the "other" class.
// Each chunk's bytes start as single-byte tokens; the adjacent pair of lowest merge rank (leftmost on ties)
// is merged until none is left, as OpenAI's encoder.py, HF tokenizers and llama.cpp do. A heap over
// linked symbols keeps this O(n log n) per chunk, with memory linear in the text.
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "ordinal/tokenizer.hpp"

namespace ordinal {

namespace {

struct CodePointRange {
  uint32_t first, last;
};

#include "tokenizers/unicode_classes.inc"

template <size_t N>
bool in_ranges(const CodePointRange (&ranges)[N], uint32_t cp) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (cp < ranges[mid].first) {
      hi = mid;
    } else if (cp > ranges[mid].last) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };

constexpr uint32_t kInvalid = 0xFFFFFFFFu;

CharClass classify(uint32_t cp) {
  if (cp == kInvalid) return CharClass::kOther;
  if (cp < 0x80) {  // ASCII fast path, same answers as the tables
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kNumber;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return CharClass::kSpace;
    return CharClass::kOther;
  }
  if (in_ranges(kLetterRanges, cp)) return CharClass::kLetter;
  if (in_ranges(kNumberRanges, cp)) return CharClass::kNumber;
  if (in_ranges(kSpaceRanges, cp)) return CharClass::kSpace;
  return CharClass::kOther;
}

// One code point of well-formed UTF-8 at text[i] (shortest form, no surrogates, <= U+10FFFF); anything
// else is one invalid byte.
uint32_t decode_utf8(std::string_view text, size_t i, size_t* len) {
  const uint8_t b0 = static_cast<uint8_t>(text[i]);
  *len = 1;
  if (b0 < 0x80) return b0;
  size_t n = 0;
  uint32_t cp = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return kInvalid;
  }
  if (text.size() - i < n) return kInvalid;
  for (size_t k = 1; k < n; ++k) {
    const uint8_t b = static_cast<uint8_t>(text[i + k]);
    if ((b & 0xC0) != 0x80) return kInvalid;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalid;
  *len = n;
  return cp;
}

struct CodePoint {
  uint32_t cp;
  CharClass cls;
  uint32_t byte;  // offset of its first byte
};

// End (code point index) of the chunk GPT-2's pattern matches at `i`.
size_t match_chunk(const std::vector<CodePoint>& c, size_t i) {
  const size_t n = c.size();
  auto cp = [&](size_t k) { return k < n ? c[k].cp : kInvalid; };
  if (cp(i) == '\'') {
    const uint32_t a = cp(i + 1), b = cp(i + 2);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
  }
  // ` ?X+` for X = letters, numbers, other (in that order).
  for (CharClass x : {CharClass::kLetter, CharClass::kNumber, CharClass::kOther}) {
    size_t start = i;
    if (c[i].cp == ' ' && i + 1 < n && c[i + 1].cls == x) start = i + 1;
    if (c[start].cls != x) continue;
    size_t j = start + 1;
    while (j < n && c[j].cls == x) ++j;
    return j;
  }
  // Whitespace (the only class left): `\s+(?!\S)` leaves the last space of a run to the word after it;
  // else `\s+`.
  size_t j = i + 1;
  while (j < n && c[j].cls == CharClass::kSpace) ++j;
  if (j == n || j - 1 == i) return j;
  return j - 1;
}

}  // namespace

Status Tokenizer::init_byte_bpe() {
  for (int b = 0; b < 256; ++b) {
    const int32_t id = lookup(std::string(1, static_cast<char>(b)));
    if (id < 0) {
      return invalid_model("tokenizer: GPT-2 byte-level BPE has no token for byte " + std::to_string(b));
    }
    byte_token_[b] = id;
  }
  const size_t n = spec_.pieces.size();
  merge_table_.reserve(spec_.merges.size() * 2);
  std::string merged;
  for (size_t k = 0; k < spec_.merges.size(); ++k) {
    const auto [left, right] = spec_.merges[k];
    if (left < 0 || right < 0 || static_cast<size_t>(left) >= n || static_cast<size_t>(right) >= n) {
      return invalid_model("tokenizer: merge " + std::to_string(k) + " names a token out of range");
    }
    merged = spec_.pieces[static_cast<size_t>(left)];
    merged += spec_.pieces[static_cast<size_t>(right)];
    const int32_t id = lookup(merged);
    if (id < 0) {
      return invalid_model("tokenizer: merge " + std::to_string(k) + " (" + std::to_string(left) + ", " +
                           std::to_string(right) + ") makes a piece that is not in the vocabulary");
    }
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    merge_table_.emplace(key, Merge{static_cast<int32_t>(k), id});  // the first (lowest) rank wins
  }
  return Status::Ok();
}

void Tokenizer::encode_byte_bpe(std::string_view text, std::vector<int32_t>* out) const {
  std::vector<CodePoint> cps;
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    const uint32_t cp = decode_utf8(text, i, &len);
    cps.push_back(CodePoint{cp, classify(cp), static_cast<uint32_t>(i)});
    i += len;
  }
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // -1 at the chunk's ends
    uint32_t version;    // bumped whenever the symbol changes or is merged away
  };
  struct Candidate {
    int32_t rank, left, right, id;
    uint32_t left_version, right_version;
    bool operator<(const Candidate& o) const {  // min-heap on (rank, left) through std::priority_queue
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::vector<Symbol> sym;
  std::priority_queue<Candidate> heap;
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint64_t key =
        (static_cast<uint64_t>(static_cast<uint32_t>(sym[static_cast<size_t>(left)].id)) << 32) |
        static_cast<uint32_t>(sym[static_cast<size_t>(right)].id);
    auto it = merge_table_.find(key);
    if (it == merge_table_.end()) return;
    heap.push(Candidate{it->second.rank, left, right, it->second.id, sym[static_cast<size_t>(left)].version,
                        sym[static_cast<size_t>(right)].version});
  };
  for (size_t i = 0; i < cps.size();) {
    const size_t j = match_chunk(cps, i);
    const size_t begin = cps[i].byte, end = j < cps.size() ? cps[j].byte : text.size();
    const int32_t count = static_cast<int32_t>(end - begin);
    sym.resize(static_cast<size_t>(count));
    for (int32_t k = 0; k < count; ++k) {
      sym[static_cast<size_t>(k)] =
          Symbol{byte_token_[static_cast<uint8_t>(text[begin + static_cast<size_t>(k)])], k - 1,
                 k + 1 < count ? k + 1 : -1, 0};
    }
    for (int32_t k = 0; k + 1 < count; ++k) consider(k, k + 1);
    while (!heap.empty()) {
      const Candidate c = heap.top();
      heap.pop();
      Symbol& l = sym[static_cast<size_t>(c.left)];
      Symbol& r = sym[static_cast<size_t>(c.right)];
      if (l.version != c.left_version || r.version != c.right_version || l.next != c.right)
        continue;  // stale
      l.id = c.id;
      ++l.version;
      ++r.version;
      l.next = r.next;
      if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = c.left;
      consider(l.prev, c.left);
      consider(c.left, l.next);
    }
    for (int32_t k = 0; k >= 0 && count > 0; k = sym[static_cast<size_t>(k)].next)
      out->push_back(sym[static_cast<size_t>(k)].id);
    i = j;
  }
}

}  // namespace ordinal
