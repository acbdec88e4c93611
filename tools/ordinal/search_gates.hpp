// The gates `quantize --search` applies when the command line leaves them unset. Perplexity alone misses
// changed decisions (issue 18: a low-rank table kept |dppl| at 0.1 % while one next-token choice in nine
// changed), so the search gates by default on top-1 agreement, KL and perplexity in every position bucket.
#pragma once

#include "verify/verify.hpp"

namespace ordinal::cli::quantize {

constexpr double kDefaultSearchMinTop1 = 0.99;
constexpr double kDefaultSearchMaxPplDelta = 0.005;
constexpr double kDefaultSearchMaxKl = 0.01;

// Usage text for the defaults (one line per gate).
extern const char* const kSearchGateDefaultsUsage;

// Fills every unset one of min_top1, max_ppl_delta, max_kl with its default; explicit values are kept
// (--min-top1 0 switches the top-1 gate off).
void apply_default_search_gates(verify::Options* gates);

}  // namespace ordinal::cli::quantize
