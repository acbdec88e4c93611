// The flags of `ordinal verify` (input, output, gates), parsed in one place so that `ordinal quantize
// --search` takes exactly the same gates and evaluation options as `verify`.
#pragma once

#include <string>

#include "ordinal/args.hpp"
#include "verify/verify.hpp"

namespace ordinal::cli {

// Usage lines of the evaluation and gate flags (no header line, no output flags).
extern const char* const kVerifyInputUsage;
extern const char* const kVerifyGateUsage;

enum class FlagParse { kNotMine, kParsed, kError };

// Parses flag `a` (already taken from args) and its value into options. kError: args.error says why.
FlagParse parse_verify_flag(Args& args, const std::string& a, verify::Options* options);

// True when at least one gate beyond the default position-recovery gate is set.
bool has_explicit_gate(const verify::Options& options);

}  // namespace ordinal::cli
