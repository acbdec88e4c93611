// Hybrid position tables: the first K positions stored exactly as rows (int8 per-row, f16 scales), the
// remaining positions as a rank-r factorisation A [P-K, r] · B [r, d] of the tail only. The tail factors are
// fitted by truncated SVD of the tail (lowrank.hpp); with int8 storage B is quantized first and A is then
// refitted by least squares against the dequantized B, so A absorbs B's rounding.
//
// Optionally the fit is weighted by a metric M [d x d] (symmetric positive definite): the tail minimises
// sum_p (t_p - a_p B) M (t_p - a_p B)^T instead of the plain squared error, i.e. the error as the model's
// first layer sees it (see model_metric.hpp). M = identity gives the plain fit.
#pragma once

#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"
#include "quant/table_quantizers.hpp"

namespace ordinal::quant {

struct HybridOptions {
  int64_t head_rows = 16;  // K: positions stored exactly, 1 <= K < rows
  int rank = 4;            // tail rank, 1 <= rank <= min(cols, kMaxLowRank)
  bool int8 = true;        // int8 per-row (f16 scales) head and factors; false: f32 everything
  // Optional metric [cols x cols], row-major, symmetric positive definite; empty = identity.
  std::vector<double> metric;
  int max_sweeps = 60;  // Jacobi sweeps of the tail SVD (lowrank_factorize)
};

struct HybridTableFit {
  QuantizedTable head;          // [K, cols]
  QuantizedTable tail_a;        // [rows - K, rank]
  QuantizedTable tail_b;        // [rank, cols]
  double tail_energy_kept = 0;  // of the (metric-weighted) tail
};

Result<HybridTableFit> build_hybrid(const float* table, int64_t rows, int cols, const HybridOptions& o);

}  // namespace ordinal::quant
