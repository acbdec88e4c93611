// Text building shared by the host tools' reports (verify text/HTML, profile HTML, run --stats): printf-style
// appending of any length and HTML escaping.
#pragma once

#include <string>

namespace ordinal::report {

// Appends printf-style formatted text to *s, whatever its length (the formatted text is never cut).
void appendf(std::string* s, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// `in` with &, <, > and " replaced by their HTML entities (safe in element text and quoted attributes).
std::string html_escape(const std::string& in);

}  // namespace ordinal::report
