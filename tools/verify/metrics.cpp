// Numerical core of verify: log-softmax and KL in double, quantiles, per-bucket aggregation.
#include <algorithm>
#include <cmath>
#include <limits>

#include "verify/verify.hpp"

namespace ordinal::verify {

void log_softmax(const float* logits, size_t n, double* out) {
  double mx = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  const double lse = mx + std::log(sum);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(logits[i]) - lse;
}

double kl_divergence(const double* logp, const double* logq, size_t n) {
  double kl = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double p = std::exp(logp[i]);
    if (p > 0.0) kl += p * (logp[i] - logq[i]);
  }
  return kl > 0.0 ? kl : 0.0;  // rounding can leave a tiny negative for identical inputs
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least q of the data at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  if (rank < 1) rank = 1;
  if (rank > values.size()) rank = values.size();
  return values[rank - 1];
}

std::string BucketStats::label() const {
  return "[" + std::to_string(lo) + "," + std::to_string(hi) + ")";
}

BucketStats bucket_stats(const std::vector<PositionSample>& samples, int64_t lo, int64_t hi) {
  BucketStats b;
  b.lo = lo;
  b.hi = hi;
  std::vector<double> kls;
  int64_t agree = 0;
  double kl_sum = 0.0, nll_ref = 0.0, nll_cand = 0.0;
  for (const PositionSample& s : samples) {
    if (s.position < lo || s.position >= hi) continue;
    ++b.positions;
    kls.push_back(s.kl);
    kl_sum += s.kl;
    b.kl_max = std::max(b.kl_max, s.kl);
    if (s.agree) ++agree;
    if (s.has_target) {
      ++b.targets;
      nll_ref += s.nll_ref;
      nll_cand += s.nll_cand;
    }
  }
  if (b.positions > 0) {
    b.top1 = static_cast<double>(agree) / static_cast<double>(b.positions);
    b.kl_mean = kl_sum / static_cast<double>(b.positions);
    b.kl_p99 = quantile(std::move(kls), 0.99);
  }
  if (b.targets > 0) {
    b.ppl_ref = std::exp(nll_ref / static_cast<double>(b.targets));
    b.ppl_cand = std::exp(nll_cand / static_cast<double>(b.targets));
    // exp(a)/exp(b) - 1 computed as expm1(a - b): exact 0 for identical models.
    b.ppl_delta = std::expm1((nll_cand - nll_ref) / static_cast<double>(b.targets));
  }
  return b;
}

}  // namespace ordinal::verify
