// Structure checks for the HTML reports (ordinal profile, ordinal verify --report): every element closed in
// order, raw-text elements (script, style) skipped to their end tag, entities terminated; and nothing
// fetched from outside the file.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace ordinal::testing {

inline size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

// No URL, no external script/style/image/font: the page renders from the file alone.
inline bool self_contained(const std::string& html) {
  for (const char* bad : {"http://", "https://", "src=", "<link", "@import", "url(", "href=\"//"}) {
    if (html.find(bad) != std::string::npos) return false;
  }
  return true;
}

inline bool html_well_formed(const std::string& s, std::string* why) {
  static const char* kVoid[] = {"meta", "br", "hr", "img", "input", "link", "wbr", "col"};
  std::vector<std::string> open;
  size_t i = 0;
  auto fail = [&](const std::string& m) {
    *why = m + " at byte " + std::to_string(i);
    return false;
  };
  while (i < s.size()) {
    if (s[i] == '&') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '#')) ++j;
      if (j == i + 1 || j >= s.size() || s[j] != ';') return fail("unterminated entity");
      i = j + 1;
      continue;
    }
    if (s[i] == '>') return fail("stray '>'");
    if (s[i] != '<') {
      ++i;
      continue;
    }
    if (s.compare(i, 4, "<!--") == 0) {
      const size_t e = s.find("-->", i);
      if (e == std::string::npos) return fail("unterminated comment");
      i = e + 3;
      continue;
    }
    // The tag's end, honouring quoted attribute values.
    size_t j = i + 1;
    char quote = 0;
    for (; j < s.size(); ++j) {
      if (quote) {
        if (s[j] == quote) quote = 0;
      } else if (s[j] == '"' || s[j] == '\'') {
        quote = s[j];
      } else if (s[j] == '<') {
        return fail("'<' inside a tag");
      } else if (s[j] == '>') {
        break;
      }
    }
    if (j >= s.size()) return fail("unterminated tag");
    const std::string tag = s.substr(i + 1, j - i - 1);
    i = j + 1;
    if (tag.empty()) return fail("empty tag");
    if (tag[0] == '!') continue;  // doctype
    const bool closing = tag[0] == '/';
    size_t n0 = closing ? 1 : 0, n1 = n0;
    while (n1 < tag.size() && (std::isalnum(static_cast<unsigned char>(tag[n1])) || tag[n1] == '-')) ++n1;
    std::string name = tag.substr(n0, n1 - n0);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.empty()) return fail("tag without a name");
    if (closing) {
      if (open.empty() || open.back() != name) {
        return fail("</" + name + "> closes " +
                    (open.empty() ? std::string("nothing") : "<" + open.back() + ">"));
      }
      open.pop_back();
      continue;
    }
    if (tag.back() == '/') continue;  // self-closing (SVG)
    bool is_void = false;
    for (const char* v : kVoid) is_void = is_void || name == v;
    if (is_void) continue;
    if (name == "script" || name == "style") {
      const size_t e = s.find("</" + name + ">", i);
      if (e == std::string::npos) return fail("unterminated <" + name + ">");
      i = e + name.size() + 3;
      continue;
    }
    open.push_back(name);
  }
  if (!open.empty()) {
    *why = "unclosed <" + open.back() + ">";
    return false;
  }
  if (s.compare(0, 15, "<!DOCTYPE html>") != 0) {
    *why = "no <!DOCTYPE html> first";
    return false;
  }
  return true;
}

}  // namespace ordinal::testing
