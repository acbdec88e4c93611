// The integer-weight kernels (kernels/group_gemm.hpp): activation quantization against its stated bounds,
// every compiled path bit-identical to a reference written here from the documented definition (codes
// in natural order, exact int64 block sums, the 8-lane float combination), and the layer's error against a
// double-precision product within the bound the two quantizations imply.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "format/tensor_view.hpp"
#include "kernels/group_gemm.hpp"
#include "kernels/linear.hpp"
#include "numerics/half.hpp"
#include "numerics/strict_float.hpp"  // the reference's float operations round one at a time, as the kernels'
#include "threads.hpp"
// quant/ is built with the host tools; the armhf cross stage builds the runtime and this file without them.
#if defined(ORDINAL_HAVE_TOOL_LIB)
#include "quant/weights.hpp"
#endif

using namespace ordinal;
using namespace ordinal::kernels;

namespace {

// Deterministic test data (xorshift64*), the same on every target.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  float uniform() { return static_cast<float>(next() >> 40) / 16777216.0f; }  // [0, 1)

 private:
  uint64_t s_;
};

std::vector<float> random_values(Rng& rng, size_t n, float scale) {
  std::vector<float> v(n);
  for (float& x : v) x = (2.0f * rng.uniform() - 1.0f) * scale;
  return v;
}

// ---- the reference, from the header's definition ----

// One block's codes in natural order and its scale: s = max|x| / m, q = round-half-even(x * (m / max|x|)).
float ref_quantize_block(const float* x, size_t n, int m, int32_t* q) {
  float amax = 0;
  bool finite = true;
  for (size_t i = 0; i < n; ++i) {
    finite = finite && std::isfinite(x[i]);
    amax = std::fmax(amax, std::fabs(x[i]));
  }
  for (size_t i = 0; i < kBlock; ++i) q[i] = 0;
  if (!finite) return NAN;
  const float inv = static_cast<float>(m) / amax;
  if (amax == 0 || !std::isfinite(inv)) return 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float v = std::nearbyintf(x[i] * inv);
    q[i] = static_cast<int32_t>(std::fmax(-m, std::fmin(m, v)));
  }
  return amax / static_cast<float>(m);
}

struct RefMatrix {
  GroupCodes codes;
  size_t rows, cols, group;  // group == cols: per-row f32 scales
  std::vector<uint8_t> data;
  std::vector<uint16_t> scales;  // f16 per group
  std::vector<float> row_scales;
  std::vector<uint8_t> zeros;
  GroupMatrixView view() const {
    GroupMatrixView v;
    v.codes = codes;
    v.data = data.data();
    v.scales = scales.empty() ? nullptr : reinterpret_cast<const uint8_t*>(scales.data());
    v.row_scales = row_scales.empty() ? nullptr : row_scales.data();
    v.zeros = zeros.empty() ? nullptr : zeros.data();
    const size_t row_bytes = codes == GroupCodes::kInt8 ? cols : cols / 2;
    v.set_shape(rows, cols, group, row_bytes);
    return v;
  }
  int32_t code(size_t r, size_t c) const {
    if (codes == GroupCodes::kInt8) return static_cast<int8_t>(data[r * cols + c]);
    const uint8_t b = data[r * (cols / 2) + c / 2];
    const int nib = c % 2 == 0 ? (b & 15) : (b >> 4);
    if (codes == GroupCodes::kInt4) return (nib ^ 8) - 8;
    return nib - zeros[r * (cols / group) + c / group];
  }
  float scale(size_t r, size_t c) const {
    return row_scales.empty() ? numerics::half_to_float(scales[r * (cols / group) + c / group])
                              : row_scales[r];
  }
};

