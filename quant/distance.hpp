// Distances between table rows, accumulated in double (host side: exact enough to rank rows whose float
// differences are a few ULPs apart).
#pragma once

namespace ordinal::quant {

// Sum over c of (a[c] - b[c])^2, each difference formed in double.
inline double squared_distance(const float* a, const float* b, int cols) {
  double s = 0;
  for (int c = 0; c < cols; ++c) {
    const double d = static_cast<double>(a[c]) - b[c];
    s += d * d;
  }
  return s;
}

}  // namespace ordinal::quant
