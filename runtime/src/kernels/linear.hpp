// Fully-connected layers: y[b, out] = W[out, in] · x[b, in] (+ bias). A Linear is a weight plan: made once
// per Model (weight_plan.hpp), immutable, and run concurrently by every session on every thread; it never
// copies a weight matrix. create() dispatches on the weight format to an engine; run() splits the output rows
// into tasks by size and each task calls run_rows() over its row range. A new weight format adds an Engine,
// a case in create() and one in run_rows().
//  - f32 / f16: kernels/dense_gemm, reading the mapped weights in place (f16 widened in registers).
//  - integer weights (kernels/group_gemm): int8 per row / per tensor (f32 or f16 scales, widened once into
//    a per-row f32 array) or per group, int4 per group (f16 scales per group of a multiple of 32, optional
//    u8 zero points); codes and group scales read in place from the mapped model; activations quantized
//    per block of 32 at run time (int16 for int8 weights, int8 for int4; group_gemm.hpp says why).
#pragma once

#include <cstddef>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/dense_gemm.hpp"
#include "kernels/group_gemm.hpp"
#include "large_buffer.hpp"
#include "ordinal/status.hpp"
#include "threads.hpp"

namespace ordinal::kernels {

// Work (multiply-adds) below which an operation runs on the calling thread: waking a worker and joining it
// costs a few microseconds, about what 64K multiply-adds take on one core.
constexpr size_t kParallelMinMacs = size_t{1} << 16;

// The activations a group of linear layers reads (q/k/v share one, gate/up share one). Each quantized form
// is computed on the first integer layer that asks for it after bind() and reused by the others.
class LinearInput {
 public:
  // Plans buffers for up to max_batch rows of up to max_cols values. Allocates: call at session creation;
  // kOutOfMemory when it cannot.
  Status reserve(size_t max_batch, size_t max_cols);
  // Bytes reserve(max_batch, max_cols) allocates (the memory plans count it without allocating).
  static uint64_t planned_bytes(uint64_t max_batch, uint64_t max_cols);
  LinearInput& bind(const float* x, size_t batch, size_t cols);

  const float* f32() const { return x_; }
  size_t batch() const { return batch_; }
  size_t cols() const { return cols_; }
  // Per-block quantization of the bound rows for the integer kernels: int8 codes (int4 weights) and/or
  // int16 codes (int8 weights). Never allocates.
  Result<GroupActivationsView> quantized(bool int8_codes, bool int16_codes);
  // Bytes of the quantization buffers.
  size_t bytes() const {
    return q8_.size() + q8x_.size() + (q16_.size() + q16x_.size()) * sizeof(int16_t) +
           (scales8_.size() + scales16_.size() + scales8x_.size() + scales16x_.size()) * sizeof(float) +
           (sums8_.size() + sums8x_.size()) * sizeof(int32_t);
  }

 private:
  const float* x_ = nullptr;
  size_t batch_ = 0, cols_ = 0;
  bool have8_ = false, have16_ = false;
  size_t max_batch_ = 0, max_cols_ = 0;
  detail::LargeBuffer<int8_t> q8_;
  detail::LargeBuffer<int16_t> q16_;
  detail::LargeBuffer<float> scales8_, scales16_;
  detail::LargeBuffer<int32_t> sums8_;
  // Token-interleaved copies for prefill (group_gemm.hpp), when max_batch > 1.
  detail::LargeBuffer<int8_t> q8x_;
  detail::LargeBuffer<int16_t> q16x_;
  detail::LargeBuffer<float> scales8x_, scales16x_;
  detail::LargeBuffer<int32_t> sums8x_;
};

// What one run of a layer reads: the bound activations, and their quantized form for the integer engine.
struct LinearBatch {
  const float* x = nullptr;  // [batch, cols]
  size_t batch = 0;
  GroupActivationsView quantized{};  // integer engine only
};

class Linear {
 public:
  enum class Engine : uint8_t { kNone = 0, kF32, kF16, kInteger };

  Linear() = default;
  // Moves keep int_.row_scales valid (it points into row_scales_, whose buffer moves along); copies would
  // not, so there are none.
  Linear(Linear&&) noexcept = default;
  Linear& operator=(Linear&&) noexcept = default;
  Linear(const Linear&) = delete;
  Linear& operator=(const Linear&) = delete;

  // `weight` is [out, in] f32/f16, i8 (per-row or per-tensor scales, or f16 per group), or i4 (f16 per
  // group, optional u8 zero points), viewed in the mapped model, which must outlive the Linear; groups are a
  // multiple of 32 columns; `bias` (optional) is [out] f32.
  static Result<Linear> create(const format::TensorView& weight, const format::TensorView* bias);

  // All rows, split over `pool` by size (nullptr or a small layer: the calling thread). Const and
  // stateless: any number of threads may run one Linear at once.
  Status run(LinearInput& input, float* output, threads::Pool* pool) const;
  // Output rows [row_begin, row_end) of every token: output[b * out_features() + r].
  void run_rows(const LinearBatch& in, size_t row_begin, size_t row_end, float* output) const;

  Engine engine() const { return engine_; }
  bool present() const { return engine_ != Engine::kNone; }
  // Integer weights (any int8 or int4 format).
  bool is_integer() const { return engine_ == Engine::kInteger; }
  // Integer engine: the weight codes (which activation codes the kernel reads).
  GroupCodes int_codes() const { return int_.codes; }
  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }
  // Bytes of weights (and their scales) the kernel reads per token.
  size_t weight_bytes() const { return weight_bytes_; }
  // Bytes this layer allocated (per-row int8 scales widened to f32); everything else is read in place: 0.
  size_t owned_bytes() const { return owned_bytes_; }
  // Output rows a parallel task takes: a multiple of the engine's row block (tests, benches).
  size_t task_rows(size_t threads, size_t batch) const;

 private:
  Engine engine_ = Engine::kNone;
  size_t in_ = 0, out_ = 0;
  size_t weight_bytes_ = 0, owned_bytes_ = 0;
  const void* dense_ = nullptr;  // f32/f16 engines: row 0 of W in the mapped model
  DenseRowsFn dense_rows_ = nullptr;
  GroupMatrixView int_;            // integer engine: codes and group scales point into the mapped model
  std::vector<float> row_scales_;  // int8 per-row / per-tensor weights: one f32 scale per row
  const float* bias_ = nullptr;
};

// One layer of a group that reads the same input (q/k/v, gate/up) and where its output goes.
struct LinearOutput {
  const Linear* layer = nullptr;
  float* output = nullptr;
};
constexpr size_t kMaxLinearGroup = 4;

// Runs up to kMaxLinearGroup layers on one input as ONE parallel op: the input is quantized once, and the
// layers' row tasks are claimed from one pool job, so the group pays one fork/join rather than one per
// layer (a decode token of a 12-layer model runs ~100 ops of 20-50 us at 2 threads). Every row is computed
// exactly as Linear::run() computes it: same bits.
Status run_linear_group(LinearInput& input, const LinearOutput* layers, size_t count, threads::Pool* pool);

// Dequantizes row `row` of a matrix into `out` (cols floats): f32, f16, int8 (per tensor/row/column/group),
// int4 (per group, optional zero points).
void dequantize_row(const format::TensorView& m, uint32_t row, float* out);

}  // namespace ordinal::kernels
