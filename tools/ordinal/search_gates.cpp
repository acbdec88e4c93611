#include "ordinal/search_gates.hpp"

namespace ordinal::cli::quantize {

const char* const kSearchGateDefaultsUsage =
    "--search gates by default on every position bucket: --min-top1 0.99 --max-kl 0.01 --max-ppl-delta "
    "0.005\n"
    "  (each can be changed; --min-top1 0 turns the top-1 gate off) plus the position-recovery gate\n";

void apply_default_search_gates(verify::Options* gates) {
  if (!gates->min_top1) gates->min_top1 = kDefaultSearchMinTop1;
  if (!gates->max_ppl_delta) gates->max_ppl_delta = kDefaultSearchMaxPplDelta;
  if (!gates->max_kl) gates->max_kl = kDefaultSearchMaxKl;
}

}  // namespace ordinal::cli::quantize
