#include "kernels/linear.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernels/simd.hpp"
#include "numerics/half.hpp"
#include "threads.hpp"

namespace ordinal::kernels {

// ---- LinearInput ----------------------------------------------------------------------------------

Status LinearInput::reserve(size_t max_batch, size_t max_cols) {
  max_batch_ = max_batch;
  max_cols_ = max_cols;
  const uint64_t blocks = (max_cols + kBlock - 1) / kBlock;
  ORDINAL_RETURN_IF_ERROR(q8_.allocate(uint64_t{max_batch} * blocks * kBlock, "int8 linear inputs"));
  ORDINAL_RETURN_IF_ERROR(q16_.allocate(uint64_t{max_batch} * blocks * kBlock, "int16 linear inputs"));
  ORDINAL_RETURN_IF_ERROR(scales8_.allocate(uint64_t{max_batch} * blocks, "int8 linear input scales"));
  ORDINAL_RETURN_IF_ERROR(scales16_.allocate(uint64_t{max_batch} * blocks, "int16 linear input scales"));
  ORDINAL_RETURN_IF_ERROR(sums8_.allocate(uint64_t{max_batch} * blocks, "int8 linear input block sums"));
  if (max_batch < 2) return Status::Ok();
  const uint64_t padded = (uint64_t{max_batch} + kTokenTile - 1) / kTokenTile * kTokenTile;
  ORDINAL_RETURN_IF_ERROR(q8x_.allocate(padded * blocks * kBlock, "interleaved int8 linear inputs"));
  ORDINAL_RETURN_IF_ERROR(q16x_.allocate(padded * blocks * kBlock, "interleaved int16 linear inputs"));
  ORDINAL_RETURN_IF_ERROR(scales8x_.allocate(padded * blocks, "interleaved int8 linear input scales"));
  ORDINAL_RETURN_IF_ERROR(scales16x_.allocate(padded * blocks, "interleaved int16 linear input scales"));
  return sums8x_.allocate(padded * blocks, "interleaved int8 linear input block sums");
}

uint64_t LinearInput::planned_bytes(uint64_t max_batch, uint64_t max_cols) {
  // Per block of 32 values: int8 and int16 codes, two f32 scales and an int32 block sum; chunks of more than
  // one token also keep the token-interleaved copies, tokens padded to whole tiles.
  const uint64_t blocks = (max_cols + kBlock - 1) / kBlock;
  const uint64_t per_token =
      blocks * (kBlock * (sizeof(int8_t) + sizeof(int16_t)) + 2 * sizeof(float) + sizeof(int32_t));
  const uint64_t interleaved = max_batch > 1 ? (max_batch + kTokenTile - 1) / kTokenTile * kTokenTile : 0;
  return (max_batch + interleaved) * per_token;
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
    if (batch_ > 1) {
      interleave_activations_int8(q8_.data(), scales8_.data(), sums8_.data(), batch_, blocks, q8x_.data(),
                                  scales8x_.data(), sums8x_.data());
    }
    have8_ = true;
  }
  if (int16_codes && !have16_) {
    for (size_t b = 0; b < batch_; ++b) {
      quantize_activations_int16(x_ + b * cols_, cols_, q16_.data() + b * stride,
                                 scales16_.data() + b * blocks);
    }
    if (batch_ > 1) {
      interleave_activations_int16(q16_.data(), scales16_.data(), batch_, blocks, q16x_.data(),
                                   scales16x_.data());
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
  if (batch_ > 1) {
    v.q8x = q8x_.data();
    v.scales8x = scales8x_.data();
    v.sums8x = sums8x_.data();
    v.q16x = q16x_.data();
    v.scales16x = scales16x_.data();
  }
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

struct LinearJob {
  const Linear* layer;
  LinearBatch in;
  float* out;
};

void linear_task(void* context, size_t first, size_t count) {
  const LinearJob* j = static_cast<const LinearJob*>(context);
  j->layer->run_rows(j->in, first, first + count, j->out);
}

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

// Row blocks: the dense kernels take 4 rows at a time, the integer kernel 4 (tasks of 16 keep its scale
// loads aligned). Tasks per thread: two, so that the pool's dynamic claiming (threads.hpp) still evens out a
// thread that started late (the caller then takes three of four), but each thread streams long contiguous
// runs of weight rows. Small interleaved tasks cost a second thread most of its gain: the hardware
// prefetcher of a thread runs on into the rows the other thread has claimed (bytes read twice) and every
// task starts cold. Measured at the 110M shape, 2 threads on 2 cores, decode tok/s with 16 tasks per thread
// against 2: int8-g32 208-231 / 253-260, int4 374-378 / 415-489 (1 thread: 162-172 / 269-289); f32
// unchanged within noise; prefill (32-token prompt) as fast or faster. Each task still has >= 16K
// multiply-adds to dwarf its dispatch.
constexpr size_t kDenseRowBlock = 4;
constexpr size_t kIntegerTaskRowBlock = 16;
constexpr size_t kTasksPerThread = 2;
constexpr size_t kMinTaskMacs = size_t{1} << 14;

}  // namespace

Result<Linear> Linear::create(const format::TensorView& weight, const format::TensorView* bias) {
  Linear l;
  l.out_ = weight.rows();
  l.in_ = weight.cols();
  const float* b = (bias && bias->present()) ? reinterpret_cast<const float*>(bias->data) : nullptr;
  l.bias_ = b;
  const size_t bias_bytes = b ? l.out_ * sizeof(float) : 0;
  switch (weight.dtype) {
    case format::DType::kI8:
    case format::DType::kI4: {
      ORDINAL_ASSIGN_OR_RETURN(l.int_, integer_view(weight, &l.row_scales_));
      const size_t scale_bytes =
          l.row_scales_.empty() ? weight.quant.scale_count * 2 : l.out_ * sizeof(float);
      l.engine_ = Engine::kInteger;
      l.weight_bytes_ = l.out_ * weight.row_bytes() + scale_bytes +
                        (weight.quant.zero_points ? weight.quant.scale_count : 0) + bias_bytes;
      l.owned_bytes_ = l.row_scales_.size() * sizeof(float);
      return l;
    }
    case format::DType::kF32:
      l.engine_ = Engine::kF32;
      l.dense_rows_ = dense_gemm_kernels().f32_rows;
      l.weight_bytes_ = l.out_ * l.in_ * sizeof(float) + bias_bytes;
      break;
    case format::DType::kF16:
      // Read in place and widened in registers as the rows stream in (F16C, NEON fcvtl), not widened once
      // per Model: the layer then reads half the bytes of f32 per token, which is what a bandwidth-bound
      // decode is paid for, and the model costs its file size in memory rather than twice it.
      l.engine_ = Engine::kF16;
      l.dense_rows_ = dense_gemm_kernels().f16_rows;
      l.weight_bytes_ = l.out_ * l.in_ * sizeof(uint16_t) + bias_bytes;
      break;
    default:
      return unsupported("tensor '" + weight.name + "': dtype " + format::dtype_name(weight.dtype) +
                         " is not supported by the linear kernel");
  }
  l.dense_ = weight.data;
  l.owned_bytes_ = 0;
  return l;
}

void Linear::run_rows(const LinearBatch& in, size_t row_begin, size_t row_end, float* output) const {
  switch (engine_) {
    case Engine::kF32:
    case Engine::kF16:
      dense_rows_(dense_, out_, in_, in.x, in.batch, bias_, row_begin, row_end, output, out_);
      break;
    case Engine::kInteger:
      group_gemm_rows(int_, in.quantized, bias_, row_begin, row_end, output, out_);
      break;
    case Engine::kNone:
      break;
  }
}

size_t Linear::task_rows(size_t threads, size_t batch) const {
  const size_t block = engine_ == Engine::kInteger ? kIntegerTaskRowBlock : kDenseRowBlock;
  const size_t macs_per_row = std::max<size_t>(1, batch * in_);
  const size_t min_rows = (kMinTaskMacs + macs_per_row - 1) / macs_per_row;
  size_t rows = (out_ + threads * kTasksPerThread - 1) / (threads * kTasksPerThread);
  rows = std::max(rows, min_rows);
  return (rows + block - 1) / block * block;
}

Status Linear::run(LinearInput& input, float* output, threads::Pool* pool) const {
  const size_t batch = input.batch();
  if (input.cols() != in_) {
    return internal_error("linear [" + std::to_string(out_) + "x" + std::to_string(in_) + "] given rows of " +
                          std::to_string(input.cols()));
  }
  LinearBatch in;
  in.x = input.f32();
  in.batch = batch;
  if (is_integer()) {
    const bool int4 = int_.codes != GroupCodes::kInt8;
    ORDINAL_ASSIGN_OR_RETURN(in.quantized, input.quantized(int4, !int4));
  }
  const size_t threads = threads::pool_threads(pool);
  // Below ~64K multiply-adds a fork/join across workers costs more than the work itself.
  if (threads <= 1 || batch * in_ * out_ < kParallelMinMacs) {
    run_rows(in, 0, out_, output);
    return Status::Ok();
  }
  LinearJob job{this, in, output};
  threads::parallelize_1d_tile_1d(pool, linear_task, &job, out_, task_rows(threads, batch));
  return Status::Ok();
}

namespace {

struct LinearGroupJob {
  const LinearOutput* layers;
  size_t count;
  LinearBatch in;
  size_t rows[kMaxLinearGroup];        // rows per task of each layer
  size_t first_task[kMaxLinearGroup];  // index of each layer's first task
};

void linear_group_task(void* context, size_t task) {
  const LinearGroupJob* j = static_cast<const LinearGroupJob*>(context);
  size_t i = j->count - 1;
  while (task < j->first_task[i]) --i;
  const Linear& layer = *j->layers[i].layer;
  const size_t begin = (task - j->first_task[i]) * j->rows[i];
  const size_t end = std::min(begin + j->rows[i], layer.out_features());
  layer.run_rows(j->in, begin, end, j->layers[i].output);
}

}  // namespace

Status run_linear_group(LinearInput& input, const LinearOutput* layers, size_t count, threads::Pool* pool) {
  if (count == 0 || count > kMaxLinearGroup) {
    return internal_error("a linear group takes 1 to " + std::to_string(kMaxLinearGroup) + " layers, given " +
                          std::to_string(count));
  }
  const size_t batch = input.batch();
  bool int8_codes = false, int16_codes = false;
  size_t macs = 0;
  for (size_t i = 0; i < count; ++i) {
    const Linear& l = *layers[i].layer;
    if (l.in_features() != input.cols()) {
      return internal_error("linear [" + std::to_string(l.out_features()) + "x" +
                            std::to_string(l.in_features()) + "] given rows of " +
                            std::to_string(input.cols()));
    }
    if (l.is_integer()) {
      // As Linear::run(): int4 weights take int8 activation codes, int8 weights int16 codes.
      const bool int4 = l.int_codes() != GroupCodes::kInt8;
      int8_codes = int8_codes || int4;
      int16_codes = int16_codes || !int4;
    }
    macs += batch * l.in_features() * l.out_features();
  }
  LinearGroupJob job{};
  job.layers = layers;
  job.count = count;
  job.in.x = input.f32();
  job.in.batch = batch;
  if (int8_codes || int16_codes) {
    ORDINAL_ASSIGN_OR_RETURN(job.in.quantized, input.quantized(int8_codes, int16_codes));
  }
  const size_t threads = threads::pool_threads(pool);
  if (threads <= 1 || macs < kParallelMinMacs) {
    for (size_t i = 0; i < count; ++i)
      layers[i].layer->run_rows(job.in, 0, layers[i].layer->out_features(), layers[i].output);
    return Status::Ok();
  }
  size_t tasks = 0;
  for (size_t i = 0; i < count; ++i) {
    const Linear& l = *layers[i].layer;
    job.rows[i] = l.task_rows(threads, batch);
    job.first_task[i] = tasks;
    tasks += (l.out_features() + job.rows[i] - 1) / job.rows[i];
  }
  threads::parallelize_1d(pool, linear_group_task, &job, tasks);
  return Status::Ok();
}

}  // namespace ordinal::kernels
