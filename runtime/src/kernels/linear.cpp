#include "kernels/linear.hpp"

#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernels/simd.hpp"
#include "numerics/half.hpp"
#include "threads.hpp"

namespace ordinal::kernels {

Linear::~Linear() {
  if (op_) xnn_delete_operator(op_);
}

Linear::Linear(Linear&& o) noexcept {
  *this = std::move(o);
}

Linear& Linear::operator=(Linear&& o) noexcept {
  if (this != &o) {
    if (op_) xnn_delete_operator(op_);
    op_ = o.op_;
    in_ = o.in_;
    out_ = o.out_;
    weight_bytes_ = o.weight_bytes_;
    owned_bytes_ = o.owned_bytes_;
    int_ = o.int_;  // points into the mapped model, and into row_scales_, whose buffer moves with it
    row_scales_ = std::move(o.row_scales_);
    bias_ = o.bias_;
    o.op_ = nullptr;
    o.int_ = GroupMatrixView();
    o.out_ = 0;
  }
  return *this;
}

// ---- LinearInput ----------------------------------------------------------------------------------

void LinearInput::reserve(size_t max_batch, size_t max_cols) {
  max_batch_ = max_batch;
  max_cols_ = max_cols;
  const size_t blocks = (max_cols + kBlock - 1) / kBlock;
  q8_.assign(max_batch * blocks * kBlock, 0);
  q16_.assign(max_batch * blocks * kBlock, 0);
  scales8_.assign(max_batch * blocks, 0.0f);
  scales16_.assign(max_batch * blocks, 0.0f);
  sums8_.assign(max_batch * blocks, 0);
}

LinearInput& LinearInput::bind(const float* x, size_t batch, size_t cols) {
  x_ = x;
  batch_ = batch;
  cols_ = cols;
  have8_ = false;
  have16_ = false;
  return *this;
}

Result<GroupActivationsView> LinearInput::quantized(bool int8_codes, bool int16_codes) {
  if (batch_ > max_batch_ || cols_ > max_cols_) {
    return internal_error("activation quantization buffers planned for " + std::to_string(max_batch_) + "x" +
                          std::to_string(max_cols_) + ", asked for " + std::to_string(batch_) + "x" +
                          std::to_string(cols_));
  }
  const size_t blocks = (cols_ + kBlock - 1) / kBlock, stride = blocks * kBlock;
  if (int8_codes && !have8_) {
    for (size_t b = 0; b < batch_; ++b) {
      quantize_activations_int8(x_ + b * cols_, cols_, q8_.data() + b * stride, scales8_.data() + b * blocks,
                                sums8_.data() + b * blocks);
    }
    have8_ = true;
  }
  if (int16_codes && !have16_) {
    for (size_t b = 0; b < batch_; ++b) {
      quantize_activations_int16(x_ + b * cols_, cols_, q16_.data() + b * stride,
                                 scales16_.data() + b * blocks);
    }
    have16_ = true;
  }
  GroupActivationsView v;
  v.q8 = q8_.data();
  v.scales8 = scales8_.data();
  v.sums8 = sums8_.data();
  v.q16 = q16_.data();
  v.scales16 = scales16_.data();
  v.batch = batch_;
  v.cols = cols_;
  v.blocks = blocks;
  v.stride = stride;
  return v;
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
    case format::DType::kF32:
      std::memcpy(out, src, cols * sizeof(float));
      break;
    case format::DType::kF16:
      if (reinterpret_cast<uintptr_t>(src) % alignof(uint16_t) == 0) {
        numerics::halves_to_floats(reinterpret_cast<const uint16_t*>(src), cols, out, false);
      } else {
        for (uint32_t j = 0; j < cols; ++j) {
          uint16_t h;
          std::memcpy(&h, src + 2 * j, 2);
          out[j] = numerics::half_to_float(h);
        }
      }
      break;
    case format::DType::kI8: {
      // One rounding per element, float(q) * scale, on the SIMD table (same bits on every path).
      const int8_t* q = reinterpret_cast<const int8_t*>(src);
      const KernelTable& kt = active_kernels();
      if (m.quant.granularity == format::QuantGranularity::kPerColumn) {
        if (m.quant.scale_dtype == format::DType::kF32 &&
            reinterpret_cast<uintptr_t>(m.quant.scales) % alignof(float) == 0) {
          kt.dequant_i8_scales(q, reinterpret_cast<const float*>(m.quant.scales), out, cols, false);
        } else {
          for (uint32_t j = 0; j < cols; ++j)
            out[j] = static_cast<float>(q[j]) * format::scale_at(m.quant, j);
        }
      } else if (m.quant.granularity == format::QuantGranularity::kPerGroup) {
        const uint32_t g = m.quant.group_size, groups = cols / g;
        for (uint32_t k = 0; k < groups; ++k) {
          kt.dequant_i8(q + k * g, format::scale_at(m.quant, uint64_t{row} * groups + k), out + k * g, g,
                        false);
        }
      } else {
        const float s =
            format::scale_at(m.quant, m.quant.granularity == format::QuantGranularity::kPerRow ? row : 0);
        kt.dequant_i8(q, s, out, cols, false);
      }
      break;
    }
    case format::DType::kI4: {
      // Two values per byte, low nibble first. Without zero points a nibble is signed [-8, 7]; with
      // them it is unsigned [0, 15] and the group's zero point is subtracted.
      const uint32_t g =
          m.quant.granularity == format::QuantGranularity::kPerGroup ? m.quant.group_size : cols;
      const uint32_t groups = cols / g;
      if (m.quant.granularity != format::QuantGranularity::kPerColumn) {
        // A scale (and zero point) per span of g elements: (nibble ^ flip) - zero on the SIMD table.
        for (uint32_t k = 0; k < groups; ++k) {
          const uint64_t si = m.quant.granularity == format::QuantGranularity::kPerGroup
                                  ? uint64_t{row} * groups + k
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
          case format::QuantGranularity::kPerGroup:
            si = uint64_t{row} * groups + j / g;
            break;
          case format::QuantGranularity::kPerRow:
            si = row;
            break;
          case format::QuantGranularity::kPerColumn:
            si = j;
            break;
          default:
            si = 0;
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

namespace {

Status xnnpack_error(const char* what, const format::TensorView& w, xnn_status st) {
  return internal_error(std::string("XNNPACK could not ") + what + " the fully-connected operator for '" +
                        w.name + "' (status " + std::to_string(static_cast<int>(st)) + ")");
}

struct IntegerJob {
  const Linear* layer;
  GroupActivationsView x;
  float* out;
};

void integer_task(void* context, size_t first, size_t count) {
  const IntegerJob* j = static_cast<const IntegerJob*>(context);
  j->layer->run_integer_rows(j->x, first, first + count, j->out);
}

// Rows handed to one task: a multiple of the kernel's 4-row block.
constexpr size_t kIntegerTaskRows = 16;

// The kernel's view of an integer weight the loader admitted: int8 per row / per tensor (scales widened into
// `row_scales`), or int8/int4 per group (f16 scales, group a multiple of 32, read in place).
Result<GroupMatrixView> integer_view(const format::TensorView& w, std::vector<float>* row_scales) {
  const format::QuantView& q = w.quant;
  GroupMatrixView v;
  v.data = w.data;
  if (w.dtype == format::DType::kI8 && (q.granularity == format::QuantGranularity::kPerRow ||
                                        q.granularity == format::QuantGranularity::kPerTensor)) {
    row_scales->resize(w.rows());
    for (size_t r = 0; r < w.rows(); ++r) {
      (*row_scales)[r] = format::scale_at(q, q.granularity == format::QuantGranularity::kPerRow ? r : 0);
    }
    v.codes = GroupCodes::kInt8;
    v.row_scales = row_scales->data();
    v.set_shape(w.rows(), w.cols(), w.cols(), w.row_bytes());
    return v;
  }
  if (q.granularity != format::QuantGranularity::kPerGroup || q.scale_dtype != format::DType::kF16 ||
      q.group_size == 0 || q.group_size % kBlock != 0 || w.cols() % q.group_size != 0) {
    return unsupported("tensor '" + w.name +
                       "': integer linear weights need per-row scales or f16 scales per group of a multiple "
                       "of 32");
  }
  v.codes = w.dtype == format::DType::kI8 ? GroupCodes::kInt8
            : q.zero_points               ? GroupCodes::kInt4Zero
                                          : GroupCodes::kInt4;
  v.scales = q.scales;
  v.zeros = q.zero_points;
  v.set_shape(w.rows(), w.cols(), q.group_size, w.row_bytes());
  return v;
}

}  // namespace

Result<Linear> Linear::create(const format::TensorView& weight, const format::TensorView* bias) {
  Linear l;
  l.out_ = weight.rows();
  l.in_ = weight.cols();
  const float* b = (bias && bias->present()) ? reinterpret_cast<const float*>(bias->data) : nullptr;
  if (weight.dtype == format::DType::kI4 || weight.dtype == format::DType::kI8) {
    ORDINAL_ASSIGN_OR_RETURN(l.int_, integer_view(weight, &l.row_scales_));
    l.bias_ = b;
    const size_t scale_bytes = l.row_scales_.empty() ? weight.quant.scale_count * 2 : l.out_ * sizeof(float);
    l.weight_bytes_ = l.out_ * weight.row_bytes() + scale_bytes +
                      (weight.quant.zero_points ? weight.quant.scale_count : 0) +
                      (b ? l.out_ * sizeof(float) : 0);
    l.owned_bytes_ = l.row_scales_.size() * sizeof(float);
    return l;
  }
  const float* kernel = nullptr;
  std::vector<float> converted;  // f16 weights widened once; XNNPACK packs its own copy
  if (weight.dtype == format::DType::kF32) {
    kernel = reinterpret_cast<const float*>(weight.data);
  } else if (weight.dtype == format::DType::kF16) {
    // XNNPACK's f16 operator needs f16 activations and, on x86, rounds its accumulator to f16 after every
    // step (measured: 4x slower than f32 and ~2e-3 relative error on a 512x128 layer); widening once keeps
    // f32 accuracy and speed, at f32 memory for the packed copy.
    converted.resize(l.out_ * l.in_);
    for (uint32_t r = 0; r < l.out_; ++r) dequantize_row(weight, r, converted.data() + r * l.in_);
    kernel = converted.data();
  } else {
    return unsupported("tensor '" + weight.name + "': dtype " + format::dtype_name(weight.dtype) +
                       " is not supported by the linear kernel");
  }
  xnn_status st = xnn_create_fully_connected_nc_f32(l.in_, l.out_, l.in_, l.out_, kernel, b,
                                                    -std::numeric_limits<float>::infinity(),
                                                    std::numeric_limits<float>::infinity(), 0, &l.op_);
  if (st != xnn_status_success) return xnnpack_error("create", weight, st);
  l.weight_bytes_ = l.out_ * l.in_ * sizeof(float) + (b ? l.out_ * sizeof(float) : 0);
  l.owned_bytes_ = l.weight_bytes_;
  return l;
}

Status Linear::run(LinearInput& input, float* output, pthreadpool_t pool) const {
  const size_t batch = input.batch();
  if (input.cols() != in_) {
    return internal_error("linear [" + std::to_string(out_) + "x" + std::to_string(in_) + "] given rows of " +
                          std::to_string(input.cols()));
  }
  // Below ~64K multiply-adds a fork/join across workers costs more than the work itself.
  if (batch * in_ * out_ < kParallelMinMacs) pool = nullptr;
  if (is_integer()) {
    const bool int4 = int_.codes != GroupCodes::kInt8;
    ORDINAL_ASSIGN_OR_RETURN(GroupActivationsView x, input.quantized(int4, !int4));
    if (pool == nullptr || pthreadpool_get_threads_count(pool) <= 1) {
      run_integer_rows(x, 0, out_, output);
    } else {
      IntegerJob job{this, x, output};
      threads::parallelize_1d_tile_1d(pool, integer_task, &job, out_, kIntegerTaskRows);
    }
    return Status::Ok();
  }
  xnn_status st = xnn_setup_fully_connected_nc_f32(op_, batch, input.f32(), output, pool);
  if (st == xnn_status_success) st = xnn_run_operator(op_, pool);
  if (st != xnn_status_success) {
    return internal_error("XNNPACK fully-connected [" + std::to_string(out_) + "x" + std::to_string(in_) +
                          "] failed (status " + std::to_string(static_cast<int>(st)) + ")");
  }
  return Status::Ok();
}

}  // namespace ordinal::kernels
