// The dense (f32/f16) linear kernels on every path the build holds and the CPU runs: against a double
// reference within the float dot-product bound; the same bits for a token whatever its batch, tile position,
// row range or thread split (dense_gemm.hpp's summation-order contract); f16 rows equal f32 rows of the
// widened weights bit for bit; and Linear reads f32/f16 weights in place (no bytes owned).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dense_gemm.hpp"
#include "kernels/linear.hpp"
#include "numerics/half.hpp"
#include "numerics/prng.hpp"
#include "threads.hpp"

using namespace ordinal;
using namespace ordinal::kernels;
using ordinal::numerics::SplitMix64;

namespace {

std::vector<const DenseGemmKernels*> paths() {
  std::vector<const DenseGemmKernels*> p;
  for (int i = 0; i < kIsaCount; ++i) {
    const DenseGemmKernels* k = dense_gemm_kernels_for(static_cast<Isa>(i));
    if (k != nullptr) p.push_back(k);
  }
  return p;
}

std::vector<float> random_floats(SplitMix64& rng, size_t n, double scale) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>((rng.uniform01() * 2.0 - 1.0) * scale);
  return v;
}

bool same_bits(const float* a, const float* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

struct Case {
  size_t rows, cols, batch;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  for (size_t rows : {1, 2, 3, 4, 5, 7, 9, 37})
    for (size_t cols : {1, 3, 4, 7, 8, 13, 64, 172, 773})
      for (size_t batch : {1, 2, 3, 4, 5, 7, 32}) c.push_back({rows, cols, batch});
  // Matrices over kDenseCachedGemvBytes (in f32 and in f16): the streaming one-row-at-a-time GEMV, whose
  // bits must equal the cached 8/4-row GEMV's (sub-matrices below it) and the GEMM's.
  for (size_t batch : {1, 2, 3}) c.push_back({2 * kDenseCachedGemvBytes / (2 * 773) + 13, 773, batch});
  return c;
}

}  // namespace

TEST_CASE("dense kernels: every path within the float dot-product bound of a double reference") {
  SplitMix64 rng(7);
  for (const DenseGemmKernels* k : paths()) {
    CAPTURE(std::string(k->name));
    for (const Case& c : cases()) {
      CAPTURE(c.rows);
      CAPTURE(c.cols);
      CAPTURE(c.batch);
      const std::vector<float> w = random_floats(rng, c.rows * c.cols, 1.0);
      const std::vector<float> x = random_floats(rng, c.batch * c.cols, 4.0);
      const std::vector<float> bias = random_floats(rng, c.rows, 1.0);
      std::vector<float> y(c.batch * c.rows, NAN);
      k->f32_rows(w.data(), c.rows, c.cols, x.data(), c.batch, bias.data(), 0, c.rows, y.data(), c.rows);
      for (size_t b = 0; b < c.batch; ++b) {
        for (size_t r = 0; r < c.rows; ++r) {
          double ref = bias[r], mag = std::fabs(bias[r]);
          for (size_t i = 0; i < c.cols; ++i) {
            ref += double{w[r * c.cols + i]} * x[b * c.cols + i];
            mag += std::fabs(double{w[r * c.cols + i]} * x[b * c.cols + i]);
          }
          // |error| <= gamma_(n+1) * sum |terms| with gamma_m = m u / (1 - m u), u = 2^-24.
          const double u = std::ldexp(1.0, -24), m = static_cast<double>(c.cols + 2);
          const double bound = m * u / (1 - m * u) * mag;
          REQUIRE(std::fabs(y[b * c.rows + r] - ref) <= bound);
        }
      }
    }
  }
}