// Random codes over the whole range (int8 includes -128, int4 every nibble) and scales of mixed sizes.
RefMatrix random_matrix(Rng& rng, GroupCodes codes, size_t rows, size_t cols, size_t group, bool per_row) {
  RefMatrix m{codes, rows, cols, per_row ? cols : group, {}, {}, {}, {}};
  const size_t groups = cols / m.group;
  m.data.resize(codes == GroupCodes::kInt8 ? rows * cols : rows * cols / 2);
  for (uint8_t& b : m.data) b = static_cast<uint8_t>(rng.next() >> 56);
  if (per_row) {
    for (size_t r = 0; r < rows; ++r)
      m.row_scales.push_back(std::ldexp(rng.uniform() + 0.5f, -7 - (int)(r % 5)));
  } else {
    for (size_t i = 0; i < rows * groups; ++i) {
      m.scales.push_back(numerics::float_to_half(std::ldexp(rng.uniform() + 0.25f, -6 - (int)(i % 7))));
    }
  }
  if (codes == GroupCodes::kInt4Zero) {
    for (size_t i = 0; i < rows * groups; ++i) m.zeros.push_back(static_cast<uint8_t>(rng.next() % 16));
  }
  return m;
}

// y[b * rows + r] by the documented combination.
std::vector<float> reference(const RefMatrix& m, const std::vector<float>& x, size_t batch,
                             const float* bias) {
  const size_t blocks = (m.cols + kBlock - 1) / kBlock;
  const int amax_code = m.codes == GroupCodes::kInt8 ? kAct16Max : kAct8Max;
  std::vector<float> y(batch * m.rows);
  for (size_t b = 0; b < batch; ++b) {
    std::vector<int32_t> q(blocks * kBlock);
    std::vector<float> s(blocks);
    for (size_t j = 0; j < blocks; ++j) {
      const size_t n = std::min(kBlock, m.cols - j * kBlock);
      s[j] = ref_quantize_block(x.data() + b * m.cols + j * kBlock, n, amax_code, q.data() + j * kBlock);
    }
    for (size_t r = 0; r < m.rows; ++r) {
      float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (size_t j = 0; j < blocks; ++j) {
        int64_t sum = 0;
        for (size_t i = j * kBlock; i < std::min(m.cols, (j + 1) * kBlock); ++i)
          sum += int64_t{m.code(r, i)} * q[i];
        const float d = m.scale(r, j * kBlock) * s[j];
        lane[j % 8] = lane[j % 8] + static_cast<float>(sum) * d;
      }
      float v = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
      if (bias) v = v + bias[r];
      y[b * m.rows + r] = v;
    }
  }
  return y;
}

// Quantized activations for the kernels (the LinearInput buffers' layout).
struct Acts {
  std::vector<int8_t> q8;
  std::vector<int16_t> q16;
  std::vector<float> s8, s16;
  std::vector<int32_t> sums;
  // The token-interleaved prefill copies, as LinearInput makes them for batch > 1 (`interleaved`).
  std::vector<int8_t> q8x;
  std::vector<int16_t> q16x;
  std::vector<float> s8x, s16x;
  std::vector<int32_t> sumsx;
  GroupActivationsView v;
  Acts(const std::vector<float>& x, size_t batch, size_t cols, bool interleaved = true) {
    const size_t blocks = (cols + kBlock - 1) / kBlock, stride = blocks * kBlock;
    q8.assign(batch * stride, 0);
    q16.assign(batch * stride, 0);
    s8.assign(batch * blocks, 0);
    s16.assign(batch * blocks, 0);
    sums.assign(batch * blocks, 0);
    for (size_t b = 0; b < batch; ++b) {
      if (cols % kBlock == 0) {
        quantize_activations_int8(x.data() + b * cols, cols, q8.data() + b * stride, s8.data() + b * blocks,
                                  sums.data() + b * blocks);
      }
      quantize_activations_int16(x.data() + b * cols, cols, q16.data() + b * stride, s16.data() + b * blocks);
    }
    v.q8 = q8.data();
    v.q16 = q16.data();
    v.scales8 = s8.data();
    v.scales16 = s16.data();
    v.sums8 = sums.data();
    v.batch = batch;
    v.cols = cols;
    v.blocks = blocks;
    v.stride = stride;
    if (!interleaved || batch < 2) return;
    q8x.assign(interleaved_codes(batch, blocks), 1);  // not zero: the padding must be written
    q16x.assign(interleaved_codes(batch, blocks), 1);
    s8x.assign(interleaved_scales(batch, blocks), 1.0f);
    s16x.assign(interleaved_scales(batch, blocks), 1.0f);
    sumsx.assign(interleaved_scales(batch, blocks), 1);
    interleave_activations_int8(q8.data(), s8.data(), sums.data(), batch, blocks, q8x.data(), s8x.data(),
                                sumsx.data());
    interleave_activations_int16(q16.data(), s16.data(), batch, blocks, q16x.data(), s16x.data());
    v.q8x = q8x.data();
    v.scales8x = s8x.data();
    v.sums8x = sumsx.data();
    v.q16x = q16x.data();
    v.scales16x = s16x.data();
  }
};

