// Fully-connected layers: y[b, out] = W[out, in] · x[b, in] (+ bias). A Linear is a weight plan: made once
// per Model (weight_plan.hpp), immutable, and run concurrently by every session on every thread; it never
// copies a float weight. create() dispatches on the weight format to an engine; run() splits the output rows
// into tasks by size and each task calls run_rows() over its row range. A new weight format adds an Engine,
// a case in create() and one in run_rows().
//  - f32 / f16: kernels/dense_gemm, reading the mapped weights in place (f16 widened in registers).
//  - int8 (per-row or per-tensor scales): kernels/int8_gemm, activations quantized per token at run time
//    (int16, see int8_gemm.hpp for why), weights read in place from the mapped model when rows are a
//    multiple of 32 bytes (else copied once per Model with padded rows).
#pragma once

#include <cstddef>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/dense_gemm.hpp"
#include "kernels/int8_gemm.hpp"
#include "large_buffer.hpp"
#include "ordinal/status.hpp"
#include "threads.hpp"

namespace ordinal::kernels {

// Work (multiply-adds) below which an operation runs on the calling thread: waking a worker and joining it
// costs a few microseconds, about what 64K multiply-adds take on one core.
constexpr size_t kParallelMinMacs = size_t{1} << 16;

// The activations a group of linear layers reads (q/k/v share one, gate/up share one). The quantized form
// is computed on the first int8 layer that asks for it after bind() and reused by the others.
class LinearInput {
 public:
  // Plans buffers for up to max_batch rows of up to max_cols values. Allocates: call at session creation;
  // kOutOfMemory when it cannot.
  Status reserve(size_t max_batch, size_t max_cols);
  LinearInput& bind(const float* x, size_t batch, size_t cols);

  const float* f32() const { return x_; }
  size_t batch() const { return batch_; }
  size_t cols() const { return cols_; }
  // Per-token quantization of the bound rows (quantize_row_int16); never allocates.
  Result<ActivationsView> quantized();
  // Bytes of the quantization buffers.
  size_t bytes() const { return q_.size() * sizeof(int16_t) + scales_.size() * sizeof(float); }

 private:
  const float* x_ = nullptr;
  size_t batch_ = 0, cols_ = 0;
  bool quantized_ = false;
  size_t max_batch_ = 0, max_cols_ = 0;
  detail::LargeBuffer<int16_t> q_;
  detail::LargeBuffer<float> scales_;
};

// What one run of a layer reads: the bound activations, and their quantized form for the int8 engine.
struct LinearBatch {
  const float* x = nullptr;  // [batch, cols]
  size_t batch = 0;
  ActivationsView quantized{};  // int8 engine only
};

class Linear {
 public:
  enum class Engine : uint8_t { kNone = 0, kF32, kF16, kInt8 };

  // `weight` is [out, in] f32/f16/i8 (i8: per-row or per-tensor scales), viewed in the mapped model, which
  // must outlive the Linear; `bias` (optional) is [out] f32.
  static Result<Linear> create(const format::TensorView& weight, const format::TensorView* bias);

  // All rows, split over `pool` by size (nullptr or a small layer: the calling thread). Const and
  // stateless: any number of threads may run one Linear at once.
  Status run(LinearInput& input, float* output, threads::Pool* pool) const;
  // Output rows [row_begin, row_end) of every token: output[b * out_features() + r].
  void run_rows(const LinearBatch& in, size_t row_begin, size_t row_end, float* output) const;

  Engine engine() const { return engine_; }
  bool present() const { return engine_ != Engine::kNone; }
  bool is_int8() const { return engine_ == Engine::kInt8; }
  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }
  // Bytes of weights (and their scales) the kernel reads per token.
  size_t weight_bytes() const { return weight_bytes_; }
  // Bytes this layer allocated (padded int8 rows, int8 scales); f32/f16 weights are read in place: 0.
  size_t owned_bytes() const { return owned_bytes_; }
  // Output rows a parallel task takes: a multiple of the engine's row block (tests, benches).
  size_t task_rows(size_t threads, size_t batch) const;

 private:
  Engine engine_ = Engine::kNone;
  size_t in_ = 0, out_ = 0;
  size_t weight_bytes_ = 0, owned_bytes_ = 0;
  const void* dense_ = nullptr;  // f32/f16 engines: row 0 of W in the mapped model
  DenseRowsFn dense_rows_ = nullptr;
  Int8MatrixView int8_;
  std::vector<int8_t> int8_padded_;  // only when rows are not a multiple of kInt8RowAlign bytes
  std::vector<float> int8_scales_;
  const float* bias_ = nullptr;
};

// Dequantizes row `row` of a matrix into `out` (cols floats): f32, f16, int8 (per tensor/row/column/group),
// int4 (per group, optional zero points).
void dequantize_row(const format::TensorView& m, uint32_t row, float* out);

}  // namespace ordinal::kernels
