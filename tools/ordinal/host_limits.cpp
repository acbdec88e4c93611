#include "ordinal/host_limits.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "threads.hpp"

namespace ordinal::cli {

uint32_t host_cores() {
  return std::max<uint32_t>(threads::available_cores(), 1);
}

uint32_t clamp_threads(int64_t requested, const char* verb) {
  const uint32_t cores = host_cores();
  if (requested <= 0) return cores;
  if (requested > cores) {
    std::fprintf(stderr, "ordinal %s: --threads %lld clamped to %u cores\n", verb,
                 static_cast<long long>(requested), cores);
    return cores;
  }
  return static_cast<uint32_t>(requested);
}

uint64_t host_memory_budget() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;  // unknown: no budget beyond what allocations give
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

namespace {
// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 when it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}
}  // namespace

std::string printable(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  char buf[8];
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = utf8_length(text, i);
    // C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8; terminals act on them too.
    const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if (n == 0 || c1 || (n == 1 && ((c < 0x20 && c != '\t' && !(keep_newlines && c == '\n')) || c == 0x7F))) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      ++i;
    } else if (c == '\\') {
      out += "\\\\";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string printable_generated(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  char buf[8];
  for (char ch : piece) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace ordinal::cli
