#include "ordinal/position_search.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "modelio/model_spec.hpp"

namespace ordinal::cli::quantize {

namespace {

struct Built {
  SearchAttempt attempt;
  modelio::ModelSpec spec;
  size_t order = 0;
};

void summarize(const verify::Report& r, SearchAttempt* a) {
  a->top1 = r.overall.top1;
  for (const verify::BucketStats& b : r.buckets) {
    if (!b.supported || b.positions == 0) continue;
    a->max_kl = std::max(a->max_kl, b.kl_mean);
    if (b.targets > 0) a->max_ppl_delta = std::max(a->max_ppl_delta, std::fabs(b.ppl_delta));
  }
  a->gap_ratio = r.order.ran ? r.order.gap_ratio() : 0.0;
  a->recovery = r.identity.kind == "table" ? r.identity.recovery : -1.0;
  a->passed = r.passed();
  if (!a->passed) {
    for (const verify::GateResult& g : r.gates) {
      if (!g.passed) {
        a->note = g.line();
        break;
      }
    }
  }
}

}  // namespace

Result<SearchResult> search_positional(
    const modelio::ModelSpec& spec, const std::string& ref_path, const std::vector<std::string>& schemes,
    const Options& base, const verify::Options& gates, const std::string& scratch_path,
    const std::function<void(const SearchAttempt&, size_t, size_t)>& on_attempt) {
  if (schemes.empty())
    return invalid_argument("--search: this model has no positional scheme to search over");
  std::vector<Built> built;
  SearchResult result;
  for (size_t i = 0; i < schemes.size(); ++i) {
    Built b;
    b.order = i;
    b.spec = spec;
    b.attempt.scheme = schemes[i];
    Options o = base;
    o.pos = schemes[i];
    auto r = apply_positional(b.spec, o);
    if (!r.ok()) {
      b.attempt.note = "not applicable: " + r.status().message();
      result.attempts.push_back(b.attempt);
      continue;
    }
    auto w = convert_weights(b.spec, base.weights);
    if (!w.ok()) return w.status();
    b.attempt.built = true;
    b.attempt.positional_bytes = components(b.spec).positional;
    built.push_back(std::move(b));
  }
  if (built.empty()) return invalid_argument("--search: none of the schemes applies to this model");
  // Smallest first; equal sizes keep the listed order (narrower number formats are listed first).
  std::stable_sort(built.begin(), built.end(), [](const Built& a, const Built& b) {
    return a.attempt.positional_bytes < b.attempt.positional_bytes;
  });
  std::vector<SearchAttempt> tried;
  for (size_t i = 0; i < built.size(); ++i) {
    SearchAttempt& a = built[i].attempt;
    if (result.winner < 0) {
      ORDINAL_RETURN_IF_ERROR(modelio::write_model(built[i].spec, scratch_path));
      verify::Options vo = gates;
      vo.ref_path = ref_path;
      vo.cand_path = scratch_path;
      const auto t0 = std::chrono::steady_clock::now();
      auto report = verify::run_battery(vo);
      std::remove(scratch_path.c_str());
      if (!report.ok()) {
        if (report.status().code() == ErrorCode::kInvalidArgument ||
            report.status().code() == ErrorCode::kIoError) {
          return report.status();  // usage problems (missing text, ...) are the same for every candidate
        }
        a.note = "verify failed to run: " + report.status().message();
      } else {
        a.verified = true;
        summarize(report.value(), &a);
      }
      a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (a.passed) result.winner = static_cast<int>(tried.size());
      if (on_attempt) on_attempt(a, i, built.size());
    } else {
      a.note = "not tried (a smaller scheme passed)";
    }
    tried.push_back(a);
  }
  // Tried (size order) first, then the inapplicable ones.
  tried.insert(tried.end(), result.attempts.begin(), result.attempts.end());
  result.attempts = std::move(tried);
  return result;
}

}  // namespace ordinal::cli::quantize
