// Fully-connected layers on XNNPACK: y[b, out] = W[out, in] · x[b, in] (+ bias). The operator is created
// once per session (weights packed once); run() only binds pointers and executes.
#pragma once

#include <pthreadpool.h>
#include <xnnpack.h>

#include <cstddef>

#include "format/tensor_view.hpp"
#include "ordinal/status.hpp"

namespace ordinal::kernels {

// Work (multiply-adds) below which an operation runs on the calling thread.
constexpr size_t kParallelMinMacs = size_t{1} << 16;

class Linear {
 public:
  Linear() = default;
  ~Linear();
  Linear(Linear&& other) noexcept;
  Linear& operator=(Linear&& other) noexcept;
  Linear(const Linear&) = delete;
  Linear& operator=(const Linear&) = delete;

  // `weight` is [out, in] f32/f16/i8; `bias` (optional) is [out] f32.
  static Result<Linear> create(const format::TensorView& weight, const format::TensorView* bias);

  Status run(size_t batch, const float* input, float* output, pthreadpool_t pool) const;

  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }
  // Bytes of weights the kernel reads per token (its packed storage).
  size_t weight_bytes() const { return weight_bytes_; }

 private:
  xnn_operator_t op_ = nullptr;
  size_t in_ = 0, out_ = 0;
  size_t weight_bytes_ = 0;
};

// Dequantizes row `row` of a matrix into `out` (cols floats): f32, f16, int8 (per tensor/row/column/group),
// int4 (per group, optional zero points).
void dequantize_row(const format::TensorView& m, uint32_t row, float* out);

}  // namespace ordinal::kernels
