// Evaluation text for verify, read and tokenized as a stream: only as much of the file as the position cap
// needs is read, and it goes through the tokenizer in segments of at most kTextSegmentBytes (lines; a
// longer line is cut at its last whitespace before the limit, or at a UTF-8 character boundary when it has
// none), so neither a 50 MB single-line file nor /dev/zero can make verify read, hold or tokenize more than
// the cap calls for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ordinal/status.hpp"
#include "ordinal/tokenizer.hpp"

namespace ordinal::verify {

constexpr size_t kTextSegmentBytes = 4096;

// The next segment of `buffer`: its text (without the line break or the whitespace it was cut at) and the
// bytes it consumes. Returns false when `buffer` holds no complete segment yet and more input may follow
// (at_end false). A line cut at whitespace drops that one whitespace byte: the tokenizer's dummy-prefix
// space stands in for it, as it does for a line break.
bool next_text_segment(std::string_view buffer, bool at_end, std::string_view* segment, size_t* consumed);

// Tokens of `text` (no BOS), segment by segment, until at least max_tokens are collected (then cut to
// max_tokens). *consumed_bytes (optional): how much of `text` was used.
Status tokenize_text(const Tokenizer& tok, std::string_view text, size_t max_tokens,
                     std::vector<int32_t>* out, size_t* consumed_bytes = nullptr);

// Reads the regular file at `path` (FIFOs and devices refused) in blocks until `max_tokens` tokens are
// collected, the file ends, or max_bytes are read. *text: the bytes read up to the last segment used.
Status read_text_tokens(const Tokenizer& tok, const std::string& path, size_t max_tokens, uint64_t max_bytes,
                        std::string* text, std::vector<int32_t>* tokens);

}  // namespace ordinal::verify
