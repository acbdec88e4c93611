#include "kernels/int8_gemm.hpp"

#include <cpuinfo.h>

#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "numerics/strict_float.hpp"  // the rounding trick below must not be contracted or reassociated

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ORDINAL_INT8_X86 1
#else
#define ORDINAL_INT8_X86 0
#endif

namespace ordinal::kernels {

namespace {

// Up to four weight rows share each activation load.
constexpr size_t kRowBlock = 4;

// One token, up to kRowBlock rows: y[r] = fl(fl(float(sum_r)) * fl(sx * sw[r])) (+ bias[r]), the exact
// integer sum_r = sum_i x[i] * w[r * w_stride + i]. bias may be null.
using BlockKernel = void (*)(const int16_t* x, const int8_t* w, size_t w_stride, size_t rows, size_t depth,
                             float sx, const float* sw, const float* bias, float* y);

// The epilogue every path shares (the AVX2 one performs the same IEEE operations four lanes at a time).
inline void epilogue(const int64_t* sums, size_t rows, float sx, const float* sw, const float* bias,
                     float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float v = static_cast<float>(sums[r]) * (sx * sw[r]);
    y[r] = bias ? v + bias[r] : v;
  }
}

// int32 partial sums over 512 values cannot overflow: 512 * 32767 * 128 = 2147418112 < 2^31 - 1.
constexpr size_t kGenericSegment = 512;

// Plain loops; GCC/Clang vectorise the int32 accumulation (pmaddwd on SSE2, smlal on NEON).
void block_generic(const int16_t* x, const int8_t* w, size_t w_stride, size_t rows, size_t depth, float sx,
                   const float* sw, const float* bias, float* y) {
  int64_t sums[kRowBlock];
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* wr = w + r * w_stride;
    int64_t total = 0;
    for (size_t seg = 0; seg < depth; seg += kGenericSegment) {
      const size_t end = depth - seg < kGenericSegment ? depth : seg + kGenericSegment;
      int32_t s = 0;
      for (size_t i = seg; i < end; ++i) s += static_cast<int32_t>(x[i]) * static_cast<int32_t>(wr[i]);
      total += s;
    }
    sums[r] = total;
  }
  epilogue(sums, rows, sx, sw, bias, y);
}

#if ORDINAL_INT8_X86
// Each int32 lane adds one pmaddwd pair (|pair| <= 2 * 32767 * 128 = 8388352) per 16 values: 4096 values
// give at most 256 pairs, 2147418112 < 2^31 - 1. Lanes are widened to int64 after every segment.
constexpr size_t kAvx2Segment = 4096;

__attribute__((target("avx2"))) inline int64_t hsum_epi32_as_epi64(__m256i v) {
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
  const __m256i s = _mm256_add_epi64(lo, hi);
  const __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  return _mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1);
}

// Depth up to which a row's whole sum fits int32 (|sum| <= 512 * 32767 * 128 < 2^31 - 1): the four row sums
// are then reduced together and converted with cvtdq2ps, which rounds exactly as float(int64) does.
constexpr size_t kInt32Depth = 512;

// Four rows (missing rows have zero accumulators and are not stored), depth <= kInt32Depth.
template <size_t R>
__attribute__((target("avx2"))) void block_avx2_short(const int16_t* x, const int8_t* w, size_t w_stride,
                                                      size_t depth, float sx, const float* sw,
                                                      const float* bias, float* y) {
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  for (size_t i = 0; i < depth; i += 16) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    for (size_t r = 0; r < R; ++r) {
      const __m256i wv =
          _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + r * w_stride + i)));
      acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(xv, wv));
    }
  }
  // Lane sums of rows 0..3: hadd pairs within 128-bit halves, then add the halves.
  const __m256i h01 = _mm256_hadd_epi32(acc[0], acc[1]);
  const __m256i h23 = _mm256_hadd_epi32(acc[2], acc[3]);
  const __m256i h = _mm256_hadd_epi32(h01, h23);
  const __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  if (R == 4) {
    __m128 v = _mm_mul_ps(_mm_cvtepi32_ps(sums), _mm_mul_ps(_mm_set1_ps(sx), _mm_loadu_ps(sw)));
    if (bias) v = _mm_add_ps(v, _mm_loadu_ps(bias));
    _mm_storeu_ps(y, v);
  } else {
    alignas(16) int32_t s32[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(s32), sums);
    const int64_t s64[4] = {s32[0], s32[1], s32[2], s32[3]};
    epilogue(s64, R, sx, sw, bias, y);
  }
}

