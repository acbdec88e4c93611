// The int8-weight linear path against double references: per-token activation quantization bound, the
// integer GEMM (every kernel path bit-identical, exact sums across the int64 spill), and the whole layer
// against the f32 layer it replaces, within the error bound that follows from the two quantizations.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/int8_gemm.hpp"
#include "kernels/linear.hpp"
#include "quant/weights.hpp"
#include "support/synthetic_model.hpp"
#include "threads.hpp"

using namespace ordinal;
using namespace ordinal::kernels;

namespace {

// An int8 per-row TensorView over caller-owned storage.
format::TensorView int8_view(const std::vector<int8_t>& q, const std::vector<float>& scales, uint32_t rows,
                             uint32_t cols) {
  format::TensorView v;
  v.name = "test.w";
  v.dtype = format::DType::kI8;
  v.rank = 2;
  v.shape[0] = rows;
  v.shape[1] = cols;
  v.data = reinterpret_cast<const uint8_t*>(q.data());
  v.bytes = q.size();
  v.quant.granularity = format::QuantGranularity::kPerRow;
  v.quant.scale_dtype = format::DType::kF32;
  v.quant.scales = reinterpret_cast<const uint8_t*>(scales.data());
  v.quant.scale_count = rows;
  return v;
}

format::TensorView f32_view(const std::vector<float>& w, uint32_t rows, uint32_t cols, const char* name) {
  format::TensorView v;
  v.name = name;
  v.dtype = format::DType::kF32;
  v.rank = cols == 0 ? 1 : 2;
  v.shape[0] = rows;
  v.shape[1] = cols;
  v.data = reinterpret_cast<const uint8_t*>(w.data());
  v.bytes = w.size() * 4;
  return v;
}

}  // namespace

TEST_CASE("quantize_row_int16: |x - s q| <= 0.5001 s against a double reference; zero and NaN rows") {
  testing::TestRng rng(7);
  for (size_t cols : {1u, 5u, 64u, 172u, 1000u}) {
    std::vector<float> x = testing::random_values(rng, cols, 3.0f);
    x[cols / 2] = 40.0f;  // an outlier sets the scale
    const size_t padded = padded_depth(cols);
    std::vector<int16_t> q(padded, 99);
    const float s = quantize_row_int16(x.data(), cols, padded, q.data());
    CHECK(s == doctest::Approx(40.0 / 32767.0).epsilon(1e-6));
    double worst = 0;
    for (size_t i = 0; i < cols; ++i) {
      CHECK(std::abs(q[i]) <= kActivationMax);
      worst = std::max(worst, std::fabs(static_cast<double>(x[i]) - static_cast<double>(s) * q[i]) / s);
    }
    CHECK(worst <= 0.5001);
    if (cols >= 64) CHECK(worst > 0.25);  // the bound is not vacuous: rounding really happens
    for (size_t i = cols; i < padded; ++i) CHECK(q[i] == 0);
  }
  std::vector<float> zero(40, 0.0f);
  std::vector<int16_t> q(64, 5);
  CHECK(quantize_row_int16(zero.data(), 40, 64, q.data()) == 0.0f);
  for (int16_t v : q) CHECK(v == 0);
  zero[3] = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(quantize_row_int16(zero.data(), 40, 64, q.data())));
  zero[3] = std::numeric_limits<float>::infinity();
  CHECK(std::isnan(quantize_row_int16(zero.data(), 40, 64, q.data())));
}

TEST_CASE("quant::quantize_rows_int8: symmetric range and |w - s q| <= 0.5001 s per row") {
  testing::TestRng rng(3);
  const size_t rows = 37, cols = 91;
  std::vector<float> w = testing::random_values(rng, rows * cols, 0.3f);
  for (size_t c = 0; c < cols; ++c) w[5 * cols + c] = 0.0f;  // an all-zero row
  const quant::Int8Rows q = quant::quantize_rows_int8(w.data(), rows, cols);
  CHECK(q.scales[5] == 0.0f);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const int8_t v = q.q[r * cols + c];
      CHECK(v >= -127);
      const double err = std::fabs(w[r * cols + c] - static_cast<double>(q.scales[r]) * v);
      CHECK(err <= 0.5001 * q.scales[r] + 1e-30);
    }
  }
}

