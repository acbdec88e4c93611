#include "format/json_limits.hpp"

namespace ordinal::format {

Status check_json_limits(std::string_view text, uint64_t max_bytes, uint32_t max_depth,
                         const std::string& what) {
  if (text.size() > max_bytes) {
    return invalid_argument(what + ": " + std::to_string(text.size()) + " bytes of JSON, over the limit of " +
                            std::to_string(max_bytes));
  }
  uint32_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return invalid_argument(what + ": JSON nests deeper than " + std::to_string(max_depth) +
                                " levels (at byte " + std::to_string(i) + ")");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return Status::Ok();
}

}  // namespace ordinal::format
