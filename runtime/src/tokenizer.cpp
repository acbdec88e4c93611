#include "ordinal/tokenizer.hpp"

#include <cctype>
#include <queue>

namespace ordinal {

namespace {

// Parses "<0xNN>" (two hex digits, either case) as run.c's sscanf("<0x%02hhX>") accepts it.
int parse_byte_piece(const std::string& p) {
  if (p.size() != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = hex(p[3]), lo = hex(p[4]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

}  // namespace

Result<Tokenizer> Tokenizer::create(Spec spec) {
  const size_t n = spec.pieces.size();
  if (n == 0) return invalid_model("tokenizer: empty vocabulary");
  if (spec.scores.size() != n) {
    return invalid_model("tokenizer: " + std::to_string(spec.scores.size()) + " scores for " +
                         std::to_string(n) + " pieces");
  }
  auto in_range = [n](int32_t id) { return id >= 0 && static_cast<size_t>(id) < n; };
  if (!in_range(spec.bos_id)) return invalid_model("tokenizer: bos_id out of range");
  if (!in_range(spec.eos_id)) return invalid_model("tokenizer: eos_id out of range");
  if (!in_range(spec.unk_id)) return invalid_model("tokenizer: unk_id out of range");
  if (spec.byte_fallback_base != -1 &&
      (spec.byte_fallback_base < 0 || static_cast<size_t>(spec.byte_fallback_base) + 256 > n)) {
    return invalid_model("tokenizer: byte_fallback_base " + std::to_string(spec.byte_fallback_base) +
                         " leaves no room for 256 byte pieces in a vocabulary of " + std::to_string(n));
  }
  if (spec.kind != Kind::kLlama2cBpe && spec.kind != Kind::kGpt2ByteBpe) {
    return invalid_model("tokenizer: unknown kind");
  }
  if (spec.kind == Kind::kLlama2cBpe && !spec.merges.empty()) {
    return invalid_model("tokenizer: merges are only defined for GPT-2 byte-level BPE");
  }
  Tokenizer t;
  t.spec_ = std::move(spec);
  t.index_.reserve(n * 2);
  t.byte_piece_.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    t.index_.emplace(t.spec_.pieces[i], static_cast<int32_t>(i));  // first occurrence wins
    if (t.spec_.kind != Kind::kLlama2cBpe) continue;               // GPT-2 pieces are raw bytes
    int b = parse_byte_piece(t.spec_.pieces[i]);
    if (b >= 0) t.byte_piece_[i] = static_cast<int16_t>(b);
  }
  if (t.spec_.kind == Kind::kGpt2ByteBpe) ORDINAL_RETURN_IF_ERROR(t.init_byte_bpe());
  t.byte_strings_.resize(256);
  for (int b = 0; b < 256; ++b) t.byte_strings_[b] = std::string(1, static_cast<char>(b));
  return t;
}

int32_t Tokenizer::lookup(std::string_view piece) const {
  auto it = index_.find(std::string(piece));
  return it == index_.end() ? -1 : it->second;
}

Status Tokenizer::encode(std::string_view text, bool bos, bool eos, std::vector<int32_t>* out) const {
  out->clear();
  if (bos) out->push_back(spec_.bos_id);
  if (spec_.kind == Kind::kGpt2ByteBpe) {
    encode_byte_bpe(text, out);
    if (eos) out->push_back(spec_.eos_id);
    return Status::Ok();
  }
  if (spec_.add_dummy_prefix && !text.empty()) {
    int32_t space = lookup(" ");
    if (space >= 0) out->push_back(space);
  }
  // One code point at a time (at most 4 bytes, as run.c), falling back to byte tokens.
  std::string buf;
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    while (i + len < text.size() && (static_cast<uint8_t>(text[i + len]) & 0xC0) == 0x80 && len < 4) ++len;
    buf.assign(text.data() + i, len);
    int32_t id = lookup(buf);
    if (id >= 0) {
      out->push_back(id);
    } else {
      for (size_t j = 0; j < len; ++j) {
        uint8_t byte = static_cast<uint8_t>(buf[j]);
        if (spec_.byte_fallback_base < 0) {
          out->push_back(spec_.unk_id);
        } else {
          out->push_back(spec_.byte_fallback_base + byte);
        }
      }
    }
    i += len;
  }
  // Greedy merges as run.c: repeatedly merge the adjacent pair whose concatenation is a piece with the
  // highest score (> -1e10), leftmost on ties. run.c rescans every pair after each merge, O(n^2): a prompt
  // of 10^6 characters would take hours. Here the symbols form a linked list and every current pair with a
  // merge has one entry in a max-heap ordered by (score, then leftmost); entries of pairs a merge has
  // changed are skipped when popped. The heap's top is always the pair run.c would pick (symbol indices
  // keep text order), so the merges and the result are the same, in O(n log n).
  if (out->size() >= 2) merge_pairs(out);
  if (eos) out->push_back(spec_.eos_id);
  return Status::Ok();
}

void Tokenizer::merge_pairs(std::vector<int32_t>* ids) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // -1 at the ends
    uint32_t version;    // bumped whenever id changes or the symbol is merged away
  };
  struct Candidate {
    float score;
    int32_t left, right, id;
    uint32_t left_version, right_version;
    bool operator<(const Candidate& o) const {  // max-heap: higher score first, then the leftmost pair
      return score != o.score ? score < o.score : left > o.left;
    }
  };
  const int32_t n = static_cast<int32_t>(ids->size());
  std::vector<Symbol> sym(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) sym[i] = Symbol{(*ids)[i], i - 1, i + 1 < n ? i + 1 : -1, 0};
  std::priority_queue<Candidate> heap;
  std::string merged;
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    merged = spec_.pieces[sym[left].id];
    merged += spec_.pieces[sym[right].id];
    const int32_t id = lookup(merged);
    if (id < 0 || !(spec_.scores[id] > -1e10f)) return;
    heap.push(Candidate{spec_.scores[id], left, right, id, sym[left].version, sym[right].version});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i, i + 1);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Symbol& l = sym[c.left];
    Symbol& r = sym[c.right];
    if (l.version != c.left_version || r.version != c.right_version || l.next != c.right) continue;  // stale
    l.id = c.id;
    ++l.version;
    ++r.version;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  ids->clear();
  for (int32_t i = 0; i >= 0; i = sym[i].next) ids->push_back(sym[i].id);
}

std::string_view Tokenizer::decode(int32_t prev, int32_t token) const {
  if (token < 0 || static_cast<size_t>(token) >= spec_.pieces.size()) return {};
  if (byte_piece_[token] >= 0) return byte_strings_[static_cast<size_t>(byte_piece_[token])];
  std::string_view piece = spec_.pieces[token];
  if (spec_.kind == Kind::kGpt2ByteBpe) return piece;  // raw bytes; no SentencePiece space to strip
  if (prev == spec_.bos_id && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
  return piece;
}

bool Tokenizer::is_printable_piece(std::string_view piece) {
  if (piece.empty()) return false;
  if (piece.size() == 1) {
    unsigned char c = static_cast<unsigned char>(piece[0]);
    return std::isprint(c) || std::isspace(c);
  }
  return true;
}

}  // namespace ordinal