TEST_CASE("int8_gemm_rows: exact integer sums, bit-identical kernels, int64 spill past 4096 values") {
  testing::TestRng rng(11);
  for (size_t depth : {32u, 64u, 160u, 4096u + 64u, 9000u}) {
    const size_t rows = 11, batch = 3, stride = padded_depth(depth);
    std::vector<int8_t> w(rows * stride, 0);
    std::vector<int16_t> x(batch * stride, 0);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < depth; ++i) {
        // Row 0: all extremes of one sign (the largest sums the kernels must carry exactly).
        w[r * stride + i] = r == 0 ? -128 : static_cast<int8_t>(static_cast<int>(rng.next() % 255) - 127);
      }
    }
    for (size_t b = 0; b < batch; ++b) {
      for (size_t i = 0; i < depth; ++i) {
        x[b * stride + i] =
            b == 0 ? -32767 : static_cast<int16_t>(static_cast<int>(rng.next() % 65535) - 32767);
      }
    }
    std::vector<float> ws(rows), xs(batch), bias(rows);
    for (size_t r = 0; r < rows; ++r) {
      ws[r] = 0.001f + rng.uniform() * 0.01f;
      bias[r] = rng.symmetric(1.0f);
    }
    for (size_t b = 0; b < batch; ++b) xs[b] = 1e-4f + rng.uniform() * 1e-3f;
    Int8MatrixView wv{w.data(), ws.data(), rows, depth, stride};
    ActivationsView xv{x.data(), xs.data(), batch, depth, stride};
    std::vector<float> best(batch * rows), generic(batch * rows);
    int8_gemm_rows(wv, xv, bias.data(), 0, rows, best.data(), rows);
    int8_gemm_force_generic(true);
    int8_gemm_rows(wv, xv, bias.data(), 0, rows, generic.data(), rows);
    int8_gemm_force_generic(false);
    CHECK(std::memcmp(best.data(), generic.data(), best.size() * sizeof(float)) == 0);
    for (size_t b = 0; b < batch; ++b) {
      for (size_t r = 0; r < rows; ++r) {
        int64_t sum = 0;
        for (size_t i = 0; i < depth; ++i) sum += int64_t{x[b * stride + i]} * w[r * stride + i];
        // The documented epilogue, operation for operation.
        const float want = static_cast<float>(sum) * (xs[b] * ws[r]) + bias[r];
        CHECK_MESSAGE(best[b * rows + r] == want, "depth " << depth << " b " << b << " r " << r);
        const double exact = static_cast<double>(sum) * xs[b] * ws[r] + bias[r];
        const double bound = 3 * 0x1p-24 * std::fabs(static_cast<double>(sum) * xs[b] * ws[r]) +
                             0x1p-24 * std::fabs(exact) + 1e-30;
        CHECK(std::fabs(best[b * rows + r] - exact) <= bound);
      }
    }
  }
  MESSAGE("int8 kernel on this CPU: " << std::string(int8_gemm_kernel_name()));
}