bool same_bits(float a, float b) {
  uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

std::vector<GroupPath> supported_paths() {
  std::vector<GroupPath> p;
  for (int i = 0; i < kGroupPathCount; ++i) {
    if (group_path_supported(static_cast<GroupPath>(i))) p.push_back(static_cast<GroupPath>(i));
  }
  return p;
}

}  // namespace

TEST_CASE("activation quantization: |x - s q| <= 0.5001 s per block; int4 order; zero, tiny and NaN blocks") {
  Rng rng(11);
  for (size_t cols : {32u, 64u, 96u, 256u, 768u}) {
    std::vector<float> x = random_values(rng, cols, 2.0f);
    x[cols / 3] = -30.0f;  // an outlier in one block
    const size_t blocks = cols / kBlock;
    std::vector<int8_t> q8(cols);
    std::vector<int16_t> q16(cols);
    std::vector<float> s8(blocks), s16(blocks);
    std::vector<int32_t> sums(blocks);
    quantize_activations_int8(x.data(), cols, q8.data(), s8.data(), sums.data());
    quantize_activations_int16(x.data(), cols, q16.data(), s16.data());
    for (size_t j = 0; j < blocks; ++j) {
      int32_t sum = 0;
      for (size_t i = 0; i < kBlock; ++i) {
        const size_t c = j * kBlock + i;
        // Natural element i of block j sits at the even/odd offsets of the int4 order.
        const int8_t c8 =
            i % 2 == 0 ? q8[nibble_even_offset(j, blocks) + i / 2] : q8[nibble_odd_offset(j, blocks) + i / 2];
        sum += c8;
        CHECK(std::fabs(static_cast<double>(x[c]) - static_cast<double>(s8[j]) * c8) <= 0.5001 * s8[j]);
        CHECK(std::fabs(static_cast<double>(x[c]) - static_cast<double>(s16[j]) * q16[c]) <= 0.5001 * s16[j]);
        CHECK(std::abs(c8) <= kAct8Max);
        CHECK(std::abs(q16[c]) <= kAct16Max);
      }
      CHECK(sum == sums[j]);
    }
  }
  std::vector<float> x(64, 0.0f);
  x[40] = 1e-38f;  // block 1: 127 / max|x| overflows float
  std::vector<int8_t> q8(64);
  std::vector<int16_t> q16(64);
  float s8[2], s16[2];
  int32_t sums[2];
  quantize_activations_int8(x.data(), 64, q8.data(), s8, sums);
  quantize_activations_int16(x.data(), 64, q16.data(), s16);
  CHECK(s8[0] == 0.0f);
  CHECK(s16[0] == 0.0f);
  CHECK(s8[1] == 0.0f);
  x[3] = NAN;
  quantize_activations_int8(x.data(), 64, q8.data(), s8, sums);
  quantize_activations_int16(x.data(), 64, q16.data(), s16);
  CHECK(std::isnan(s8[0]));
  CHECK(std::isnan(s16[0]));
  CHECK(q8[0] == 0);
}

