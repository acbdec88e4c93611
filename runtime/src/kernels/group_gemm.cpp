// Portable definition of the integer-weight GEMM (group_gemm.hpp): activation quantization, the scalar
// block sums, the canonical float combination and the choice of path.
#include "kernels/group_gemm.hpp"

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "kernels/simd.hpp"
#include "numerics/half.hpp"
#include "numerics/strict_float.hpp"  // one rounding per operation: the combination is defined by it

namespace ordinal::kernels {

namespace {

constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: (v + kRound) - kRound rounds |v| < 2^22 half to even

// Max |x| of a block of n values, and whether all are finite.
inline float block_amax(const float* x, size_t n, bool* finite) {
  float amax = 0.0f;
  bool ok = true;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    ok = ok && a <= FLT_MAX;  // false for NaN and Inf
    amax = a > amax ? a : amax;
  }
  *finite = ok;
  return amax;
}

inline bool block_scale(const float* x, size_t n, float max_code, float* scale, float* inv) {
  bool finite;
  const float amax = block_amax(x, n, &finite);
  return group::block_scale_from_amax(amax, finite, max_code, scale, inv);
}

inline float round_clamp(float v, float max_code) {
  v = (v + kRound) - kRound;
  return v > max_code ? max_code : (v < -max_code ? -max_code : v);
}

}  // namespace

namespace group {

bool block_scale_from_amax(float amax, bool finite, float max_code, float* scale, float* inv) {
  if (!finite) {
    *scale = std::nanf("");
    return false;
  }
  *inv = amax > 0.0f ? max_code / amax : 0.0f;
  if (amax == 0.0f || !(*inv <= FLT_MAX)) {
    *scale = 0.0f;
    return false;
  }
  *scale = amax / max_code;
  return true;
}

void quantize_int8_scalar(const float* x, size_t cols, int8_t* q, float* scales, int32_t* sums) {
  const size_t blocks = (cols + kBlock - 1) / kBlock;
  for (size_t j = 0; j < blocks; ++j) {
    const size_t n = cols - j * kBlock < kBlock ? cols - j * kBlock : kBlock;
    int8_t codes[kBlock] = {};
    float inv = 0.0f;
    int32_t sum = 0;
    if (block_scale(x + j * kBlock, n, static_cast<float>(kAct8Max), &scales[j], &inv)) {
      for (size_t i = 0; i < n; ++i) {
        codes[i] = static_cast<int8_t>(round_clamp(x[j * kBlock + i] * inv, static_cast<float>(kAct8Max)));
        sum += codes[i];
      }
    }
    sums[j] = sum;
    int8_t* even = q + nibble_even_offset(j, blocks);
    int8_t* odd = q + nibble_odd_offset(j, blocks);
    for (size_t k = 0; k < kBlock / 2; ++k) {
      even[k] = codes[2 * k];
      odd[k] = codes[2 * k + 1];
    }
  }
}

void quantize_int16_scalar(const float* x, size_t cols, int16_t* q, float* scales) {
  const size_t blocks = (cols + kBlock - 1) / kBlock;
  for (size_t j = 0; j < blocks; ++j) {
    const size_t n = cols - j * kBlock < kBlock ? cols - j * kBlock : kBlock;
    int16_t* qb = q + j * kBlock;
    std::memset(qb, 0, kBlock * sizeof(int16_t));
    float inv = 0.0f;
    if (block_scale(x + j * kBlock, n, static_cast<float>(kAct16Max), &scales[j], &inv)) {
      for (size_t i = 0; i < n; ++i) {
        qb[i] = static_cast<int16_t>(round_clamp(x[j * kBlock + i] * inv, static_cast<float>(kAct16Max)));
      }
    }
  }
}

}  // namespace group

namespace {

// The AVX2 quantizers where the GEMM runs an x86 vector path (so ORDINAL_ISA lowers them too), chosen once.
bool x86_vector_gemm() {
  const GroupPath p = group_gemm_path();
  return p == GroupPath::kAvx2 || p == GroupPath::kAvx512Vnni;
}

}  // namespace

void quantize_activations_int8(const float* x, size_t cols, int8_t* q, float* scales, int32_t* sums) {
  static const group::QuantizeInt8 quantize = x86_vector_gemm() && group::avx2_quantize_int8()
                                                  ? group::avx2_quantize_int8()
                                                  : group::quantize_int8_scalar;
  quantize(x, cols, q, scales, sums);
}

void quantize_activations_int16(const float* x, size_t cols, int16_t* q, float* scales) {
  static const group::QuantizeInt16 quantize = x86_vector_gemm() && group::avx2_quantize_int16()
                                                   ? group::avx2_quantize_int16()
                                                   : group::quantize_int16_scalar;
  quantize(x, cols, q, scales);
}

