// `ordinal quantize --search`: tries positional schemes from the smallest stored size to the largest and
// keeps the first (smallest) whose model passes the verify gates against the original model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "modelio/model_spec.hpp"
#include "ordinal/quantize.hpp"
#include "verify/verify.hpp"

namespace ordinal::cli::quantize {

// Every --pos setting that applies to this model's positional scheme, in the order tried for equal sizes
// (narrower formats first). Empty for a model without a positional component.
std::vector<std::string> search_candidates(const modelio::ModelSpec& spec);

struct SearchAttempt {
  std::string scheme;
  uint64_t positional_bytes = 0;
  bool built = false;     // false: the transform does not apply (note says why); never verified
  bool verified = false;  // the battery ran
  bool passed = false;
  std::string note;  // first failing gate, or why it was skipped
  double top1 = 0, max_ppl_delta = 0, max_kl = 0, gap_ratio = 0, recovery = -1, seconds = 0;
};

struct SearchResult {
  std::vector<SearchAttempt> attempts;  // in the order tried (sizes ascending), then the ones not reached
  int winner = -1;                      // index into attempts, -1: none passed
};

// Builds every candidate of `schemes` from `spec` (base options o: rope scaling, context, weights, seed),
// sorts them by positional bytes, verifies them one by one against the model at `ref_path` with `gates`
// (its gate and evaluation fields; ref/cand paths are filled here) and stops at the first that passes.
// Candidate models are written to `scratch_path` (removed afterwards). `on_attempt` sees each attempt as
// it finishes. Errors: nothing could be built, or the battery could not run (load/usage problems).
Result<SearchResult> search_positional(
    const modelio::ModelSpec& spec, const std::string& ref_path, const std::vector<std::string>& schemes,
    const Options& base, const verify::Options& gates, const std::string& scratch_path,
    const std::function<void(const SearchAttempt&, size_t index, size_t total)>& on_attempt);

}  // namespace ordinal::cli::quantize
