#include "quant/codebook.hpp"

#include <limits>
#include <string>

#include "numerics/prng.hpp"
#include "quant/distance.hpp"

namespace ordinal::quant {

namespace {

// Nearest of k rows (ties -> lowest index).
int nearest(const float* x, const float* rows, int k, int cols, double* distance) {
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int j = 0; j < k; ++j) {
    const double d = squared_distance(x, rows + static_cast<int64_t>(j) * cols, cols);
    if (d < best_d) {
      best_d = d;
      best = j;
    }
  }
  if (distance) *distance = best_d;
  return best;
}

// k-means++: first centre uniform, then each next centre with probability proportional to D^2.
std::vector<float> seed_centroids(const float* table, int64_t positions, int cols, int k,
                                  numerics::SplitMix64* rng) {
  std::vector<float> centroids;
  centroids.reserve(static_cast<size_t>(k) * cols);
  std::vector<double> d2(positions, std::numeric_limits<double>::infinity());
  std::vector<bool> chosen(positions, false);
  int64_t pick = static_cast<int64_t>(rng->below(static_cast<uint64_t>(positions)));
  for (int j = 0; j < k; ++j) {
    chosen[pick] = true;
    centroids.insert(centroids.end(), table + pick * cols, table + (pick + 1) * cols);
    const float* c = table + pick * cols;
    double total = 0;
    for (int64_t p = 0; p < positions; ++p) {
      const double d = squared_distance(table + p * cols, c, cols);
      if (d < d2[p]) d2[p] = d;
      total += d2[p];
    }
    if (j + 1 == k) break;
    if (total > 0) {
      double target = rng->uniform01() * total;
      pick = -1;
      for (int64_t p = 0; p < positions; ++p) {
        if (d2[p] <= 0) continue;
        pick = p;
        target -= d2[p];
        if (target < 0) break;
      }
    } else {
      // Every row coincides with a chosen centre: take the next unchosen row (duplicate rows).
      pick = 0;
      while (pick < positions && chosen[pick]) ++pick;
      if (pick == positions) pick = 0;
    }
  }
  return centroids;
}

}  // namespace

quant::CodebookTable Codebook::view() const {
  quant::CodebookTable t;
  t.codebook = storage.view();
  t.num_positions = num_positions;
  if (k <= 256) {
    t.indices_u8 = indices_u8.data();
  } else {
    t.indices_u16 = indices_u16.data();
  }
  return t;
}

int64_t Codebook::bytes() const {
  return storage.bytes() + num_positions * (k <= 256 ? 1 : 2);
}

Result<Codebook> build_codebook(const float* table, int64_t positions, int cols,
                                const CodebookOptions& options) {
  if (table == nullptr || positions <= 0 || cols <= 0) return invalid_argument("codebook: empty table");
  if (options.k < 1 || options.k > 65536) {
    return invalid_argument("codebook: k=" + std::to_string(options.k) + " must be in [1, 65536]");
  }
  const int k = options.k < positions ? options.k : static_cast<int>(positions);
  numerics::SplitMix64 rng(options.seed);
  Codebook cb;
  cb.k = k;
  cb.cols = cols;
  cb.num_positions = positions;
  cb.centroids = seed_centroids(table, positions, cols, k, &rng);

  std::vector<int> assignment(positions, -1);
  std::vector<double> sums(static_cast<size_t>(k) * cols);
  std::vector<int64_t> counts(k);
  std::vector<double> distance(positions);
  for (int it = 0; it < options.max_iterations; ++it) {
    bool changed = false;
    for (int64_t p = 0; p < positions; ++p) {
      const int j = nearest(table + p * cols, cb.centroids.data(), k, cols, &distance[p]);
      if (j != assignment[p]) changed = true;
      assignment[p] = j;
    }
    cb.iterations = it + 1;
    if (!changed) break;
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t p = 0; p < positions; ++p) {
      ++counts[assignment[p]];
      for (int c = 0; c < cols; ++c)
        sums[static_cast<size_t>(assignment[p]) * cols + c] += table[p * cols + c];
    }
    for (int j = 0; j < k; ++j) {
      if (counts[j] == 0) {
        // Empty cluster: move it to the position currently farthest from its centre.
        int64_t far = 0;
        for (int64_t p = 1; p < positions; ++p)
          if (distance[p] > distance[far]) far = p;
        for (int c = 0; c < cols; ++c)
          cb.centroids[static_cast<size_t>(j) * cols + c] = table[far * cols + c];
        distance[far] = 0;
        continue;
      }
      for (int c = 0; c < cols; ++c)
        cb.centroids[static_cast<size_t>(j) * cols + c] =
            static_cast<float>(sums[static_cast<size_t>(j) * cols + c] / static_cast<double>(counts[j]));
    }
  }

  auto stored = quantize_table(cb.centroids.data(), k, cols, options.codebook_format, options.group);
  if (!stored.ok()) return stored.status();
  cb.storage = std::move(stored).value();
  const std::vector<float> stored_rows = dequantize_table(cb.storage);
  if (stored_rows.empty()) return internal_error("codebook: stored codebook does not dequantize");
  if (options.reassign_after_quantization) {
    for (int64_t p = 0; p < positions; ++p)
      assignment[p] = nearest(table + p * cols, stored_rows.data(), k, cols, nullptr);
  }
  cb.inertia = 0;
  for (int64_t p = 0; p < positions; ++p)
    cb.inertia += squared_distance(table + p * cols,
                                   stored_rows.data() + static_cast<int64_t>(assignment[p]) * cols, cols);
  if (k <= 256) {
    cb.indices_u8.resize(positions);
    for (int64_t p = 0; p < positions; ++p) cb.indices_u8[p] = static_cast<uint8_t>(assignment[p]);
  } else {
    cb.indices_u16.resize(positions);
    for (int64_t p = 0; p < positions; ++p) cb.indices_u16[p] = static_cast<uint16_t>(assignment[p]);
  }
  return cb;
}

std::vector<float> reconstruct_codebook(const Codebook& codebook) {
  std::vector<float> out(static_cast<size_t>(codebook.num_positions * codebook.cols), 0.0f);
  const quant::CodebookTable view = codebook.view();
  for (int64_t p = 0; p < codebook.num_positions; ++p) {
    if (!quant::add_row_codebook(view, p, out.data() + p * codebook.cols).ok()) return {};
  }
  return out;
}

}  // namespace ordinal::quant