TEST_CASE("dense kernels: a token's outputs do not depend on batch, tile, row range or position") {
  SplitMix64 rng(11);
  for (const DenseGemmKernels* k : paths()) {
    CAPTURE(std::string(k->name));
    for (const Case& c : cases()) {
      CAPTURE(c.rows);
      CAPTURE(c.cols);
      CAPTURE(c.batch);
      const std::vector<float> w = random_floats(rng, c.rows * c.cols, 1.0);
      const std::vector<float> x = random_floats(rng, c.batch * c.cols, 2.0);
      std::vector<float> whole(c.batch * c.rows), split(c.batch * c.rows);
      k->f32_rows(w.data(), c.rows, c.cols, x.data(), c.batch, nullptr, 0, c.rows, whole.data(), c.rows);
      // The same token in another batch of its class: alone (GEMV) or first of kDenseGemmMinBatch (GEMM).
      const size_t other_batch = c.batch < kDenseGemmMinBatch ? 1 : kDenseGemmMinBatch;
      std::vector<float> other_x(other_batch * c.cols), other_y(other_batch * c.rows);
      for (size_t b = 0; b < c.batch; ++b) {
        for (size_t o = 0; o < other_batch; ++o) {
          const size_t src = o == 0 ? b : (b + o) % c.batch;
          std::memcpy(other_x.data() + o * c.cols, x.data() + src * c.cols, c.cols * sizeof(float));
        }
        k->f32_rows(w.data(), c.rows, c.cols, other_x.data(), other_batch, nullptr, 0, c.rows, other_y.data(),
                    c.rows);
        REQUIRE(same_bits(other_y.data(), whole.data() + b * c.rows, c.rows));
      }
      // Row ranges of 1, 2, 3, ... rows (every block remainder) stitched together.
      for (size_t r = 0, step = 1; r < c.rows; r += step, ++step) {
        k->f32_rows(w.data(), c.rows, c.cols, x.data(), c.batch, nullptr, r, std::min(c.rows, r + step),
                    split.data(), c.rows);
      }
      REQUIRE(same_bits(split.data(), whole.data(), whole.size()));
      // The same ranges as matrices of their own (rows = the range): small ones take the cached 8/4-row
      // GEMV even where the whole matrix streams row after row; the bits must not change.
      std::fill(split.begin(), split.end(), 0.0f);
      for (size_t r = 0, step = 1; r < c.rows; r += step, ++step) {
        const size_t n = std::min(c.rows, r + step) - r;
        std::vector<float> part(c.batch * n);
        k->f32_rows(w.data() + r * c.cols, n, c.cols, x.data(), c.batch, nullptr, 0, n, part.data(), n);
        for (size_t b = 0; b < c.batch; ++b)
          std::memcpy(split.data() + b * c.rows + r, part.data() + b * n, n * sizeof(float));
      }
      REQUIRE(same_bits(split.data(), whole.data(), whole.size()));
    }
  }
}

TEST_CASE("dense kernels: prefill-sized batches give the bits of each token decoded alone") {
  // 110M-like rows (768 columns, one with a tail), 8-row blocks plus leftovers, 6-token groups plus
  // leftovers, with a bias: every token of the batch against the same token decoded alone.
  SplitMix64 rng(19);
  for (const DenseGemmKernels* k : paths()) {
    CAPTURE(std::string(k->name));
    for (size_t cols : {768, 771}) {
      const size_t rows = 8 * 5 + 3, batch = 6 * 4 + 5;
      CAPTURE(cols);
      const std::vector<float> w = random_floats(rng, rows * cols, 1.0);
      const std::vector<float> x = random_floats(rng, batch * cols, 2.0);
      const std::vector<float> bias = random_floats(rng, rows, 1.0);
      std::vector<float> y(batch * rows), one(rows);
      k->f32_rows(w.data(), rows, cols, x.data(), batch, bias.data(), 0, rows, y.data(), rows);
      for (size_t b = 0; b < batch; ++b) {
        k->f32_rows(w.data(), rows, cols, x.data() + b * cols, 1, bias.data(), 0, rows, one.data(), rows);
        CAPTURE(b);
        REQUIRE(same_bits(one.data(), y.data() + b * rows, rows));
      }
      // A row range starting off the 8-row grid.
      std::vector<float> part(batch * rows, 0.0f);
      k->f32_rows(w.data(), rows, cols, x.data(), batch, bias.data(), 3, rows, part.data(), rows);
      for (size_t b = 0; b < batch; ++b)
        REQUIRE(same_bits(part.data() + b * rows + 3, y.data() + b * rows + 3, rows - 3));
    }
  }
}

