#include "report/text_format.hpp"

#include <cstdarg>
#include <cstdio>

namespace ordinal::report {

void appendf(std::string* s, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list again;
  va_copy(again, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  if (n > 0) {
    const size_t old = s->size();
    s->resize(old + static_cast<size_t>(n) + 1);
    std::vsnprintf(&(*s)[old], static_cast<size_t>(n) + 1, fmt, again);
    s->resize(old + static_cast<size_t>(n));
  }
  va_end(again);
}

std::string html_escape(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace ordinal::report
