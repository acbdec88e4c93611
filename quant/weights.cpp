#include "quant/weights.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "numerics/half.hpp"

namespace ordinal::quant {

Int8Rows quantize_rows_int8(const float* w, size_t rows, size_t cols) {
  Int8Rows out;
  out.q.assign(rows * cols, 0);
  out.scales.assign(rows, 0.0f);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = w + r * cols;
    float amax = 0.0f;
    for (size_t j = 0; j < cols; ++j) amax = std::fmax(amax, std::fabs(row[j]));
    if (!(amax > 0.0f)) continue;
    const float s = amax / 127.0f;
    if (!(s > 0.0f)) continue;  // max |w| below ~1.5e-43: the scale underflows; the row quantizes to zero
    out.scales[r] = s;
    for (size_t j = 0; j < cols; ++j) {
      long v = std::lrint(static_cast<double>(row[j]) / s);  // nearest, ties to even
      v = v > 127 ? 127 : (v < -127 ? -127 : v);
      out.q[r * cols + j] = static_cast<int8_t>(v);
    }
  }
  return out;
}

}  // namespace ordinal::quant

namespace ordinal::quant {

namespace {

// Rounds half to even in double (exact for the ranges used: |v| < 2^31).
inline double round_even(double v) {
  return std::nearbyint(v);
}

// Code of w for scale d in the int4 formats (z = 8 and a [-8, 7] clamp for signed, [0, 15] with z).
inline int int4_code(double w, double d, int lo, int hi, int z) {
  if (d == 0) return z < 0 ? 0 : z;
  double v = round_even(w / d) + (z < 0 ? 0 : z);
  v = v < lo ? lo : (v > hi ? hi : v);
  return static_cast<int>(v);
}

}  // namespace

Result<GroupQuantized> quantize_groups(const float* w, size_t rows, size_t cols, size_t group,
                                       GroupFormat f) {
  const bool int4 = f != GroupFormat::kInt8;
  if (group == 0 || cols % group != 0 || (int4 && group % 2 != 0)) {
    return invalid_argument("group size " + std::to_string(group) + " does not divide " +
                            std::to_string(cols) + " columns" + (int4 ? " into even groups" : ""));
  }
  const size_t groups = cols / group;
  GroupQuantized out;
  out.codes.assign(int4 ? rows * (cols / 2) : rows * cols, 0);
  out.scales.assign(rows * groups, 0);
  if (f == GroupFormat::kInt4Zero) out.zero_points.assign(rows * groups, 0);
  std::vector<int> codes(group);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t k = 0; k < groups; ++k) {
      const float* g = w + r * cols + k * group;
      double amax = 0, lo = 0, hi = 0;
      for (size_t i = 0; i < group; ++i) {
        if (!std::isfinite(g[i])) {
          return invalid_argument("weight [" + std::to_string(r) + ", " + std::to_string(k * group + i) +
                                  "] is not finite");
        }
        const double a = std::fabs(static_cast<double>(g[i]));
        amax = std::max(amax, a);
        lo = std::min(lo, static_cast<double>(g[i]));
        hi = std::max(hi, static_cast<double>(g[i]));
      }
      uint16_t scale = 0;
      int zero = -1;
      if (amax > 0) {
        auto to_half = [&](double d, uint16_t* h) -> Status {
          *h = numerics::float_to_half(static_cast<float>(d));
          if (!std::isfinite(numerics::half_to_float(*h))) {
            return invalid_argument("row " + std::to_string(r) + ": group scale " + std::to_string(d) +
                                    " does not fit f16 (weights up to " + std::to_string(amax) + ")");
          }
          return Status::Ok();
        };
        if (f == GroupFormat::kInt8) {
          ORDINAL_RETURN_IF_ERROR(to_half(amax / 127.0, &scale));
          const double d = numerics::half_to_float(scale);
          for (size_t i = 0; i < group; ++i) {
            double v = d > 0 ? round_even(g[i] / d) : 0;
            v = v > 127 ? 127 : (v < -127 ? -127 : v);
            codes[i] = static_cast<int>(v);
          }
        } else if (f == GroupFormat::kInt4) {
          // Scales are non-negative (the loader's rule); the asymmetric range lets a negative extreme use
          // code -8 (c near 8) while a positive one tops out at 7 (c near 7): the search finds which pays.
          double best_err = -1;
          for (int c8 = 52; c8 <= 68; ++c8) {  // c = 6.5 .. 8.5 in steps of 1/8
            uint16_t h;
            ORDINAL_RETURN_IF_ERROR(to_half(amax / (c8 / 8.0), &h));
            const double d = numerics::half_to_float(h);
            double err = 0;
            for (size_t i = 0; i < group; ++i) {
              const double e = g[i] - int4_code(g[i], d, -8, 7, -1) * d;
              err += e * e;
            }
            if (best_err < 0 || err < best_err) {
              best_err = err;
              scale = h;
            }
          }
          // One least-squares step for the chosen codes: d = sum(w q) / sum(q q) minimises the error of these
          // codes; keep it (rounded to f16, codes redone) when the group's error drops.
          double d = numerics::half_to_float(scale), wq = 0, qq = 0;
          for (size_t i = 0; i < group; ++i) {
            const int q = int4_code(g[i], d, -8, 7, -1);
            wq += g[i] * static_cast<double>(q);
            qq += static_cast<double>(q) * q;
          }
          if (qq > 0 && wq > 0) {
            uint16_t h;
            ORDINAL_RETURN_IF_ERROR(to_half(wq / qq, &h));
            const double dl = numerics::half_to_float(h);
            double err = 0;
            for (size_t i = 0; i < group; ++i) {
              const double e = g[i] - int4_code(g[i], dl, -8, 7, -1) * dl;
              err += e * e;
            }
            if (err < best_err) {
              scale = h;
              d = dl;
            }
          }
          for (size_t i = 0; i < group; ++i) codes[i] = int4_code(g[i], d, -8, 7, -1);
        } else {
          ORDINAL_RETURN_IF_ERROR(to_half((hi - lo) / 15.0, &scale));
          const double d = numerics::half_to_float(scale);
          zero = d > 0 ? static_cast<int>(std::min(15.0, std::max(0.0, round_even(-lo / d)))) : 0;
          for (size_t i = 0; i < group; ++i) codes[i] = int4_code(g[i], d, 0, 15, zero);
        }
      } else if (f == GroupFormat::kInt4Zero) {
        zero = 0;
        for (size_t i = 0; i < group; ++i) codes[i] = 0;
      } else {
        for (size_t i = 0; i < group; ++i) codes[i] = 0;
      }
      out.scales[r * groups + k] = scale;
      if (f == GroupFormat::kInt4Zero) out.zero_points[r * groups + k] = static_cast<uint8_t>(zero);
      for (size_t i = 0; i < group; ++i) {
        const size_t col = k * group + i;
        if (!int4) {
          out.codes[r * cols + col] = static_cast<uint8_t>(static_cast<int8_t>(codes[i]));
        } else {
          const uint8_t nib = static_cast<uint8_t>(codes[i] & 0x0F);
          out.codes[r * (cols / 2) + col / 2] |= static_cast<uint8_t>(col % 2 == 0 ? nib : nib << 4);
        }
      }
    }
  }
  return out;
}

std::vector<double> dequantize_groups(const GroupQuantized& q, size_t rows, size_t cols, size_t group,
                                      GroupFormat f) {
  std::vector<double> out(rows * cols);
  const size_t groups = cols / group;
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const size_t gi = r * groups + c / group;
      const double d = numerics::half_to_float(q.scales[gi]);
      int code;
      if (f == GroupFormat::kInt8) {
        code = static_cast<int8_t>(q.codes[r * cols + c]);
      } else {
        const uint8_t b = q.codes[r * (cols / 2) + c / 2];
        const int nib = c % 2 == 0 ? (b & 0x0F) : (b >> 4);
        code = f == GroupFormat::kInt4 ? ((nib ^ 8) - 8) : nib - q.zero_points[gi];
      }
      out[r * cols + c] = code * d;
    }
  }
  return out;
}

}  // namespace ordinal::quant