void interleave_activations_int8(const int8_t* q8, const float* scales, const int32_t* sums, size_t batch,
                                 size_t blocks, int8_t* q8x, float* scalesx, int32_t* sumsx) {
  const size_t tiles = (batch + kTokenTile - 1) / kTokenTile, stride = blocks * kBlock;
  for (size_t m = 0; m < tiles; ++m) {
    for (size_t j = 0; j < blocks; ++j) {
      int8_t* dst = q8x + (m * blocks + j) * kTokenTile * kBlock;
      for (size_t t = 0; t < kTokenTile; ++t) {
        const size_t b = m * kTokenTile + t;
        const bool real = b < batch;
        scalesx[(m * blocks + j) * kTokenTile + t] = real ? scales[b * blocks + j] : 0.0f;
        sumsx[(m * blocks + j) * kTokenTile + t] = real ? sums[b * blocks + j] : 0;
        const int8_t* even = q8 + b * stride + nibble_even_offset(j, blocks);
        const int8_t* odd = q8 + b * stride + nibble_odd_offset(j, blocks);
        for (size_t c = 0; c < kBlock; ++c) {
          // Natural element c of the block: even[c / 2] or odd[c / 2]; quad c / 4, token t, slot c % 4.
          dst[(c / 4) * 32 + t * 4 + c % 4] = real ? (c % 2 == 0 ? even[c / 2] : odd[c / 2]) : int8_t{0};
        }
      }
    }
  }
}

void interleave_activations_int16(const int16_t* q16, const float* scales, size_t batch, size_t blocks,
                                  int16_t* q16x, float* scalesx) {
  const size_t tiles = (batch + kTokenTile - 1) / kTokenTile, stride = blocks * kBlock;
  for (size_t m = 0; m < tiles; ++m) {
    for (size_t j = 0; j < blocks; ++j) {
      int16_t* dst = q16x + (m * blocks + j) * kTokenTile * kBlock;
      for (size_t t = 0; t < kTokenTile; ++t) {
        const size_t b = m * kTokenTile + t;
        const bool real = b < batch;
        scalesx[(m * blocks + j) * kTokenTile + t] = real ? scales[b * blocks + j] : 0.0f;
        const int16_t* src = q16 + b * stride + j * kBlock;
        for (size_t c = 0; c < kBlock; ++c) {
          dst[(c / 2) * 16 + t * 2 + c % 2] = real ? src[c] : int16_t{0};  // pair c / 2, token t, slot c % 2
        }
      }
    }
  }
}

