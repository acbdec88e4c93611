#include "quant/lowrank.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace ordinal::quant {

namespace {

// Cyclic Jacobi eigen-decomposition of a symmetric n x n matrix (row-major, destroyed). Eigenvectors are the
// columns of v. Returns the sweeps used.
int jacobi_eigen(std::vector<double>* m, int n, std::vector<double>* v, int max_sweeps) {
  std::vector<double>& a = *m;
  v->assign(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i) (*v)[static_cast<size_t>(i) * n + i] = 1.0;
  double total = 0;
  for (double x : a) total += x * x;
  int sweep = 0;
  for (; sweep < max_sweeps; ++sweep) {
    double off = 0;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        off += a[static_cast<size_t>(i) * n + j] * a[static_cast<size_t>(i) * n + j];
    if (off <= 1e-30 * total || off == 0) break;
    for (int p = 0; p < n; ++p) {
      for (int q = p + 1; q < n; ++q) {
        const double apq = a[static_cast<size_t>(p) * n + q];
        if (apq == 0) continue;
        const double app = a[static_cast<size_t>(p) * n + p], aqq = a[static_cast<size_t>(q) * n + q];
        const double theta = (aqq - app) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {  // columns p, q
          const double akp = a[static_cast<size_t>(k) * n + p], akq = a[static_cast<size_t>(k) * n + q];
          a[static_cast<size_t>(k) * n + p] = c * akp - s * akq;
          a[static_cast<size_t>(k) * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {  // rows p, q
          const double apk = a[static_cast<size_t>(p) * n + k], aqk = a[static_cast<size_t>(q) * n + k];
          a[static_cast<size_t>(p) * n + k] = c * apk - s * aqk;
          a[static_cast<size_t>(q) * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          const double vkp = (*v)[static_cast<size_t>(k) * n + p], vkq = (*v)[static_cast<size_t>(k) * n + q];
          (*v)[static_cast<size_t>(k) * n + p] = c * vkp - s * vkq;
          (*v)[static_cast<size_t>(k) * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return sweep;
}

void quantize_rows_int8(const std::vector<float>& m, int64_t rows, int cols, std::vector<int8_t>* q,
                        std::vector<float>* scales) {
  q->resize(m.size());
  scales->resize(rows);
  for (int64_t r = 0; r < rows; ++r) {
    float max_abs = 0;
    for (int c = 0; c < cols; ++c) max_abs = std::fmax(max_abs, std::fabs(m[r * cols + c]));
    const float s = max_abs / 127.0f;
    (*scales)[r] = s;
    for (int c = 0; c < cols; ++c) {
      const double v = s > 0 ? std::nearbyint(static_cast<double>(m[r * cols + c]) / s) : 0.0;
      (*q)[r * cols + c] = static_cast<int8_t>(std::max(-127.0, std::min(127.0, v)));
    }
  }
}

}  // namespace

quant::LowRankTable LowRankFactors::view(quant::LowRankFormat format) const {
  quant::LowRankTable t;
  t.format = format;
  t.rows = rows;
  t.rank = rank;
  t.cols = cols;
  t.a = a.data();
  t.b = b.data();
  t.qa = qa.data();
  t.a_scales = a_scales.data();
  t.qb = qb.data();
  t.b_scales = b_scales.data();
  return t;
}

Result<LowRankFactors> lowrank_factorize(const float* table, int64_t rows, int cols, int rank,
                                         int max_sweeps) {
  if (table == nullptr || rows <= 0 || cols <= 0) return invalid_argument("lowrank: empty table");
  if (rank < 1 || rank > cols || rank > quant::kMaxLowRank) {
    return invalid_argument("lowrank: rank " + std::to_string(rank) + " must be in [1, min(cols, 256)]");
  }
  const int d = cols;
  std::vector<double> gram(static_cast<size_t>(d) * d, 0.0);
  for (int64_t p = 0; p < rows; ++p) {
    const float* t = table + p * d;
    for (int i = 0; i < d; ++i)
      for (int j = i; j < d; ++j) gram[static_cast<size_t>(i) * d + j] += static_cast<double>(t[i]) * t[j];
  }
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < i; ++j) gram[static_cast<size_t>(i) * d + j] = gram[static_cast<size_t>(j) * d + i];
  std::vector<double> vectors;
  LowRankFactors f;
  f.jacobi_sweeps = jacobi_eigen(&gram, d, &vectors, max_sweeps);
  std::vector<int> order(d);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return gram[static_cast<size_t>(x) * d + x] > gram[static_cast<size_t>(y) * d + y];
  });
  double total = 0, kept = 0;
  for (int i = 0; i < d; ++i) {
    const double ev = std::max(0.0, gram[static_cast<size_t>(order[i]) * d + order[i]]);
    f.singular_values.push_back(std::sqrt(ev));
    total += ev;
    if (i < rank) kept += ev;
  }
  f.energy_kept = total > 0 ? kept / total : 1.0;
  f.rows = rows;
  f.rank = rank;
  f.cols = cols;
  f.b.resize(static_cast<size_t>(rank) * d);
  for (int k = 0; k < rank; ++k)
    for (int c = 0; c < d; ++c)
      f.b[static_cast<size_t>(k) * d + c] =
          static_cast<float>(vectors[static_cast<size_t>(c) * d + order[k]]);
  f.a.resize(static_cast<size_t>(rows) * rank);
  for (int64_t p = 0; p < rows; ++p)
    for (int k = 0; k < rank; ++k) {
      double s = 0;
      for (int c = 0; c < d; ++c)
        s += static_cast<double>(table[p * d + c]) * vectors[static_cast<size_t>(c) * d + order[k]];
      f.a[p * rank + k] = static_cast<float>(s);
    }
  quantize_rows_int8(f.a, rows, rank, &f.qa, &f.a_scales);
  quantize_rows_int8(f.b, rank, d, &f.qb, &f.b_scales);
  return f;
}

std::vector<float> reconstruct_lowrank(const LowRankFactors& f, quant::LowRankFormat format) {
  std::vector<float> out(static_cast<size_t>(f.rows) * f.cols, 0.0f);
  const quant::LowRankTable view = f.view(format);
  for (int64_t p = 0; p < f.rows; ++p)
    if (!quant::add_row_lowrank(view, p, out.data() + p * f.cols).ok()) return {};
  return out;
}

}  // namespace ordinal::quant
