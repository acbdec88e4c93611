#include "verify/text_stream.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "importers/read_file.hpp"

namespace ordinal::verify {

namespace {

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_space);
}

// Tokenizes one segment (skipping blank ones) and appends its tokens.
Status add_segment(const Tokenizer& tok, std::string_view segment, std::vector<int32_t>* scratch,
                   std::vector<int32_t>* out) {
  if (blank(segment)) return Status::Ok();
  ORDINAL_RETURN_IF_ERROR(tok.encode(segment, /*bos=*/false, /*eos=*/false, scratch));
  out->insert(out->end(), scratch->begin(), scratch->end());
  return Status::Ok();
}

}  // namespace

bool next_text_segment(std::string_view buffer, bool at_end, std::string_view* segment, size_t* consumed) {
  const std::string_view head = buffer.substr(0, kTextSegmentBytes);
  const size_t newline = head.find('\n');
  if (newline != std::string_view::npos) {
    *segment = buffer.substr(0, newline);
    *consumed = newline + 1;
    return true;
  }
  if (buffer.size() > kTextSegmentBytes) {
    size_t cut = kTextSegmentBytes;
    while (cut > 0 && !is_space(buffer[cut - 1])) --cut;
    if (cut > 1) {
      *segment = buffer.substr(0, cut - 1);
      *consumed = cut;
      return true;
    }
    // No whitespace: cut before a UTF-8 continuation byte so that no character is split.
    cut = kTextSegmentBytes;
    while (cut > 1 && (static_cast<unsigned char>(buffer[cut]) & 0xC0) == 0x80) --cut;
    *segment = buffer.substr(0, cut);
    *consumed = cut;
    return true;
  }
  if (at_end && !buffer.empty()) {
    *segment = buffer;
    *consumed = buffer.size();
    return true;
  }
  return false;
}

Status tokenize_text(const Tokenizer& tok, std::string_view text, size_t max_tokens,
                     std::vector<int32_t>* out, size_t* consumed_bytes) {
  out->clear();
  std::vector<int32_t> scratch;
  size_t at = 0;
  std::string_view segment;
  size_t used = 0;
  while (out->size() < max_tokens && next_text_segment(text.substr(at), true, &segment, &used)) {
    ORDINAL_RETURN_IF_ERROR(add_segment(tok, segment, &scratch, out));
    at += used;
  }
  if (out->size() > max_tokens) out->resize(max_tokens);
  if (consumed_bytes) *consumed_bytes = at;
  return Status::Ok();
}

Status read_text_tokens(const Tokenizer& tok, const std::string& path, size_t max_tokens, uint64_t max_bytes,
                        std::string* text, std::vector<int32_t>* tokens) {
  text->clear();
  tokens->clear();
  uint64_t size = 0;
  ORDINAL_ASSIGN_OR_RETURN(const int fd, importers::open_regular_file(path, &size));
  std::string pending;  // read but not yet segmented
  std::vector<int32_t> scratch;
  uint64_t read_total = 0;
  bool at_end = false;
  char block[1 << 16];
  while (tokens->size() < max_tokens) {
    std::string_view segment;
    size_t used = 0;
    if (next_text_segment(pending, at_end, &segment, &used)) {
      Status st = add_segment(tok, segment, &scratch, tokens);
      if (!st.ok()) {
        ::close(fd);
        return st;
      }
      text->append(pending, 0, used);
      pending.erase(0, used);
      continue;
    }
    if (at_end) break;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof block, max_bytes - read_total));
    const ssize_t n = want == 0 ? 0 : ::read(fd, block, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return io_error("cannot read '" + path + "': " + std::strerror(err));
    }
    if (n == 0) {
      at_end = true;  // end of file, or max_bytes read: what is pending is the last segment
      continue;
    }
    read_total += static_cast<uint64_t>(n);
    pending.append(block, static_cast<size_t>(n));
  }
  ::close(fd);
  if (tokens->size() > max_tokens) tokens->resize(max_tokens);
  return Status::Ok();
}

}  // namespace ordinal::verify
