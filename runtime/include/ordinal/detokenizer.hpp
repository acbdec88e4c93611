// Streaming detokenizer: token ids in, text out, never splitting a UTF-8 sequence. A token's bytes are the
// tokenizer's lossless decode (byte-fallback pieces give their raw byte); the bytes of a sequence still
// incomplete at the end are held (at most 3) until the tokens that complete it arrive. Bytes that cannot
// start or continue a valid sequence pass through unchanged, so the output is exactly the tokens' bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ordinal/export.h"
#include "ordinal/tokenizer.hpp"

namespace ordinal {

class ORD_API Detokenizer {
 public:
  // `tokenizer` must outlive the Detokenizer (a Model's tokenizer lives as long as the Model).
  explicit Detokenizer(const Tokenizer& tokenizer) : tok_(&tokenizer) {}

  // Bytes the next push(token) would emit; push with a buffer of at least this size cannot fail.
  size_t peek(int32_t token) const;
  // Appends token; writes the text now complete to out (up to `capacity` bytes) and returns its length.
  // Returns SIZE_MAX and changes nothing when capacity < peek(token). Out-of-range ids add no bytes.
  size_t push(int32_t token, char* out, size_t capacity);
  // Writes the held bytes (at most 3), then holds none.
  size_t flush(char* out, size_t capacity);
  // Drops held bytes; `prev` is the token before the next one (decode's leading-space rule after BOS).
  void reset(int32_t prev = -1) {
    held_ = 0;
    prev_ = prev;
  }
  size_t held() const { return held_; }

  // Length of the suffix of (a + b) that is an incomplete but possibly valid UTF-8 sequence (0..3).
  static size_t incomplete_suffix(std::string_view a, std::string_view b);

 private:
  const Tokenizer* tok_;
  int32_t prev_ = -1;
  char hold_[4] = {0, 0, 0, 0};
  size_t held_ = 0;
};

}  // namespace ordinal