TEST_CASE("Linear int8 vs the f32 layer: error within the bound of weight and activation rounding") {
  testing::TestRng rng(5);
  for (uint32_t in : {64u, 100u, 256u}) {
    const uint32_t out = 96, batch = 5;
    std::vector<float> w = testing::random_values(rng, size_t{out} * in, 0.2f);
    std::vector<float> bias = testing::random_values(rng, out, 0.5f);
    std::vector<float> x = testing::random_values(rng, size_t{batch} * in, 2.0f);
    x[3] = 25.0f;  // outlier in token 0
    const quant::Int8Rows q = quant::quantize_rows_int8(w.data(), out, in);
    const format::TensorView wv = int8_view(q.q, q.scales, out, in);
    const format::TensorView bv = f32_view(bias, out, 0, "test.b");
    auto lin = Linear::create(wv, &bv);
    REQUIRE(lin.ok());
    CHECK(lin.value().is_int8());
    CHECK(lin.value().weight_bytes() == size_t{out} * padded_depth(in) + out * sizeof(float));
    LinearInput input;
    REQUIRE(input.reserve(batch, in).ok());
    std::vector<float> y(size_t{batch} * out);
    REQUIRE(lin.value().run(input.bind(x.data(), batch, in), y.data(), nullptr).ok());
    for (uint32_t b = 0; b < batch; ++b) {
      const float* xb = x.data() + size_t{b} * in;
      double amax = 0, sum_abs_x = 0;
      for (uint32_t i = 0; i < in; ++i) {
        amax = std::max(amax, std::fabs(static_cast<double>(xb[i])));
        sum_abs_x += std::fabs(xb[i]);
      }
      const double sx = amax / kActivationMax;
      for (uint32_t o = 0; o < out; ++o) {
        double ref = bias[o], sum_abs_w = 0, mag = 0;
        for (uint32_t i = 0; i < in; ++i) {
          ref += static_cast<double>(w[size_t{o} * in + i]) * xb[i];
          sum_abs_w += std::fabs(w[size_t{o} * in + i]);
          mag += std::fabs(static_cast<double>(w[size_t{o} * in + i]) * xb[i]);
        }
        const double sw = q.scales[o];
        // |x w - x' w'| <= |x| |w - w'| + |w'| |x - x'|, with |w - w'| <= 0.5001 sw and |x - x'| <= 0.5001
        // sx.
        const double bound = 0.5001 * sw * sum_abs_x + 0.5001 * sx * (sum_abs_w + 0.5001 * sw * in) +
                             4 * 0x1p-24 * (mag + std::fabs(ref)) + 1e-6;
        CHECK_MESSAGE(std::fabs(y[size_t{b} * out + o] - ref) <= bound,
                      "in " << in << " b " << b << " o " << o);
      }
    }
  }
}

TEST_CASE("Linear int8: shared input quantized once, thread pool and serial runs agree bit for bit") {
  testing::TestRng rng(9);
  const uint32_t in = 256, out = 520, batch = 3;  // > kParallelMinMacs: the pool is used
  std::vector<float> w = testing::random_values(rng, size_t{out} * in, 0.1f);
  std::vector<float> x = testing::random_values(rng, size_t{batch} * in, 1.0f);
  const quant::Int8Rows q = quant::quantize_rows_int8(w.data(), out, in);
  auto lin = Linear::create(int8_view(q.q, q.scales, out, in), nullptr);
  REQUIRE(lin.ok());
  uint32_t actual = 0;
  auto pool = threads::create_pool(2, &actual);
  REQUIRE(pool.ok());
  threads::PoolPtr owner(pool.value());
  LinearInput input;
  REQUIRE(input.reserve(batch, in).ok());
  std::vector<float> serial(size_t{batch} * out), parallel(size_t{batch} * out);
  LinearInput& bound = input.bind(x.data(), batch, in);
  REQUIRE(lin.value().run(bound, serial.data(), nullptr).ok());
  REQUIRE(lin.value().run(bound, parallel.data(), owner.get()).ok());
  CHECK(std::memcmp(serial.data(), parallel.data(), serial.size() * sizeof(float)) == 0);
  // A batch larger than planned is an error, not an overflow.
  CHECK_FALSE(lin.value().run(input.bind(x.data(), batch + 1, in), serial.data(), nullptr).ok());
  // Per-tensor scales are accepted and expanded per row.
  format::TensorView pt = int8_view(q.q, q.scales, out, in);
  pt.quant.granularity = format::QuantGranularity::kPerTensor;
  pt.quant.scale_count = 1;
  CHECK(Linear::create(pt, nullptr).ok());
  format::TensorView pc = pt;
  pc.quant.granularity = format::QuantGranularity::kPerColumn;
  CHECK(Linear::create(pc, nullptr).status().code() == ErrorCode::kUnsupported);
}
