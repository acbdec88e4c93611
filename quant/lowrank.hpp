// Low-rank position tables: T [P x d] ~= A [P x r] * B [r x d] by truncated SVD. The right singular vectors
// come from the eigen-decomposition of the d x d Gram matrix T^T T with cyclic Jacobi rotations in double
// (deterministic, no LAPACK); B = V_r^T, A = T V_r. No mean centring: row p is exactly A[p,:] * B.
// Optionally A and B are stored int8 with one symmetric scale per row (A rows: positions; B rows:
// components).
#pragma once

#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"
#include "quant/table_dequant.hpp"

namespace ordinal::quant {

struct LowRankFactors {
  int64_t rows = 0;
  int rank = 0;
  int cols = 0;
  std::vector<float> a, b;     // f32 factors
  std::vector<int8_t> qa, qb;  // int8 factors (always produced), scale = max|row| / 127
  std::vector<float> a_scales, b_scales;
  std::vector<double> singular_values;  // all d of them, descending
  double energy_kept = 0;               // sum of kept sigma^2 / total sigma^2
  int jacobi_sweeps = 0;

  quant::LowRankTable view(quant::LowRankFormat format) const;
};

// 1 <= rank <= min(cols, kMaxLowRank). max_sweeps bounds the Jacobi iterations (converges to 1e-15 off-norm).
Result<LowRankFactors> lowrank_factorize(const float* table, int64_t rows, int cols, int rank,
                                         int max_sweeps = 60);

// Reconstructed [rows x cols] through the runtime's add_row_lowrank.
std::vector<float> reconstruct_lowrank(const LowRankFactors& factors, quant::LowRankFormat format);

}  // namespace ordinal::quant
