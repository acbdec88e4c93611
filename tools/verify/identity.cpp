// Position identity: can every stored position still be told apart, and is it still "itself"?
// Table schemes: reconstruct each position's vector from the stored tensors (dequantized on the host,
// independently of the runtime's kernels) and recover positions by nearest neighbour in the reference
// table. RoPE: relative-position invariance of q·k under the candidate's rotation.
#include <cmath>
#include <cstring>

#include "model_data.hpp"
#include "modelio/model_spec.hpp"
#include "numerics/prng.hpp"
#include "positional/encoder.hpp"
#include "quant/metrics.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

std::vector<float> dequantized(const format::TensorView& v) {
  return modelio::HostTensor::from_view(v).to_f32();
}

uint32_t index_at(const format::TensorView& ix, uint32_t p) {
  if (ix.dtype == format::DType::kU16) {
    uint16_t v;
    std::memcpy(&v, ix.data + 2 * size_t{p}, 2);
    return v;
  }
  if (ix.dtype == format::DType::kI32) {
    int32_t v;
    std::memcpy(&v, ix.data + 4 * size_t{p}, 4);
    return static_cast<uint32_t>(v);
  }
  return ix.data[p];
}

// Absolute bucket of position p (T5 rule: exact below num_buckets/2, then logarithmic up to max_distance).
uint32_t bucket_of(const detail::PositionalParams& p, uint32_t pos, uint32_t rows) {
  uint32_t b = 0;
  if (p.bucket_rule == detail::BucketRuleKind::kUniformStride) {
    b = pos / (p.stride ? p.stride : 1);
  } else {
    const uint32_t nb = p.num_buckets ? p.num_buckets : rows;
    const uint32_t exact = nb / 2;
    if (pos < exact || exact == 0 || p.max_distance <= exact) {
      b = pos;
    } else {
      const double l =
          std::log(static_cast<double>(pos) / exact) / std::log(static_cast<double>(p.max_distance) / exact);
      b = exact + static_cast<uint32_t>(l * (nb - exact));
    }
  }
  return b < rows ? b : rows - 1;
}

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
  const detail::PositionalParams& p = m.data().positional;
  switch (p.scheme) {
    case PositionalScheme::kLearnedTable:
      return p.table.rows();
    case PositionalScheme::kCodebookTable:
      return static_cast<uint32_t>(p.indices.elements());
    case PositionalScheme::kBucketedTable:
      return p.stored_positions ? p.stored_positions : p.table.rows();
    case PositionalScheme::kLowRankTable:
      return p.low_a.rows();
    default:
      return 0;
  }
}

PositionTable position_table(const Model& m, const std::vector<uint32_t>& which) {
  const detail::PositionalParams& p = m.data().positional;
  const uint32_t dim = m.config().dim;
  const uint32_t stored = stored_position_count(m);
  PositionTable t;
  t.dim = dim;
  for (uint32_t pos : which) {
    if (pos >= stored) {
      t.note = "position " + std::to_string(pos) + " is not stored";
      return t;
    }
  }
  t.positions = static_cast<uint32_t>(which.size());
  t.rows.assign(which.size() * size_t{dim}, 0.0f);
  // Stored tensors are dequantized whole (their size is bounded by the file's); only the positions asked
  // for are expanded from them, so a small table covering 2^24 positions costs what it stores.
  auto copy_row = [dim](const std::vector<float>& tensor, uint32_t row, float* out) {
    std::memcpy(out, &tensor[size_t{row} * dim], dim * sizeof(float));
  };
  switch (p.scheme) {
    case PositionalScheme::kLearnedTable: {
      const std::vector<float> tab = dequantized(p.table);
      for (size_t i = 0; i < which.size(); ++i) copy_row(tab, which[i], &t.rows[i * dim]);
      t.note = std::string("learned table (") + format::dtype_name(p.table.dtype) + ")";
      break;
    }
    case PositionalScheme::kCodebookTable: {
      const std::vector<float> cb = dequantized(p.codebook);
      const uint32_t k = p.codebook.rows();
      for (size_t i = 0; i < which.size(); ++i) {
        uint32_t c = index_at(p.indices, which[i]);
        if (c >= k) c = k - 1;
        copy_row(cb, c, &t.rows[i * dim]);
      }
      t.shared_by_design = k < stored;
      t.note = "codebook " + std::to_string(k) + " vectors for " + std::to_string(stored) + " positions";
      break;
    }
    case PositionalScheme::kBucketedTable: {
      const std::vector<float> tab = dequantized(p.table);
      const uint32_t rows = p.table.rows();
      for (size_t i = 0; i < which.size(); ++i) copy_row(tab, bucket_of(p, which[i], rows), &t.rows[i * dim]);
      t.shared_by_design = rows < stored;
      t.note = "bucketed " + std::to_string(rows) + " rows for " + std::to_string(stored) + " positions";
      break;
    }
    case PositionalScheme::kLowRankTable: {
      const std::vector<float> a = dequantized(p.low_a), b = dequantized(p.low_b);
      const uint32_t r = p.low_a.cols();
      for (size_t i = 0; i < which.size(); ++i) {
        for (uint32_t k = 0; k < r; ++k) {
          const double aik = a[size_t{which[i]} * r + k];
          for (uint32_t j = 0; j < dim; ++j)
            t.rows[i * dim + j] += static_cast<float>(aik * b[size_t{k} * dim + j]);
        }
      }
      t.note = "low-rank A·B, rank " + std::to_string(r);
      break;
    }
    default:
      t.note = std::string("no stored position table (") + positional_scheme_name(p.scheme) + ")";
      t.positions = 0;
      t.rows.clear();
      return t;
  }
  t.available = t.positions > 0 && t.rows.size() == size_t{t.positions} * dim;
  if (!t.available) t.note += ": could not reconstruct";
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
    auto ce = positional::PositionalEncoder::create(cand.data());
    if (!ce.ok()) {
      r.note = "candidate RoPE rotation unavailable: " + ce.status().message();
      return r;
    }
    auto re = ref.positional_scheme() == PositionalScheme::kRope
                  ? positional::PositionalEncoder::create(ref.data())
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
                            static_cast<int64_t>(cand.data().positional.bytes), c.shared_by_design);
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
