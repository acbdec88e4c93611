// Int8-weight fully-connected arithmetic: weights int8 (the quantizer writes [-127, 127]; the kernels take
// any int8) with one scale per output channel (row); activations quantized per token at run time to int16
// (symmetric [-32767, 32767]) with one scale per token; exact integer accumulation; float epilogue:
//   y[b, o] = float(sum_i qx[b, i] * qw[o, i]) * (sx[b] * sw[o])  (+ bias[o])
// Why int16 activations and not int8 (measured on stories260K, `ordinal verify` vs f32, 4096 positions):
// int8 weights alone keep top-1 agreement at 98.9%; int8 activations per token drop it to 97.8% (per
// 32-value group: 98.2%), while int16 activations cost nothing measurable. On AVX2 int16 x int8 (pmaddwd)
// runs as fast as int8 x int8 (pmaddubsw needs |x| and sign fix-ups), and the weights, which are what is
// read per token, are int8 either way.
// Why not XNNPACK's int8 operators (Debian's 2022-02 snapshot): xnn_create_fully_connected_nc_qs8 (one
// weight scale) and xnn_create_convolution2d_nhwc_qc8 (per-channel weight scales) both fix the input
// scale and zero point at creation and requantize their output to int8 with a scale also fixed at
// creation. Per-token activation scales would mean re-creating (re-packing) operators inside the decode
// loop, which must not allocate; a calibrated static scale gives int8 activations (97.8% above, under the
// 98% bar) plus an int8 output on top. So the int8 path is this kernel; XNNPACK keeps the f32 layers.
// The integer sums are exact on every path (AVX2, generic loops that GCC/Clang vectorise with SSE2/NEON,
// scalar reference) and the epilogue is the same scalar float code, so results are bit-identical across
// x86-64, aarch64 and armhf.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordinal::kernels {

constexpr int kInt8Max = 127;
constexpr int kActivationMax = 32767;
// Weight and activation rows are zero-padded to a multiple of this many elements.
constexpr size_t kDepthAlign = 32;

inline size_t padded_depth(size_t cols) {
  return (cols + kDepthAlign - 1) / kDepthAlign * kDepthAlign;
}

// Per-token symmetric int16 quantization: s = max|x| / 32767, q[i] = round-half-even(x[i] * (32767 /
// max|x|)), clamped to [-32767, 32767]; an all-zero row gets s = 0; a row with NaN/Inf gets s = NaN (and q =
// 0), so the layer's output is NaN and check_numerics reports it. Error: |x[i] - s q[i]| <= 0.5001 s (0.5
// from rounding, < 2^-22 * 32767 s from the float product). Writes cols values, zeroes up to padded. Returns
// s.
float quantize_row_int16(const float* x, size_t cols, size_t padded, int16_t* q);

// The int8 matrix a kernel reads: row r at data + r * stride (stride = padded_depth(cols), zero past cols).
struct Int8MatrixView {
  const int8_t* data = nullptr;
  const float* scales = nullptr;
  size_t rows = 0, cols = 0, stride = 0;
};

// Quantized activations: `batch` rows at q + b * stride (stride = padded_depth(cols)), scales[b].
struct ActivationsView {
  const int16_t* q = nullptr;
  const float* scales = nullptr;
  size_t batch = 0, cols = 0, stride = 0;
};

// Rows [row_begin, row_end) of y = x W^T for every token, into out[b * out_stride + o]; bias may be null.
// The integer sum is exact (int32 lanes widened to int64 every 4096 values); then two float roundings,
// float(sum) and the product with fl(sx * sw), and the bias add: relative to |sum| sx sw the result is
// within 3 * 2^-24 of the exact product of the dequantized values, plus one rounding of the bias add.
void int8_gemm_rows(const Int8MatrixView& w, const ActivationsView& x, const float* bias, size_t row_begin,
                    size_t row_end, float* out, size_t out_stride);

// Which inner kernel int8_gemm_rows uses on this CPU ("avx2" or "generic"), for reports and tests.
const char* int8_gemm_kernel_name();
// Tests: force the generic kernel (false restores the CPU's best).
void int8_gemm_force_generic(bool force);

}  // namespace ordinal::kernels
