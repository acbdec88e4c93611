#include "ordinal/tokenizer.hpp"

#include <cctype>

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
  Tokenizer t;
  t.spec_ = std::move(spec);
  t.index_.reserve(n * 2);
  t.byte_piece_.assign(n, -1);
  for (size_t i = 0; i < n; ++i) {
    t.index_.emplace(t.spec_.pieces[i], static_cast<int32_t>(i));  // first occurrence wins
    int b = parse_byte_piece(t.spec_.pieces[i]);
    if (b >= 0) t.byte_piece_[i] = static_cast<int16_t>(b);
  }
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
  // Greedy merges: the adjacent pair whose concatenation has the highest score, leftmost on ties.
  std::string merged;
  while (true) {
    float best_score = -1e10f;
    int32_t best_id = -1;
    size_t best_idx = 0;
    for (size_t i = 0; i + 1 < out->size(); ++i) {
      merged = spec_.pieces[(*out)[i]];
      merged += spec_.pieces[(*out)[i + 1]];
      int32_t id = lookup(merged);
      if (id >= 0 && spec_.scores[id] > best_score) {
        best_score = spec_.scores[id];
        best_id = id;
        best_idx = i;
      }
    }
    if (best_id < 0) break;
    (*out)[best_idx] = best_id;
    out->erase(out->begin() + static_cast<std::ptrdiff_t>(best_idx) + 1);
  }
  if (eos) out->push_back(spec_.eos_id);
  return Status::Ok();
}

std::string_view Tokenizer::decode(int32_t prev, int32_t token) const {
  if (token < 0 || static_cast<size_t>(token) >= spec_.pieces.size()) return {};
  if (byte_piece_[token] >= 0) return byte_strings_[static_cast<size_t>(byte_piece_[token])];
  std::string_view piece = spec_.pieces[token];
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
