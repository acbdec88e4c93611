// Position identity: can every stored position still be told apart, and is it still "itself"?
// Table schemes: reconstruct each position's vector exactly as the runtime adds it (the positional
// module's stored_row) and recover positions by nearest neighbour in the reference table. RoPE:
// relative-position invariance of q·k under the candidate's rotation.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "introspect/model_introspection.hpp"
#include "modelio/model_spec.hpp"
#include "numerics/prng.hpp"
#include "positional/encoder.hpp"
#include "quant/metrics.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

double dist2(const float* a, const float* b, uint32_t n) {
  double d = 0.0;
  for (uint32_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    d += x * x;
  }
  return d;
}

}  // namespace

uint32_t stored_position_count(const Model& m) {
  auto enc = introspect::positional_encoder(m);
  return enc.ok() && enc->has_stored_rows() ? enc->stored_positions() : 0;
}

PositionTable position_table(const Model& m, const std::vector<uint32_t>& which) {
  const detail::PositionalParams& params = introspect::positional(m);
  const uint32_t dim = m.config().dim;
  PositionTable t;
  t.dim = dim;
  // The runtime's own reconstruction (the positional module's stored_row: the kernels a session uses), one
  // row at a time, so a small table covering 2^24 positions costs what is asked for.
  auto enc = introspect::positional_encoder(m);
  if (!enc.ok()) {
    t.note = "positional module unavailable: " + enc.status().message();
    return t;
  }
  if (!enc->has_stored_rows()) {
    t.note = std::string("no stored position table (") + positional_scheme_name(params.scheme) + ")";
    return t;
  }
  for (uint32_t pos : which) {
    if (pos >= enc->stored_positions()) {
      t.note = "position " + std::to_string(pos) + " is not stored";
      return t;
    }
  }
  t.positions = static_cast<uint32_t>(which.size());
  t.rows.assign(which.size() * size_t{dim}, 0.0f);
  std::vector<float> scratch(std::max<size_t>(enc->scratch_floats(), 1));
  for (size_t i = 0; i < which.size(); ++i) enc->stored_row(which[i], &t.rows[i * dim], scratch.data());
  t.shared_by_design = enc->distinct_rows() < enc->stored_positions();
  t.note = std::string(positional_scheme_name(params.scheme)) + " (" + std::to_string(enc->distinct_rows()) +
           " stored vectors for " + std::to_string(enc->stored_positions()) + " positions, " +
           std::to_string(params.bytes) + " bytes)";
  t.available = t.positions > 0;
  return t;
}

PositionTable position_table(const Model& m) {
  std::vector<uint32_t> all(stored_position_count(m));
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  return position_table(m, all);
}

