#include "ordinal/detokenizer.hpp"

#include <cstdint>
#include <cstring>

namespace ordinal {

namespace {

// Length of the UTF-8 sequence a lead byte starts (2..4), or 1 for ASCII and bytes that start none.
size_t sequence_length(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 1;
}

bool is_continuation(uint8_t b) {
  return (b & 0xC0) == 0x80;
}

}  // namespace

size_t Detokenizer::incomplete_suffix(std::string_view a, std::string_view b) {
  const size_t n = a.size() + b.size();
  auto at = [&](size_t i) -> uint8_t { return static_cast<uint8_t>(i < a.size() ? a[i] : b[i - a.size()]); };
  // The last byte that is not a continuation, within the last 4.
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const uint8_t c = at(n - back);
    if (is_continuation(c)) continue;
    const size_t need = sequence_length(c);
    return back < need ? back : 0;
  }
  return 0;
}

size_t Detokenizer::peek(int32_t token) const {
  const std::string_view piece = tok_->decode(prev_, token);
  const std::string_view held(hold_, held_);
  return held_ + piece.size() - incomplete_suffix(held, piece);
}

size_t Detokenizer::push(int32_t token, char* out, size_t capacity) {
  const std::string_view piece = tok_->decode(prev_, token);
  const std::string_view held(hold_, held_);
  const size_t keep = incomplete_suffix(held, piece);
  const size_t emit = held_ + piece.size() - keep;
  if (emit > capacity) return SIZE_MAX;
  // Emit the first `emit` bytes of held + piece, hold the rest.
  char next_hold[4];
  size_t k = 0;
  for (size_t i = emit; i < held_ + piece.size(); ++i)
    next_hold[k++] = i < held_ ? hold_[i] : piece[i - held_];
  const size_t from_held = emit < held_ ? emit : held_;
  if (from_held > 0) std::memcpy(out, hold_, from_held);
  if (emit > from_held) std::memcpy(out + from_held, piece.data(), emit - from_held);
  std::memcpy(hold_, next_hold, k);
  held_ = k;
  prev_ = token;
  return emit;
}

size_t Detokenizer::flush(char* out, size_t capacity) {
  if (held_ > capacity) return SIZE_MAX;
  if (held_ > 0) std::memcpy(out, hold_, held_);
  const size_t n = held_;
  held_ = 0;
  return n;
}

}  // namespace ordinal