namespace group {

float weight_scale(const GroupMatrixView& w, size_t row, size_t j) {
  if (w.row_scales) return w.row_scales[row];
  uint16_t h;
  std::memcpy(&h, w.scales + 2 * (row * w.groups + j / w.blocks_per_group), 2);
  return numerics::half_to_float(h);
}

int32_t block_sum_scalar(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                         size_t j) {
  const uint8_t* wr = w.data + row * w.row_bytes;
  if (w.codes == GroupCodes::kInt8) {
    const int8_t* q = reinterpret_cast<const int8_t*>(wr) + j * kBlock;
    const int16_t* xq = x.q16 + token * x.stride + j * kBlock;
    const size_t n = w.cols - j * kBlock < kBlock ? w.cols - j * kBlock : kBlock;  // partial last block
    int32_t s = 0;
    for (size_t i = 0; i < n; ++i) s += int32_t{q[i]} * int32_t{xq[i]};
    return s;
  }
  // int4: sum (u - z) x = sum u x - z sum x, u the unsigned nibble code (signed: u = nibble ^ 8, z = 8).
  const uint8_t flip = w.codes == GroupCodes::kInt4 ? 8 : 0;
  const uint8_t* b = wr + j * (kBlock / 2);
  const int8_t* xt = x.q8 + token * x.stride;
  const int8_t* even = xt + nibble_even_offset(j, x.blocks);
  const int8_t* odd = xt + nibble_odd_offset(j, x.blocks);
  int32_t s = 0;
  for (size_t k = 0; k < kBlock / 2; ++k) {
    s += int32_t{static_cast<uint8_t>((b[k] & 0x0F) ^ flip)} * int32_t{even[k]};
    s += int32_t{static_cast<uint8_t>((b[k] >> 4) ^ flip)} * int32_t{odd[k]};
  }
  const int32_t z = w.zeros ? int32_t{w.zeros[row * w.groups + j / w.blocks_per_group]} : 8;
  return s - z * x.sums8[token * x.blocks + j];
}

void row_sums_scalar(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                     size_t j0, size_t j1, int32_t* isum) {
  for (size_t j = j0; j < j1; ++j) isum[j - j0] = block_sum_scalar(w, row, x, token, j);
}

namespace {

// The canonical combination over block sums produced `kChunk` blocks at a time by `sums`.
float row_dot_from_sums(RowSums sums, const GroupMatrixView& w, size_t row, const GroupActivationsView& x,
                        size_t token) {
  constexpr size_t kChunk = 64;
  const size_t nb = w.blocks();
  const float* xs = token_scales(w, x, token);
  float lane[kCombineLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t isum[kChunk];
  for (size_t j0 = 0; j0 < nb; j0 += kChunk) {
    const size_t j1 = nb - j0 < kChunk ? nb : j0 + kChunk;
    sums(w, row, x, token, j0, j1, isum);
    for (size_t j = j0; j < j1; ++j) {
      const float d = weight_scale(w, row, j) * xs[j];
      lane[j % kCombineLanes] += static_cast<float>(isum[j - j0]) * d;
    }
  }
  return reduce_lanes(lane);
}

}  // namespace

}  // namespace group

namespace {

GroupPath choose_path() {
  const Isa isa = active_isa();
  const char* wanted = std::getenv("ORDINAL_ISA");
  const bool vnni_allowed = wanted == nullptr || std::strcmp(wanted, "avx512vnni") == 0;
  if (isa == Isa::kAvx2 && vnni_allowed && group_path_supported(GroupPath::kAvx512Vnni)) {
    return GroupPath::kAvx512Vnni;
  }
  if (isa == Isa::kAvx2 && group_path_supported(GroupPath::kAvx2)) return GroupPath::kAvx2;
  if (isa == Isa::kNeon && group_path_supported(GroupPath::kNeon)) return GroupPath::kNeon;
  if (isa == Isa::kNeon && group_path_supported(GroupPath::kNeonInt)) return GroupPath::kNeonInt;
  return GroupPath::kScalar;
}

}  // namespace

const char* group_path_name(GroupPath p) {
  switch (p) {
    case GroupPath::kAvx2:
      return "avx2";
    case GroupPath::kAvx512Vnni:
      return "avx512vnni";
    case GroupPath::kNeon:
      return "neon";
    case GroupPath::kNeonInt:
      return "neon-int";
    default:
      return "scalar";
  }
}

bool group_path_supported(GroupPath p) {
  switch (p) {
    case GroupPath::kScalar:
      return true;
    case GroupPath::kAvx2:
      return group::avx2_gemm_rows() != nullptr && isa_supported(Isa::kAvx2);
    case GroupPath::kAvx512Vnni:
      return group::avx512vnni_gemm_rows() != nullptr && isa_supported(Isa::kAvx2);
    case GroupPath::kNeon:
      return group::neon_row_dot() != nullptr && isa_supported(Isa::kNeon);
    case GroupPath::kNeonInt:
      return group::neon_row_sums() != nullptr && isa_supported(Isa::kNeon);
  }
  return false;
}

GroupPath group_gemm_path() {
  static const GroupPath p = choose_path();
  return p;
}

void group_gemm_rows_with(GroupPath p, const GroupMatrixView& w, const GroupActivationsView& x,
                          const float* bias, size_t row_begin, size_t row_end, float* out,
                          size_t out_stride) {
  if (p == GroupPath::kAvx2 || p == GroupPath::kAvx512Vnni) {
    const group::GemmRows whole =
        p == GroupPath::kAvx2 ? group::avx2_gemm_rows() : group::avx512vnni_gemm_rows();
    whole(w, x, bias, row_begin, row_end, out, out_stride);
    return;
  }
  // kMaxRows rows stay in L1 while every token of a chunk passes over them.
  const group::RowDot dot = p == GroupPath::kNeon ? group::neon_row_dot() : nullptr;
  const group::RowSums sums = p == GroupPath::kNeonInt ? group::neon_row_sums() : group::row_sums_scalar;
  float y[group::kMaxRows * group::kMaxTile];
  for (size_t r0 = row_begin; r0 < row_end; r0 += group::kMaxRows) {
    const size_t rows = row_end - r0 < group::kMaxRows ? row_end - r0 : group::kMaxRows;
    for (size_t b = 0; b < x.batch; b += group::kMaxTile) {
      const size_t tokens = x.batch - b < group::kMaxTile ? x.batch - b : group::kMaxTile;
      if (dot) {
        dot(w, r0, rows, x, b, tokens, y);
      } else {
        for (size_t t = 0; t < tokens; ++t)
          for (size_t r = 0; r < rows; ++r)
            y[t * rows + r] = group::row_dot_from_sums(sums, w, r0 + r, x, b + t);
      }
      for (size_t t = 0; t < tokens; ++t) {
        for (size_t r = 0; r < rows; ++r) {
          const float v = y[t * rows + r];
          out[(b + t) * out_stride + r0 + r] = bias ? v + bias[r0 + r] : v;
        }
      }
    }
  }
}

void group_gemm_rows(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                     size_t row_begin, size_t row_end, float* out, size_t out_stride) {
  group_gemm_rows_with(group_gemm_path(), w, x, bias, row_begin, row_end, out, out_stride);
}

}  // namespace ordinal::kernels
