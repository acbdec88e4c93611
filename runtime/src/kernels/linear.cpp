#include "kernels/linear.hpp"

#include <cstring>
#include <limits>
#include <vector>

#include "kernels/simd.hpp"
#include "numerics/half.hpp"

namespace ordinal::kernels {

Linear::~Linear() {
  if (op_) xnn_delete_operator(op_);
}

Linear::Linear(Linear&& o) noexcept : op_(o.op_), in_(o.in_), out_(o.out_), weight_bytes_(o.weight_bytes_) {
  o.op_ = nullptr;
}

Linear& Linear::operator=(Linear&& o) noexcept {
  if (this != &o) {
    if (op_) xnn_delete_operator(op_);
    op_ = o.op_;
    in_ = o.in_;
    out_ = o.out_;
    weight_bytes_ = o.weight_bytes_;
    o.op_ = nullptr;
  }
  return *this;
}

namespace {

// int4 elements [j0, j1) of a row that starts on a byte boundary, with one scale and zero point. An odd
// group size can start a span on a high nibble: that element is done here, the rest on the SIMD table.
void dequant_i4_span(const uint8_t* row, uint32_t j0, uint32_t j1, uint8_t flip, int32_t zero, float scale,
                     float* out) {
  if (j0 % 2 != 0 && j0 < j1) {
    out[j0] = static_cast<float>(static_cast<int32_t>((row[j0 / 2] >> 4) ^ flip) - zero) * scale;
    ++j0;
  }
  active_kernels().dequant_i4(row + j0 / 2, flip, zero, scale, out + j0, j1 - j0, false);
}

}  // namespace

void dequantize_row(const format::TensorView& m, uint32_t row, float* out) {
  const uint32_t cols = m.cols();
  const uint8_t* src = m.data + static_cast<uint64_t>(row) * m.row_bytes();
  switch (m.dtype) {
    case format::DType::kF32: std::memcpy(out, src, cols * sizeof(float)); break;
    case format::DType::kF16:
      for (uint32_t j = 0; j < cols; ++j) {
        uint16_t h;
        std::memcpy(&h, src + 2 * j, 2);
        out[j] = numerics::half_to_float(h);
      }
      break;
    case format::DType::kI8: {
      // One rounding per element, float(q) * scale, on the SIMD table (same bits on every path).
      const int8_t* q = reinterpret_cast<const int8_t*>(src);
      const KernelTable& kt = active_kernels();
      if (m.quant.granularity == format::QuantGranularity::kPerColumn) {
        for (uint32_t j = 0; j < cols; ++j) out[j] = static_cast<float>(q[j]) * format::scale_at(m.quant, j);
      } else if (m.quant.granularity == format::QuantGranularity::kPerGroup) {
        const uint32_t g = m.quant.group_size, groups = cols / g;
        for (uint32_t k = 0; k < groups; ++k) {
          kt.dequant_i8(q + k * g, format::scale_at(m.quant, uint64_t{row} * groups + k), out + k * g, g, false);
        }
      } else {
        const float s = format::scale_at(m.quant, m.quant.granularity == format::QuantGranularity::kPerRow ? row : 0);
        kt.dequant_i8(q, s, out, cols, false);
      }
      break;
    }
    case format::DType::kI4: {
      // Two values per byte, low nibble first. Without zero points a nibble is signed [-8, 7]; with
      // them it is unsigned [0, 15] and the group's zero point is subtracted.
      const uint32_t g = m.quant.granularity == format::QuantGranularity::kPerGroup ? m.quant.group_size : cols;
      const uint32_t groups = cols / g;
      if (m.quant.granularity != format::QuantGranularity::kPerColumn) {
        // A scale (and zero point) per span of g elements: (nibble ^ flip) - zero on the SIMD table.
        for (uint32_t k = 0; k < groups; ++k) {
          const uint64_t si = m.quant.granularity == format::QuantGranularity::kPerGroup ? uint64_t{row} * groups + k
                              : m.quant.granularity == format::QuantGranularity::kPerRow ? row
                                                                                         : 0;
          const uint8_t flip = m.quant.zero_points ? 0 : 8;
          const int32_t zero = m.quant.zero_points ? m.quant.zero_points[si] : 8;
          dequant_i4_span(src, k * g, k * g + g, flip, zero, format::scale_at(m.quant, si), out);
        }
        break;
      }
      for (uint32_t j = 0; j < cols; ++j) {
        const uint8_t nib = (j % 2 == 0) ? (src[j / 2] & 0x0F) : (src[j / 2] >> 4);
        uint64_t si = 0;
        switch (m.quant.granularity) {
          case format::QuantGranularity::kPerGroup: si = uint64_t{row} * groups + j / g; break;
          case format::QuantGranularity::kPerRow: si = row; break;
          case format::QuantGranularity::kPerColumn: si = j; break;
          default: si = 0;
        }
        const int q = m.quant.zero_points ? static_cast<int>(nib) - m.quant.zero_points[si] : ((nib ^ 8) - 8);
        out[j] = static_cast<float>(q) * format::scale_at(m.quant, si);
      }
      break;
    }
    default:
      // The loader only admits f32/f16/i8 for matrices read through here.
      std::memset(out, 0, cols * sizeof(float));
  }
}

Result<Linear> Linear::create(const format::TensorView& weight, const format::TensorView* bias) {
  Linear l;
  l.out_ = weight.rows();
  l.in_ = weight.cols();
  const float* kernel = nullptr;
  std::vector<float> converted;  // f16/i8 weights widened once; XNNPACK packs its own copy
  if (weight.dtype == format::DType::kF32) {
    kernel = reinterpret_cast<const float*>(weight.data);
  } else if (weight.dtype == format::DType::kF16 || weight.dtype == format::DType::kI8) {
    converted.resize(l.out_ * l.in_);
    for (uint32_t r = 0; r < l.out_; ++r) dequantize_row(weight, r, converted.data() + r * l.in_);
    kernel = converted.data();
  } else {
    return unsupported("tensor '" + weight.name + "': dtype " + format::dtype_name(weight.dtype) +
                       " is not supported by the linear kernel");
  }
  const float* b = (bias && bias->present()) ? reinterpret_cast<const float*>(bias->data) : nullptr;
  xnn_status st = xnn_create_fully_connected_nc_f32(l.in_, l.out_, l.in_, l.out_, kernel, b,
                                                    -std::numeric_limits<float>::infinity(),
                                                    std::numeric_limits<float>::infinity(), 0, &l.op_);
  if (st != xnn_status_success) {
    return internal_error("XNNPACK could not create the fully-connected operator for '" + weight.name +
                          "' (status " + std::to_string(static_cast<int>(st)) + ")");
  }
  l.weight_bytes_ = l.out_ * l.in_ * sizeof(float);
  return l;
}

Status Linear::run(size_t batch, const float* input, float* output, pthreadpool_t pool) const {
  // Below ~64K multiply-adds a fork/join across workers costs more than the work itself.
  if (batch * in_ * out_ < kParallelMinMacs) pool = nullptr;
  xnn_status st = xnn_setup_fully_connected_nc_f32(op_, batch, input, output, pool);
  if (st == xnn_status_success) st = xnn_run_operator(op_, pool);
  if (st != xnn_status_success) {
    return internal_error("XNNPACK fully-connected [" + std::to_string(out_) + "x" + std::to_string(in_) +
                          "] failed (status " + std::to_string(static_cast<int>(st)) + ")");
  }
  return Status::Ok();
}

}  // namespace ordinal::kernels