template <size_t R>
__attribute__((target("avx2"))) void block_avx2_rows(const int16_t* x, const int8_t* w, size_t w_stride,
                                                     size_t depth, float sx, const float* sw,
                                                     const float* bias, float* y) {
  if (depth <= kInt32Depth) {
    block_avx2_short<R>(x, w, w_stride, depth, sx, sw, bias, y);
    return;
  }
  int64_t sums[R];
  for (size_t r = 0; r < R; ++r) sums[r] = 0;
  for (size_t seg = 0; seg < depth; seg += kAvx2Segment) {
    const size_t end = depth - seg < kAvx2Segment ? depth : seg + kAvx2Segment;
    __m256i acc[R];
    for (size_t r = 0; r < R; ++r) acc[r] = _mm256_setzero_si256();
    for (size_t i = seg; i < end; i += 16) {
      const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
      for (size_t r = 0; r < R; ++r) {
        const __m256i wv =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + r * w_stride + i)));
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(xv, wv));
      }
    }
    for (size_t r = 0; r < R; ++r) sums[r] += hsum_epi32_as_epi64(acc[r]);
  }
  epilogue(sums, R, sx, sw, bias, y);
}

void block_avx2(const int16_t* x, const int8_t* w, size_t w_stride, size_t rows, size_t depth, float sx,
                const float* sw, const float* bias, float* y) {
  switch (rows) {
    case 4:
      block_avx2_rows<4>(x, w, w_stride, depth, sx, sw, bias, y);
      break;
    case 3:
      block_avx2_rows<3>(x, w, w_stride, depth, sx, sw, bias, y);
      break;
    case 2:
      block_avx2_rows<2>(x, w, w_stride, depth, sx, sw, bias, y);
      break;
    default:
      block_avx2_rows<1>(x, w, w_stride, depth, sx, sw, bias, y);
      break;
  }
}
#endif

BlockKernel best_kernel() {
#if ORDINAL_INT8_X86
  if (cpuinfo_initialize() && cpuinfo_has_x86_avx2()) return block_avx2;
#endif
  return block_generic;
}

std::atomic<bool> g_force_generic{false};

BlockKernel kernel() {
  static const BlockKernel best = best_kernel();
  return g_force_generic.load(std::memory_order_relaxed) ? block_generic : best;
}

}  // namespace

float quantize_row_int16(const float* x, size_t cols, size_t padded, int16_t* q) {
  float amax = 0.0f;
  bool finite = true;
  for (size_t i = 0; i < cols; ++i) {
    const float a = std::fabs(x[i]);
    finite = finite && a <= FLT_MAX;  // false for NaN and Inf
    amax = a > amax ? a : amax;
  }
  if (!finite || amax == 0.0f) {
    std::memset(q, 0, padded * sizeof(int16_t));
    return finite ? 0.0f : std::nanf("");
  }
  const float inv = static_cast<float>(kActivationMax) / amax;
  if (!(inv <= FLT_MAX)) {
    // amax below ~1e-34: 32767 / amax overflows and 0 * inf would be NaN (found by tools/fuzz.sh). Rows this
    // small contribute nothing a float result could show: quantize them as zero.
    std::memset(q, 0, padded * sizeof(int16_t));
    return 0.0f;
  }
  // |x * inv| <= 32767 (1 + 2^-22) < 2^22: adding and subtracting 1.5 * 2^23 rounds it to an integer,
  // nearest with ties to even (the default rounding mode), exactly as lrintf but without a libm call.
  constexpr float kRound = 12582912.0f;
  for (size_t i = 0; i < cols; ++i) {
    float v = (x[i] * inv + kRound) - kRound;
    v = v > static_cast<float>(kActivationMax) ? static_cast<float>(kActivationMax) : v;
    v = v < -static_cast<float>(kActivationMax) ? -static_cast<float>(kActivationMax) : v;
    q[i] = static_cast<int16_t>(v);
  }
  if (padded > cols) std::memset(q + cols, 0, (padded - cols) * sizeof(int16_t));
  return amax / static_cast<float>(kActivationMax);
}

void int8_gemm_rows(const Int8MatrixView& w, const ActivationsView& x, const float* bias, size_t row_begin,
                    size_t row_end, float* out, size_t out_stride) {
  const BlockKernel k = kernel();
  const size_t depth = w.stride;  // both sides zero-padded to the same multiple of kDepthAlign
  for (size_t r0 = row_begin; r0 < row_end; r0 += kRowBlock) {
    const size_t rows = row_end - r0 < kRowBlock ? row_end - r0 : kRowBlock;
    const int8_t* wb = w.data + r0 * w.stride;
    for (size_t b = 0; b < x.batch; ++b) {
      k(x.q + b * x.stride, wb, w.stride, rows, depth, x.scales[b], w.scales + r0, bias ? bias + r0 : nullptr,
        out + b * out_stride + r0);
    }
  }
}

const char* int8_gemm_kernel_name() {
#if ORDINAL_INT8_X86
  if (kernel() == block_avx2) return "avx2";
#endif
  return "generic";
}

void int8_gemm_force_generic(bool force) {
  g_force_generic.store(force, std::memory_order_relaxed);
}

}  // namespace ordinal::kernels
