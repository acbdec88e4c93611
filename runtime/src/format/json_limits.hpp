// Size and nesting limits for JSON text from a file (task specs and metadata in a model, config.json,
// tokenizer.json and safetensors headers in the importers), checked by a linear scan before any parser
// sees the text: recursive code that walks a parsed value (copies, comparisons, dumps) would otherwise
// overflow the stack on 200,000 nested brackets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ordinal/status.hpp"

namespace ordinal::format {

constexpr uint32_t kMaxJsonDepth = 64;

// kInvalidArgument naming `what` when `text` is longer than max_bytes or nests arrays/objects deeper than
// max_depth (brackets inside strings, escapes included, do not count). Does not check the syntax otherwise.
Status check_json_limits(std::string_view text, uint64_t max_bytes, uint32_t max_depth,
                         const std::string& what);

}  // namespace ordinal::format
