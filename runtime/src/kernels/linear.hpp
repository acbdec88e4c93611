// Fully-connected layers: y[b, out] = W[out, in] · x[b, in] (+ bias). Created once per session; run() only
// binds pointers and executes. Two engines:
//  - f32 (and f16 weights, widened once at creation): XNNPACK's fully-connected operator, weights packed.
//  - int8 (per-row or per-tensor scales): kernels/int8_gemm, activations quantized per token at run time
//    (int16, see int8_gemm.hpp for why), weights read in place from the mapped model when rows are a
//    multiple of 32 bytes (else copied once with padded rows).
//  - group-wise int8/int4 (f16 scale per group of a multiple of 32): kernels/group_gemm, weights and scales
//    read in place, activations quantized to int8 per block of 32 at run time.
#pragma once

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstddef>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/group_gemm.hpp"
#include "kernels/int8_gemm.hpp"
#include "ordinal/status.hpp"

namespace ordinal::kernels {

// Work (multiply-adds) below which an operation runs on the calling thread.
constexpr size_t kParallelMinMacs = size_t{1} << 16;

// The activations a group of linear layers reads (q/k/v share one, gate/up share one). The quantized form
// is computed on the first int8 layer that asks for it after bind() and reused by the others.
class LinearInput {
 public:
  // Plans buffers for up to max_batch rows of up to max_cols values. Allocates: call at session creation.
  void reserve(size_t max_batch, size_t max_cols);
  LinearInput& bind(const float* x, size_t batch, size_t cols);

  const float* f32() const { return x_; }
  size_t batch() const { return batch_; }
  size_t cols() const { return cols_; }
  // Per-token quantization of the bound rows (quantize_row_int16); never allocates.
  Result<ActivationsView> quantized();
  // Per-block int8 quantization of the bound rows for the group-wise kernels (cols a multiple of 32);
  // `nibble_order` also fills the int4 kernels' reordered copy. Never allocates.
  Result<GroupActivationsView> grouped(bool nibble_order);
  // Bytes of the quantization buffers.
  size_t bytes() const {
    return q_.size() * sizeof(int16_t) + scales_.size() * sizeof(float) + gq_.size() + gq_nibble_.size() +
           gscales_.size() * sizeof(float) + gsums_.size() * sizeof(int32_t);
  }

 private:
  const float* x_ = nullptr;
  size_t batch_ = 0, cols_ = 0;
  bool quantized_ = false;
  size_t max_batch_ = 0, max_cols_ = 0;
  std::vector<int16_t> q_;
  std::vector<float> scales_;
  bool grouped_ = false, grouped_nibble_ = false;
  std::vector<int8_t> gq_, gq_nibble_;
  std::vector<float> gscales_;
  std::vector<int32_t> gsums_;
};

class Linear {
 public:
  Linear() = default;
  ~Linear();
  Linear(Linear&& other) noexcept;
  Linear& operator=(Linear&& other) noexcept;
  Linear(const Linear&) = delete;
  Linear& operator=(const Linear&) = delete;

  // `weight` is [out, in] f32/f16/i8 (i8: per-row or per-tensor scales, or per group as below) or group-wise
  // i8/i4 (f16 scales, group a multiple of 32; i4 optionally with u8 zero points);
  // `bias` (optional) is [out] f32.
  static Result<Linear> create(const format::TensorView& weight, const format::TensorView* bias);

  Status run(LinearInput& input, float* output, pthreadpool_t pool) const;

  bool present() const { return out_ != 0; }
  bool is_int8() const { return int8_.data != nullptr; }
  bool is_grouped() const { return group_.data != nullptr; }
  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }
  // Bytes of weights (and their scales) the kernel reads per token.
  size_t weight_bytes() const { return weight_bytes_; }
  // Bytes this layer allocated (XNNPACK's packed copy, padded int8 rows, scales).
  size_t owned_bytes() const { return owned_bytes_; }
  // For the int8 engine's parallel tasks.
  void run_int8_rows(const ActivationsView& x, size_t row_begin, size_t row_end, float* output) const;
  void run_group_rows(const GroupActivationsView& x, size_t row_begin, size_t row_end, float* output) const {
    group_gemm_rows(group_, x, bias_, row_begin, row_end, output, out_);
  }

 private:
  xnn_operator_t op_ = nullptr;
  size_t in_ = 0, out_ = 0;
  size_t weight_bytes_ = 0, owned_bytes_ = 0;
  Int8MatrixView int8_;
  std::vector<int8_t> int8_padded_;  // only when rows are not a multiple of kInt8RowAlign bytes
  std::vector<float> int8_scales_;
  GroupMatrixView group_;  // points into the mapped model
  const float* bias_ = nullptr;
};

// Dequantizes row `row` of a matrix into `out` (cols floats): f32, f16, int8 (per tensor/row/column/group),
// int4 (per group, optional zero points).
void dequantize_row(const format::TensorView& m, uint32_t row, float* out);

}  // namespace ordinal::kernels