IdentityResult position_identity(const Model& ref, const Model& cand, uint64_t seed) {
  IdentityResult r;
  const PositionalScheme cs = cand.positional_scheme();
  if (cs == PositionalScheme::kRope) {
    r.kind = "rope";
    auto ce = introspect::positional_encoder(cand);
    if (!ce.ok()) {
      r.note = "candidate RoPE rotation unavailable: " + ce.status().message();
      return r;
    }
    auto re = ref.positional_scheme() == PositionalScheme::kRope
                  ? introspect::positional_encoder(ref)
                  : Result<positional::PositionalEncoder>(unsupported("not rope"));
    const uint32_t hd = cand.config().head_dim;
    const int64_t span =
        std::min<int64_t>(std::max<uint32_t>(cand.config().max_positions, 2), cand.position_limit());
    numerics::SplitMix64 rng(seed ^ 0x5157u);
    std::vector<float> q(hd), k(hd), a(hd), b(hd);
    auto dot_at = [&](const positional::PositionalEncoder& e, int64_t m, int64_t n) {
      std::copy(q.begin(), q.end(), a.begin());
      std::copy(k.begin(), k.end(), b.begin());
      e.rotate(m, a.data(), 1);
      e.rotate(n, b.data(), 1);
      double d = 0.0;
      for (uint32_t i = 0; i < hd; ++i) d += static_cast<double>(a[i]) * b[i];
      return d;
    };
    const int64_t trials = 512;
    double sum = 0.0;
    for (int64_t t = 0; t < trials; ++t) {
      double qn = 0.0, kn = 0.0;
      for (uint32_t i = 0; i < hd; ++i) {
        q[i] = static_cast<float>(2.0 * rng.uniform01() - 1.0);
        k[i] = static_cast<float>(2.0 * rng.uniform01() - 1.0);
        qn += double{q[i]} * q[i];
        kn += double{k[i]} * k[i];
      }
      const int64_t m = rng.between(0, span - 2), n = rng.between(0, span - 2);
      const int64_t s = rng.between(1, span - 1 - std::max(m, n));
      const double err = std::fabs(dot_at(ce.value(), m, n) - dot_at(ce.value(), m + s, n + s));
      r.shift_max_abs = std::max(r.shift_max_abs, err);
      r.shift_max_rel = std::max(r.shift_max_rel, err / std::sqrt(qn * kn));
      sum += err;
      if (re.ok()) {
        r.ref_shift_max_abs = std::max(
            r.ref_shift_max_abs, std::fabs(dot_at(re.value(), m, n) - dot_at(re.value(), m + s, n + s)));
      }
    }
    r.trials = trials;
    r.shift_mean_abs = sum / trials;
    r.note = "|q·k at (m,n) - q·k at (m+s,n+s)| over random q,k in [-1,1]^" + std::to_string(hd) +
             ", positions < " + std::to_string(span);
    return r;
  }

  // Positions both tables store. Up to kIdentityExactPositions every one is compared (all pairs: O(n^2));
  // beyond, an evenly spaced sample of that many (first and last included) is, and the note says so.
  const uint32_t both = std::min(stored_position_count(cand), stored_position_count(ref));
  std::vector<uint32_t> which;
  const bool sampled = both > kIdentityExactPositions;
  const uint32_t count = sampled ? kIdentityExactPositions : both;
  which.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    which.push_back(sampled ? static_cast<uint32_t>(uint64_t{i} * (both - 1) / (count - 1)) : i);
  }
  const PositionTable c = position_table(cand, which);
  if (!c.available) {
    r.note = "candidate: " + c.note;
    return r;
  }
  const PositionTable t = position_table(ref, which);
  if (!t.available) {
    r.note = "reference: " + t.note;
    return r;
  }
  if (t.dim != c.dim) {
    r.note = "reference and candidate position vectors differ in width";
    return r;
  }
  r.kind = "table";
  r.note = "candidate " + c.note + "; reference " + t.note;
  r.sampled = sampled;
  if (sampled) {
    r.note += "; sampled: " + std::to_string(count) + " evenly spaced of " + std::to_string(both) +
              " positions (nearest neighbours among the sample)";
  }
  r.shared_by_design = c.shared_by_design;
  const uint32_t dim = c.dim;
  const uint32_t n = std::min(c.positions, t.positions);
  r.positions = n;
  // Recovery, pair distances and collapsed rows come from quant/metrics (the same figures `ordinal
  // quantize` prints), over the positions both tables store.
  const quant::TableMetrics m =
      quant::compare_tables(t.rows.data(), c.rows.data(), n, static_cast<int>(dim),
                            static_cast<int64_t>(introspect::positional(cand).bytes), c.shared_by_design);
  r.recovery = m.nn_recovery_rate;
  r.min_distance = m.min_pair_distance;
  r.collapsed_pairs = m.collapsed_pairs;
  r.max_abs_error = m.max_abs_error;
  r.rms_error = m.rms_error;
  double rel_sum = 0.0;
  for (uint32_t p = 0; p < n; ++p) {
    const float* rp = &t.rows[size_t{p} * dim];
    double rn2 = 0.0;
    for (uint32_t j = 0; j < dim; ++j) rn2 += double{rp[j]} * rp[j];
    const double err = std::sqrt(dist2(&c.rows[size_t{p} * dim], rp, dim));
    const double rel = rn2 > 0 ? err / std::sqrt(rn2) : err;
    rel_sum += rel;
    r.max_rel_error = std::max(r.max_rel_error, rel);
  }
  r.mean_rel_error = n ? rel_sum / n : 0.0;
  return r;
}

}  // namespace ordinal::verify
