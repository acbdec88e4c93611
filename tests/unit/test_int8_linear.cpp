// The per-row int8 linear path (kernels/group_gemm with per-row scales, int16 activations per block of 32)
// against the f32 layer it replaces, within the error bound that follows from the two quantizations; thread
// pool and serial runs bit-identical. The kernel's bits on every path: test_group_gemm.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/group_gemm.hpp"
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
    CHECK(lin.value().is_integer());
    CHECK(lin.value().owned_bytes() == out * sizeof(float));  // codes read in place; f32 row scales
    CHECK(lin.value().weight_bytes() == size_t{out} * in + 2 * out * sizeof(float));  // + scales, bias
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
      const double sx = amax / kAct16Max;  // block scales are at most the token's
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