TEST_CASE("dense kernels: f16 rows give the bits of f32 rows holding the widened halves") {
  SplitMix64 rng(13);
  for (const DenseGemmKernels* k : paths()) {
    CAPTURE(std::string(k->name));
    // ARMv7's NEON table has no f16 kernel: its f16 rows take the scalar kernel, whose summation order is not
    // the NEON f32 kernel's, so there an f16 model and its widened f32 twin may differ in the last bits.
    if (k != &dense_gemm_scalar() && k->f16_rows == dense_gemm_scalar().f16_rows) continue;
    for (const Case& c : cases()) {
      std::vector<uint16_t> h(c.rows * c.cols);
      std::vector<float> widened(h.size());
      for (size_t i = 0; i < h.size(); ++i) {
        // Normal halves of both signs, some subnormal and zero ones.
        const uint64_t pick = rng.below(32);
        h[i] = pick == 0   ? 0
               : pick == 1 ? static_cast<uint16_t>(rng.below(1024)) | 0x8000u
                           : numerics::float_to_half(static_cast<float>(rng.uniform01() * 2 - 1));
        widened[i] = numerics::half_to_float(h[i]);
      }
      const std::vector<float> x = random_floats(rng, c.batch * c.cols, 2.0);
      const std::vector<float> bias = random_floats(rng, c.rows, 1.0);
      std::vector<float> from_half(c.batch * c.rows), from_f32(c.batch * c.rows);
      k->f16_rows(h.data(), c.rows, c.cols, x.data(), c.batch, bias.data(), 0, c.rows, from_half.data(),
                  c.rows);
      k->f32_rows(widened.data(), c.rows, c.cols, x.data(), c.batch, bias.data(), 0, c.rows, from_f32.data(),
                  c.rows);
      CAPTURE(c.rows);
      CAPTURE(c.cols);
      CAPTURE(c.batch);
      REQUIRE(same_bits(from_half.data(), from_f32.data(), from_f32.size()));
    }
  }
}

TEST_CASE("Linear f32/f16: weights read in place, pool and calling thread agree bit for bit") {
  SplitMix64 rng(17);
  const uint32_t in = 300, out = 517, batch = 5;  // > kParallelMinMacs: the pool is used
  std::vector<float> w = random_floats(rng, size_t{out} * in, 0.5);
  std::vector<float> bias = random_floats(rng, out, 0.5);
  std::vector<uint16_t> wh(w.size());
  for (size_t i = 0; i < w.size(); ++i) wh[i] = numerics::float_to_half(w[i]);
  const std::vector<float> x = random_floats(rng, size_t{batch} * in, 1.0);
  uint32_t actual = 0;
  auto created = threads::create_pool(3, &actual);
  REQUIRE(created.ok());
  threads::PoolPtr owner(created.value());
  threads::Pool* pool = owner.get();
  for (format::DType dt : {format::DType::kF32, format::DType::kF16}) {
    format::TensorView wv;
    wv.name = "w";
    wv.dtype = dt;
    wv.rank = 2;
    wv.shape[0] = out;
    wv.shape[1] = in;
    wv.data = dt == format::DType::kF32 ? reinterpret_cast<const uint8_t*>(w.data())
                                        : reinterpret_cast<const uint8_t*>(wh.data());
    wv.bytes = size_t{out} * in * (dt == format::DType::kF32 ? 4 : 2);
    format::TensorView bv;
    bv.name = "b";
    bv.rank = 1;
    bv.shape[0] = out;
    bv.data = reinterpret_cast<const uint8_t*>(bias.data());
    bv.bytes = out * 4;
    auto lin = Linear::create(wv, &bv);
    REQUIRE(lin.ok());
    CHECK(lin.value().owned_bytes() == 0);
    CHECK(lin.value().weight_bytes() == wv.bytes + out * 4);
    LinearInput input;
    REQUIRE(input.reserve(batch, in).ok());
    std::vector<float> serial(size_t{batch} * out), pooled(size_t{batch} * out), one(out);
    REQUIRE(lin.value().run(input.bind(x.data(), batch, in), serial.data(), nullptr).ok());
    REQUIRE(lin.value().run(input.bind(x.data(), batch, in), pooled.data(), pool).ok());
    CHECK(same_bits(serial.data(), pooled.data(), serial.size()));
    std::vector<float> one_serial(out);
    for (uint32_t b = 0; b < batch; ++b) {
      REQUIRE(lin.value().run(input.bind(x.data() + b * in, 1, in), one.data(), pool).ok());
      REQUIRE(lin.value().run(input.bind(x.data() + b * in, 1, in), one_serial.data(), nullptr).ok());
      CHECK(same_bits(one.data(), one_serial.data(), out));
      CHECK(same_bits(one.data(), serial.data() + size_t{b} * out, out));
    }
    // Against the double reference of the same (f16-widened) weights.
    for (uint32_t r = 0; r < out; r += 97) {
      double ref = bias[r];
      for (uint32_t i = 0; i < in; ++i) {
        const float wi = dt == format::DType::kF32 ? w[size_t{r} * in + i]
                                                   : numerics::half_to_float(wh[size_t{r} * in + i]);
        ref += double{wi} * x[i];
      }
      CHECK(std::fabs(serial[r] - ref) < 1e-4 * (1 + std::fabs(ref)));
    }
  }
}