TEST_CASE(
    "every path computes the reference's bits: int8 (group, per row, partial block), int4, int4 + zero") {
  Rng rng(5);
  const std::vector<GroupPath> paths = supported_paths();
  MESSAGE("paths on this CPU: " << paths.size() << ", default "
                                << std::string(group_path_name(group_gemm_path())));
  struct Case {
    GroupCodes codes;
    size_t cols, group;
    bool per_row;
  };
  const Case cases[] = {
      {GroupCodes::kInt8, 32, 32, false},      {GroupCodes::kInt8, 288, 32, false},
      {GroupCodes::kInt8, 768, 64, false},     {GroupCodes::kInt8, 512, 256, false},
      {GroupCodes::kInt8, 172, 0, true},       {GroupCodes::kInt8, 20, 0, true},
      {GroupCodes::kInt8, 544, 0, true},       {GroupCodes::kInt4, 32, 32, false},
      {GroupCodes::kInt4, 96, 32, false},      {GroupCodes::kInt4, 288, 32, false},
      {GroupCodes::kInt4, 768, 64, false},     {GroupCodes::kInt4, 384, 128, false},
      {GroupCodes::kInt4, 480, 96, false},     {GroupCodes::kInt4, 2048, 32, false},
      {GroupCodes::kInt4Zero, 64, 32, false},  {GroupCodes::kInt4Zero, 320, 32, false},
      {GroupCodes::kInt4Zero, 768, 64, false}, {GroupCodes::kInt8, 4160, 32, false},
      {GroupCodes::kInt4, 4160, 64, false}};  // the last two: wider than prefill's row buffer
  for (const Case& c : cases) {
    for (size_t batch : {1u, 2u, 3u, 5u, 8u, 19u}) {
      const size_t rows = 1 + rng.next() % 11;
      const RefMatrix m = random_matrix(rng, c.codes, rows, c.cols, c.group, c.per_row);
      std::vector<float> x = random_values(rng, batch * c.cols, 1.5f);
      for (size_t i = 0; i < x.size(); i += 37) x[i] *= 40.0f;  // a few large values per token
      std::vector<float> bias = random_values(rng, rows, 0.3f);
      const std::vector<float> want = reference(m, x, batch, bias.data());
      const Acts a(x, batch, c.cols);
      const Acts plain(x, batch, c.cols, false);  // without the prefill copies: the per-token kernels
      for (GroupPath p : paths) {
        for (const Acts* acts : {&a, &plain}) {
          std::vector<float> got(batch * rows, -1.0f);
          group_gemm_rows_with(p, m.view(), acts->v, bias.data(), 0, rows, got.data(), rows);
          for (size_t i = 0; i < got.size(); ++i) {
            INFO("path " << group_path_name(p) << " codes " << int(c.codes) << " cols " << c.cols << " group "
                         << c.group << " batch " << batch << " interleaved " << (acts == &a) << " index "
                         << i);
            REQUIRE(same_bits(got[i], want[i]));
          }
        }
        // A row range writes only its rows.
        std::vector<float> part(batch * rows, 7.0f);
        group_gemm_rows_with(p, m.view(), a.v, nullptr, rows / 2, rows, part.data(), rows);
        for (size_t b = 0; b < batch; ++b)
          for (size_t r = 0; r < rows / 2; ++r) CHECK(part[b * rows + r] == 7.0f);
      }
    }
  }
}

