#include "quant/hybrid.hpp"

#include <cmath>
#include <string>

#include "quant/lowrank.hpp"
#include "quant/table_dequant.hpp"

namespace ordinal::quant {

namespace {

// In-place Cholesky M = L L^T of an n x n SPD matrix (row-major, lower triangle written, upper zeroed).
bool cholesky(std::vector<double>* m, int n) {
  std::vector<double>& a = *m;
  for (int j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0) || !std::isfinite(d)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
    for (int i = 0; i < j; ++i) a[i * n + j] = 0.0;
  }
  return true;
}

// Solves the r x r SPD system G x = y in place (y overwritten by x); G is factored on a copy.
bool solve_spd(std::vector<double> g, int r, double* y) {
  if (!cholesky(&g, r)) return false;
  for (int i = 0; i < r; ++i) {  // L z = y
    double s = y[i];
    for (int k = 0; k < i; ++k) s -= g[i * r + k] * y[k];
    y[i] = s / g[i * r + i];
  }
  for (int i = r - 1; i >= 0; --i) {  // L^T x = z
    double s = y[i];
    for (int k = i + 1; k < r; ++k) s -= g[k * r + i] * y[k];
    y[i] = s / g[i * r + i];
  }
  return true;
}

}  // namespace

Result<HybridTableFit> build_hybrid(const float* table, int64_t rows, int cols, const HybridOptions& o) {
  if (rows < 2 || cols < 1) return invalid_argument("hybrid table: needs at least 2 rows and 1 column");
  if (o.head_rows < 1 || o.head_rows >= rows)
    return invalid_argument("hybrid table: head rows " + std::to_string(o.head_rows) + " must be in [1, " +
                            std::to_string(rows - 1) + "]");
  if (o.rank < 1 || o.rank > cols || o.rank > kMaxLowRank)
    return invalid_argument("hybrid table: rank " + std::to_string(o.rank) + " must be in [1, min(dim, " +
                            std::to_string(kMaxLowRank) + ")]");
  const bool weighted = !o.metric.empty();
  if (weighted && o.metric.size() != static_cast<size_t>(cols) * cols)
    return invalid_argument("hybrid table: metric must be dim x dim");
  const int64_t K = o.head_rows, tail = rows - K;
  const int r = o.rank, d = cols;
  const quant::RowFormat fmt = o.int8 ? quant::RowFormat::kInt8RowF16Scale : quant::RowFormat::kF32;
  HybridTableFit fit;
  ORDINAL_ASSIGN_OR_RETURN(fit.head, quantize_table(table, K, d, fmt));

  // Metric square root: M = L L^T; fit (T L) ~ A B', then B = B' L^{-1} so (T - A B) L = T L - A B'.
  std::vector<double> chol;
  if (weighted) {
    chol = o.metric;
    if (!cholesky(&chol, d)) return invalid_argument("hybrid table: metric is not positive definite");
  }
  const float* t = table + K * d;
  std::vector<float> tl;
  if (weighted) {
    tl.assign(static_cast<size_t>(tail) * d, 0.0f);
    for (int64_t p = 0; p < tail; ++p) {
      for (int j = 0; j < d; ++j) {
        double s = 0;
        for (int i = j; i < d; ++i) s += static_cast<double>(t[p * d + i]) * chol[i * d + j];  // (t L)_j
        tl[p * d + j] = static_cast<float>(s);
      }
    }
  }
  ORDINAL_ASSIGN_OR_RETURN(LowRankFactors f,
                           lowrank_factorize(weighted ? tl.data() : t, tail, d, r, o.max_sweeps));
  fit.tail_energy_kept = f.energy_kept;
  std::vector<float> b = f.b;  // [r, d]
  if (weighted) {
    // B = B' L^{-1}: for each row solve x L = b'  (L lower triangular): back substitution from the last col.
    for (int k = 0; k < r; ++k) {
      double* tmp = nullptr;
      std::vector<double> x(static_cast<size_t>(d));
      tmp = x.data();
      for (int j = d - 1; j >= 0; --j) {
        double s = f.b[k * d + j];
        for (int i = j + 1; i < d; ++i) s -= tmp[i] * chol[i * d + j];
        tmp[j] = s / chol[j * d + j];
      }
      for (int j = 0; j < d; ++j) b[k * d + j] = static_cast<float>(tmp[j]);
    }
  }
  ORDINAL_ASSIGN_OR_RETURN(fit.tail_b, quantize_table(b.data(), r, d, fmt));
  const std::vector<float> bq = dequantize_table(fit.tail_b);

  // Refit A against the stored B: a_p = t_p M Bq^T (Bq M Bq^T)^{-1}.
  std::vector<double> mb(static_cast<size_t>(r) * d);  // (Bq M) rows
  for (int k = 0; k < r; ++k) {
    for (int j = 0; j < d; ++j) {
      if (!weighted) {
        mb[k * d + j] = bq[k * d + j];
        continue;
      }
      double s = 0;
      for (int i = 0; i < d; ++i) s += static_cast<double>(bq[k * d + i]) * o.metric[i * d + j];
      mb[k * d + j] = s;
    }
  }
  std::vector<double> gram(static_cast<size_t>(r) * r);
  for (int k = 0; k < r; ++k)
    for (int l = 0; l < r; ++l) {
      double s = 0;
      for (int j = 0; j < d; ++j) s += mb[k * d + j] * bq[l * d + j];
      gram[k * r + l] = s;
    }
  // A tiny ridge keeps a rank-deficient B (a constant tail) solvable without changing a well-posed fit.
  double trace = 0;
  for (int k = 0; k < r; ++k) trace += gram[k * r + k];
  for (int k = 0; k < r; ++k) gram[k * r + k] += 1e-12 * (trace / r) + 1e-300;
  std::vector<float> a(static_cast<size_t>(tail) * r);
  std::vector<double> y(static_cast<size_t>(r));
  for (int64_t p = 0; p < tail; ++p) {
    for (int k = 0; k < r; ++k) {
      double s = 0;
      for (int j = 0; j < d; ++j) s += static_cast<double>(t[p * d + j]) * mb[k * d + j];
      y[k] = s;
    }
    if (!solve_spd(gram, r, y.data())) return invalid_argument("hybrid table: tail factor B is degenerate");
    for (int k = 0; k < r; ++k) a[p * r + k] = static_cast<float>(y[k]);
  }
  ORDINAL_ASSIGN_OR_RETURN(fit.tail_a, quantize_table(a.data(), tail, r, fmt));
  return fit;
}

}  // namespace ordinal::quant
