#include "quant/table_quantizers.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "numerics/fixed_point.hpp"
#include "numerics/half.hpp"

namespace ordinal::quant {

namespace {

using numerics::float_to_half;
using numerics::half_to_float;
using quant::RowFormat;

template <typename T>
void append(std::vector<uint8_t>* bytes, T value) {
  uint8_t raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  bytes->insert(bytes->end(), raw, raw + sizeof(T));
}

// Smallest half >= x for x >= 0 (a scale that never makes values clip).
uint16_t half_at_least(float x) {
  uint16_t h = float_to_half(x);
  if (half_to_float(h) < x && h < 0x7bff) ++h;  // positive halves are ordered by their bit patterns
  return h;
}

int32_t round_div(float x, float scale) {
  return scale > 0 ? static_cast<int32_t>(std::nearbyint(static_cast<double>(x) / scale)) : 0;
}

int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

bool is_int4(RowFormat f) {
  return f == RowFormat::kInt4Group || f == RowFormat::kInt4GroupZpU8 || f == RowFormat::kInt4GroupZpU4;
}

}  // namespace

quant::RowTable QuantizedTable::view() const {
  quant::RowTable t;
  t.format = format;
  t.rows = rows;
  t.cols = cols;
  t.group = group;
  t.data = data.empty() ? nullptr : data.data();
  t.scales = scales.empty() ? nullptr : scales.data();
  t.zero_points = zero_points.empty() ? nullptr : zero_points.data();
  return t;
}

Result<QuantizedTable> quantize_table(const float* table, int64_t rows, int cols, RowFormat format,
                                      int group) {
  if (table == nullptr || rows <= 0 || cols <= 0) return invalid_argument("quantize_table: empty table");
  if (is_int4(format) && (cols % 2 != 0 || group <= 0 || cols % group != 0)) {
    return invalid_argument("quantize_table: int4 needs even cols and a group dividing cols (cols=" +
                            std::to_string(cols) + ", group=" + std::to_string(group) + ")");
  }
  QuantizedTable q;
  q.format = format;
  q.rows = rows;
  q.cols = cols;
  q.group = is_int4(format) ? group : 0;
  const int64_t n = rows * cols;
  switch (format) {
    case RowFormat::kF32:
      for (int64_t i = 0; i < n; ++i) append(&q.data, table[i]);
      break;
    case RowFormat::kF16:
      for (int64_t i = 0; i < n; ++i) append(&q.data, float_to_half(table[i]));
      break;
    case RowFormat::kInt8RowF32Scale:
    case RowFormat::kInt8RowF16Scale:
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = table + r * cols;
        float max_abs = 0;
        for (int c = 0; c < cols; ++c) max_abs = std::fmax(max_abs, std::fabs(row[c]));
        float scale = max_abs / 127.0f;
        if (format == RowFormat::kInt8RowF16Scale) {
          const uint16_t h = half_at_least(scale);
          append(&q.scales, h);
          scale = half_to_float(h);
        } else {
          append(&q.scales, scale);
        }
        for (int c = 0; c < cols; ++c)
          q.data.push_back(static_cast<uint8_t>(clamp(round_div(row[c], scale), -127, 127)));
      }
      break;
    case RowFormat::kInt8Col: {
      std::vector<float> scale(cols, 0.0f);
      for (int64_t r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) scale[c] = std::fmax(scale[c], std::fabs(table[r * cols + c]));
      for (int c = 0; c < cols; ++c) {
        scale[c] /= 127.0f;
        append(&q.scales, scale[c]);
      }
      for (int64_t r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
          q.data.push_back(static_cast<uint8_t>(clamp(round_div(table[r * cols + c], scale[c]), -127, 127)));
      break;
    }
    case RowFormat::kInt4Group:
    case RowFormat::kInt4GroupZpU8:
    case RowFormat::kInt4GroupZpU4: {
      const bool symmetric = format == RowFormat::kInt4Group;
      std::vector<int8_t> codes(n);
      std::vector<uint8_t> ucodes(n), zeros;
      for (int64_t r = 0; r < rows; ++r) {
        for (int g0 = 0; g0 < cols; g0 += group) {
          const float* v = table + r * cols + g0;
          float lo = 0, hi = 0, max_abs = 0;
          for (int i = 0; i < group; ++i) {
            lo = std::fmin(lo, v[i]);
            hi = std::fmax(hi, v[i]);
            max_abs = std::fmax(max_abs, std::fabs(v[i]));
          }
          if (symmetric) {
            uint16_t best_h = 0;
            double best_err = -1;
            for (float divisor : {7.0f, 8.0f}) {
              const uint16_t h = half_at_least(max_abs / divisor);
              const float s = half_to_float(h);
              double err = 0;
              for (int i = 0; i < group; ++i) {
                const double d = static_cast<double>(clamp(round_div(v[i], s), -8, 7)) * s - v[i];
                err += d * d;
              }
              if (best_err < 0 || err < best_err) {
                best_err = err;
                best_h = h;
              }
            }
            append(&q.scales, best_h);
            const float s = half_to_float(best_h);
            for (int i = 0; i < group; ++i)
              codes[r * cols + g0 + i] = static_cast<int8_t>(clamp(round_div(v[i], s), -8, 7));
          } else {
            const uint16_t h = half_at_least((hi - lo) / 15.0f);
            append(&q.scales, h);
            const float s = half_to_float(h);
            const int32_t z = clamp(round_div(-lo, s), 0, 15);
            zeros.push_back(static_cast<uint8_t>(z));
            for (int i = 0; i < group; ++i)
              ucodes[r * cols + g0 + i] = static_cast<uint8_t>(clamp(round_div(v[i], s) + z, 0, 15));
          }
        }
      }
      q.data.resize(n / 2);
      if (symmetric) {
        numerics::pack_int4(codes.data(), n, q.data.data());
      } else {
        numerics::pack_uint4(ucodes.data(), n, q.data.data());
        if (format == RowFormat::kInt4GroupZpU8) {
          q.zero_points = zeros;
        } else {
          q.zero_points.resize((zeros.size() + 1) / 2);
          numerics::pack_uint4(zeros.data(), static_cast<int64_t>(zeros.size()), q.zero_points.data());
        }
      }
      break;
    }
  }
  return q;
}

std::vector<float> dequantize_table(const QuantizedTable& table) {
  std::vector<float> out(static_cast<size_t>(table.rows * table.cols));
  const quant::RowTable view = table.view();
  for (int64_t r = 0; r < table.rows; ++r) {
    const Status st = quant::dequant_row(view, r, out.data() + r * table.cols);
    if (!st.ok()) return {};
  }
  return out;
}

}  // namespace ordinal::quant