TEST_CASE("the vector activation quantizers give the scalar definition's bits (ties, NaN, Inf, tiny, zero)") {
  Rng rng(13);
  const bool vector = group::avx2_quantize_int8() != nullptr &&
                      (group_gemm_path() == GroupPath::kAvx2 || group_gemm_path() == GroupPath::kAvx512Vnni);
  MESSAGE("vector quantizers in use: " << (vector ? "yes" : "no (the scalar one is compared with itself)"));
  for (size_t cols : {32u, 64u, 96u, 100u, 288u, 768u, 20u, 2048u}) {
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<float> x = random_values(rng, cols, trial == 0 ? 1e3f : 2.0f);
      const size_t blocks = (cols + kBlock - 1) / kBlock;
      if (trial == 1) {  // ties: block max 127 (int8 step 1) and values at k + 0.5
        for (size_t i = 0; i < cols; ++i) x[i] = (i % kBlock == 0) ? 127.0f : float(int(i % 9) - 4) + 0.5f;
      }
      if (trial == 2 && cols >= 64) {
        x[3] = std::nanf("");
        x[kBlock + 5] = INFINITY;
      }
      if (trial == 3) {
        for (size_t i = 0; i < std::min<size_t>(cols, kBlock); ++i) x[i] = 0.0f;
        for (size_t i = kBlock; i < std::min<size_t>(cols, 2 * kBlock); ++i) x[i] = 1e-41f * float(i % 3);
      }
      if (trial == 4) {
        for (size_t i = 0; i < cols; ++i)
          x[i] = (i % 2 ? -1.0f : 1.0f) * float(i % kBlock) * 32767.0f / 31.0f;
      }
      std::vector<int8_t> q8(blocks * kBlock, 99), q8s(blocks * kBlock, 99);
      std::vector<float> s8(blocks, -1.0f), s8s(blocks, -1.0f), s16(blocks, -1.0f), s16s(blocks, -1.0f);
      std::vector<int32_t> sum8(blocks, -1), sum8s(blocks, -1);
      std::vector<int16_t> q16(blocks * kBlock, 99), q16s(blocks * kBlock, 99);
      quantize_activations_int8(x.data(), cols, q8.data(), s8.data(), sum8.data());
      group::quantize_int8_scalar(x.data(), cols, q8s.data(), s8s.data(), sum8s.data());
      quantize_activations_int16(x.data(), cols, q16.data(), s16.data());
      group::quantize_int16_scalar(x.data(), cols, q16s.data(), s16s.data());
      INFO("cols " << cols << " trial " << trial);
      CHECK(std::memcmp(q8.data(), q8s.data(), q8.size()) == 0);
      CHECK(std::memcmp(s8.data(), s8s.data(), s8.size() * sizeof(float)) == 0);
      CHECK(sum8 == sum8s);
      CHECK(q16 == q16s);
      CHECK(std::memcmp(s16.data(), s16s.data(), s16.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("one-token decode over many rows (far-apart row runs, remainders, row ranges) keeps the bits") {
  // Decode reads large matrices as several far-apart runs of rows; every row must still get its own bits,
  // whatever the split and the remainder, and a row range (a thread's slice) must write only its rows.
  Rng rng(11);
  const std::vector<GroupPath> paths = supported_paths();
  struct Case {
    GroupCodes codes;
    size_t cols, group;
    bool per_row;
  };
  // 288 and 224 columns end in a partial chunk of blocks (the 15M shape's rows; per-row int8 too).
  const Case cases[] = {{GroupCodes::kInt8, 256, 32, false}, {GroupCodes::kInt8, 768, 0, true},
                        {GroupCodes::kInt4, 512, 32, false}, {GroupCodes::kInt4Zero, 256, 64, false},
                        {GroupCodes::kInt8, 288, 32, false}, {GroupCodes::kInt4, 288, 32, false},
                        {GroupCodes::kInt8, 224, 0, true},   {GroupCodes::kInt4Zero, 224, 32, false}};
  for (const Case& c : cases) {
    for (size_t rows : {47u, 48u, 50u, 97u, 131u}) {
      const RefMatrix m = random_matrix(rng, c.codes, rows, c.cols, c.group, c.per_row);
      const std::vector<float> x = random_values(rng, c.cols, 1.5f);
      const std::vector<float> bias = random_values(rng, rows, 0.3f);
      const std::vector<float> want = reference(m, x, 1, bias.data());
      const Acts a(x, 1, c.cols, false);
      for (GroupPath p : paths) {
        for (size_t begin : {size_t{0}, size_t{5}}) {
          const size_t end = begin == 0 ? rows : rows - 3;
          std::vector<float> got(rows, 7.0f);
          group_gemm_rows_with(p, m.view(), a.v, bias.data(), begin, end, got.data(), rows);
          for (size_t r = 0; r < rows; ++r) {
            INFO("path " << group_path_name(p) << " codes " << int(c.codes) << " cols " << c.cols << " rows "
                         << rows << " range " << begin << ".." << end << " row " << r);
            if (r < begin || r >= end) {
              REQUIRE(got[r] == 7.0f);
            } else {
              REQUIRE(same_bits(got[r], want[r]));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("a non-finite activation block makes its tokens' outputs NaN on every path") {
  Rng rng(9);
  const RefMatrix m = random_matrix(rng, GroupCodes::kInt4, 6, 256, 32, false);
  std::vector<float> x = random_values(rng, 2 * 256, 1.0f);
  x[256 + 100] = INFINITY;  // token 1
  const Acts a(x, 2, 256);
  for (GroupPath p : supported_paths()) {
    std::vector<float> y(12);
    group_gemm_rows_with(p, m.view(), a.v, nullptr, 0, 6, y.data(), 6);
    for (size_t r = 0; r < 6; ++r) {
      CHECK(std::isfinite(y[r]));
      CHECK(std::isnan(y[6 + r]));
    }
  }
}

#if defined(ORDINAL_HAVE_TOOL_LIB)
TEST_CASE("quantized layers against a double product: error within the quantizers' bounds") {
  Rng rng(21);
  const size_t rows = 48, cols = 256, batch = 3;
  const std::vector<float> w = random_values(rng, rows * cols, 0.05f);
  const std::vector<float> x = random_values(rng, batch * cols, 1.0f);
  for (auto f : {quant::GroupFormat::kInt8, quant::GroupFormat::kInt4, quant::GroupFormat::kInt4Zero}) {
    for (size_t group : {32u, 64u}) {
      auto q = quant::quantize_groups(w.data(), rows, cols, group, f);
      REQUIRE(q.ok());
      const std::vector<double> wq = quant::dequantize_groups(q.value(), rows, cols, group, f);
      // The quantizer's bounds per group, with d the stored scale: int8 max(d / 2, max|w| - 127 d) (the f16
      // rounding of d may clip the largest code), int4 max(d / 2, max w - 7 d, -min w - 8 d) (clipping is
      // what the scale search trades against rounding), int4 with zero point d (z and code rounding).
      const size_t groups = cols / group;
      for (size_t r = 0; r < rows; ++r) {
        for (size_t g = 0; g < groups; ++g) {
          const double d = numerics::half_to_float(q.value().scales[r * groups + g]);
          double hi = 0, lo = 0;
          for (size_t i = g * group; i < (g + 1) * group; ++i) {
            hi = std::max(hi, static_cast<double>(w[r * cols + i]));
            lo = std::min(lo, static_cast<double>(w[r * cols + i]));
          }
          const double amax = std::max(hi, -lo);
          const double limit = f == quant::GroupFormat::kInt8   ? std::max(0.5 * d, amax - 127 * d)
                               : f == quant::GroupFormat::kInt4 ? std::max({0.5 * d, hi - 7 * d, -lo - 8 * d})
                                                                : d;
          for (size_t i = g * group; i < (g + 1) * group; ++i) {
            REQUIRE(std::fabs(w[r * cols + i] - wq[r * cols + i]) <= limit * (1 + 1e-6) + 1e-12);
          }
          if (f == quant::GroupFormat::kInt8)
            CHECK(amax - 127 * d <= amax * 127 * std::ldexp(1.0, -11) / 127);
          if (f == quant::GroupFormat::kInt4)
            CHECK(limit <= 0.25 * amax);  // loose: the least-squares step may move d
        }
      }
      format::TensorView v;
      v.name = "t.w";
      v.dtype = f == quant::GroupFormat::kInt8 ? format::DType::kI8 : format::DType::kI4;
      v.rank = 2;
      v.shape[0] = rows;
      v.shape[1] = cols;
      v.data = q.value().codes.data();
      v.bytes = q.value().codes.size();
      v.quant.granularity = format::QuantGranularity::kPerGroup;
      v.quant.group_size = static_cast<uint32_t>(group);
      v.quant.scale_dtype = format::DType::kF16;
      v.quant.scales = reinterpret_cast<const uint8_t*>(q.value().scales.data());
      v.quant.scale_count = q.value().scales.size();
      v.quant.zero_points = q.value().zero_points.empty() ? nullptr : q.value().zero_points.data();
      auto lin = Linear::create(v, nullptr);
      REQUIRE(lin.ok());
      CHECK(lin.value().is_integer());
      LinearInput in;
      REQUIRE(in.reserve(batch, cols).ok());
      std::vector<float> y(batch * rows);
      REQUIRE(lin.value().run(in.bind(x.data(), batch, cols), y.data(), nullptr).ok());
      for (size_t b = 0; b < batch; ++b) {
        for (size_t r = 0; r < rows; ++r) {
          // Exact product of the stored weights with x, and the activation-rounding bound per block:
          // sum_j (0.5 s_j) sum_i |wq_i| (s_j = max|x_block| / 127 or / 32767), plus float slack.
          double exact = 0, bound = 0, mag = 0;
          const double m = f == quant::GroupFormat::kInt8 ? kAct16Max : kAct8Max;
          for (size_t j = 0; j < cols / kBlock; ++j) {
            double amax = 0, wabs = 0;
            for (size_t i = j * kBlock; i < (j + 1) * kBlock; ++i) {
              exact += wq[r * cols + i] * x[b * cols + i];
              mag += std::fabs(wq[r * cols + i] * x[b * cols + i]);
              amax = std::max(amax, std::fabs(static_cast<double>(x[b * cols + i])));
              wabs += std::fabs(wq[r * cols + i]);
            }
            bound += 0.5001 * amax / m * wabs;
          }
          bound += (cols / kBlock / 8 + 5) * std::ldexp(mag, -23);
          CHECK(std::fabs(y[b * rows + r] - exact) <= bound);
        }
      }
    }
  }
}

#endif

TEST_CASE("Linear: integer layers give the same bits on 1 and 2 threads, per-row int8 reads in place") {
  Rng rng(3);
  const size_t rows = 300, cols = 512, batch = 4;
  const RefMatrix m = random_matrix(rng, GroupCodes::kInt4, rows, cols, 32, false);
  format::TensorView v;
  v.name = "t.w";
  v.dtype = format::DType::kI4;
  v.rank = 2;
  v.shape[0] = rows;
  v.shape[1] = cols;
  v.data = m.data.data();
  v.bytes = m.data.size();
  v.quant.granularity = format::QuantGranularity::kPerGroup;
  v.quant.group_size = 32;
  v.quant.scale_dtype = format::DType::kF16;
  v.quant.scales = reinterpret_cast<const uint8_t*>(m.scales.data());
  v.quant.scale_count = m.scales.size();
  auto lin = Linear::create(v, nullptr);
  REQUIRE(lin.ok());
  CHECK(lin.value().owned_bytes() == 0);  // nothing copied
  CHECK(lin.value().weight_bytes() == rows * cols / 2 + m.scales.size() * 2);
  const std::vector<float> x = random_values(rng, batch * cols, 1.0f);
  LinearInput in;
  REQUIRE(in.reserve(batch, cols).ok());
  std::vector<float> y1(batch * rows), y2(batch * rows);
  REQUIRE(lin.value().run(in.bind(x.data(), batch, cols), y1.data(), nullptr).ok());
  uint32_t actual = 0;
  auto pool = threads::create_pool(2, &actual);
  REQUIRE(pool.ok());
  threads::PoolPtr owner(pool.value());
  REQUIRE(lin.value().run(in.bind(x.data(), batch, cols), y2.data(), owner.get()).ok());
  for (size_t i = 0; i < y1.size(); ++i) REQUIRE(same_bits(y1[i], y2[i]));
  const std::vector<float> want = reference(m, x, batch, nullptr);
  for (size_t i = 0; i < y1.size(); ++i) REQUIRE(same_bits(y1[i], want[i]));
}

TEST_CASE(
    "Linear group: int4, int8 and f32 layers on one input give each layer's own bits, 1 and 2 threads") {
  Rng rng(5);
  const size_t cols = 256, batch = 3;
  const size_t rows[] = {200, 72, 136};
  const RefMatrix m4 = random_matrix(rng, GroupCodes::kInt4, rows[0], cols, 32, false);
  const RefMatrix m8 = random_matrix(rng, GroupCodes::kInt8, rows[1], cols, 64, false);
  const std::vector<float> wf = random_values(rng, rows[2] * cols, 0.05f);
  auto group_view = [&](const RefMatrix& m, format::DType dtype, size_t r, uint32_t group) {
    format::TensorView v;
    v.name = "t.w";
    v.dtype = dtype;
    v.rank = 2;
    v.shape[0] = r;
    v.shape[1] = cols;
    v.data = m.data.data();
    v.bytes = m.data.size();
    v.quant.granularity = format::QuantGranularity::kPerGroup;
    v.quant.group_size = group;
    v.quant.scale_dtype = format::DType::kF16;
    v.quant.scales = reinterpret_cast<const uint8_t*>(m.scales.data());
    v.quant.scale_count = m.scales.size();
    return v;
  };
  format::TensorView vf;
  vf.name = "t.f";
  vf.dtype = format::DType::kF32;
  vf.rank = 2;
  vf.shape[0] = rows[2];
  vf.shape[1] = cols;
  vf.data = reinterpret_cast<const uint8_t*>(wf.data());
  vf.bytes = wf.size() * sizeof(float);
  auto l4 = Linear::create(group_view(m4, format::DType::kI4, rows[0], 32), nullptr);
  auto l8 = Linear::create(group_view(m8, format::DType::kI8, rows[1], 64), nullptr);
  auto lf = Linear::create(vf, nullptr);
  REQUIRE(l4.ok());
  REQUIRE(l8.ok());
  REQUIRE(lf.ok());
  const Linear* layers[] = {&l4.value(), &l8.value(), &lf.value()};
  uint32_t actual = 0;
  auto pool = threads::create_pool(2, &actual);
  REQUIRE(pool.ok());
  threads::PoolPtr owner(pool.value());
  const std::vector<float> x = random_values(rng, batch * cols, 1.0f);
  LinearInput in;
  REQUIRE(in.reserve(batch, cols).ok());
  for (size_t tokens : {size_t{1}, batch}) {
    std::vector<float> want[3], got[3];
    for (size_t i = 0; i < 3; ++i) {
      want[i].resize(tokens * rows[i]);
      REQUIRE(layers[i]->run(in.bind(x.data(), tokens, cols), want[i].data(), nullptr).ok());
    }
    for (threads::Pool* p : {static_cast<threads::Pool*>(nullptr), owner.get()}) {
      LinearOutput group[3];
      for (size_t i = 0; i < 3; ++i) {
        got[i].assign(tokens * rows[i], -1.0f);
        group[i] = {layers[i], got[i].data()};
      }
      REQUIRE(run_linear_group(in.bind(x.data(), tokens, cols), group, 3, p).ok());
      for (size_t i = 0; i < 3; ++i) {
        for (size_t k = 0; k < want[i].size(); ++k) REQUIRE(same_bits(got[i][k], want[i][k]));
      }
    }
  }
  // A group of none, or a layer whose input width differs, is refused.
  LinearOutput none[1];
  CHECK_FALSE(run_linear_group(in.bind(x.data(), 1, cols), none, 0, owner.get()).ok());
  std::vector<float> narrow(cols), out(rows[0]);
  LinearInput small;
  REQUIRE(small.reserve(1, cols / 2).ok());
  const LinearOutput wrong[] = {{layers[0], out.data()}};
  CHECK_FALSE(run_linear_group(small.bind(narrow.data(), 1, cols / 2), wrong, 1, owner.get()).ok());
}
