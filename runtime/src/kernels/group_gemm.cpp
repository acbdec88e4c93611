// Portable definition of the group-wise integer GEMM (group_gemm.hpp): activation quantization, the scalar
// block sums, the canonical float combination and the choice of path.
#include "kernels/group_gemm.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/simd.hpp"
#include "numerics/half.hpp"
#include "numerics/strict_float.hpp"  // one rounding per operation: the combination is defined by it

namespace ordinal::kernels {

namespace group {

namespace {

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

}  // namespace

void row_sums_scalar(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                     int32_t* isum) {
  const size_t nb = x.blocks();
  const size_t blocks_per_group = w.group / kBlock;
  const uint8_t* wr = w.data + row * w.row_bytes;
  const int8_t* xq = x.q + token * x.cols;
  const int32_t* xs = x.sums + token * nb;
  if (w.codes == GroupCodes::kInt8) {
    const int8_t* q = reinterpret_cast<const int8_t*>(wr);
    for (size_t j = 0; j < nb; ++j) {
      int32_t s = 0;
      for (size_t i = 0; i < kBlock; ++i) s += int32_t{q[j * kBlock + i]} * int32_t{xq[j * kBlock + i]};
      isum[j] = s;
    }
    return;
  }
  // int4: sum (u - z) x = sum u x - z sum x, with u the unsigned nibble code (signed: u = nibble ^ 8, z = 8).
  const uint8_t flip = w.codes == GroupCodes::kInt4 ? 8 : 0;
  const uint8_t* zr = w.zeros ? w.zeros + row * w.groups_per_row() : nullptr;
  for (size_t j = 0; j < nb; ++j) {
    const uint8_t* b = wr + j * (kBlock / 2);
    const int8_t* xb = xq + j * kBlock;
    int32_t s = 0;
    for (size_t k = 0; k < kBlock / 2; ++k) {
      s += int32_t{static_cast<uint8_t>((b[k] & 0x0F) ^ flip)} * int32_t{xb[2 * k]};
      s += int32_t{static_cast<uint8_t>((b[k] >> 4) ^ flip)} * int32_t{xb[2 * k + 1]};
    }
    const int32_t z = zr ? int32_t{zr[j / blocks_per_group]} : 8;
    isum[j] = s - z * xs[j];
  }
}

float combine(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
              const int32_t* isum) {
  const size_t nb = x.blocks();
  const size_t blocks_per_group = w.group / kBlock;
  const uint8_t* sr = w.scales + 2 * row * w.groups_per_row();
  const float* xs = x.scales + token * nb;
  float lane[kCombineLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (size_t j = 0; j < nb; ++j) {
    const float d = numerics::half_to_float(load_u16(sr + 2 * (j / blocks_per_group))) * xs[j];
    lane[j % kCombineLanes] += static_cast<float>(isum[j]) * d;
  }
  return reduce_lanes(lane);
}

namespace {

// Longest row the stack buffer of block sums covers; longer rows are summed in pieces of this many blocks
// (the lanes carry over, so the result is the same).
constexpr size_t kMaxBlocks = 512;

float row_dot_from_sums(RowSums sums, const GroupMatrixView& w, size_t row, const GroupActivationsView& x,
                        size_t token) {
  int32_t isum[kMaxBlocks];
  const size_t nb = x.blocks();
  if (nb <= kMaxBlocks) {
    sums(w, row, x, token, isum);
    return combine(w, row, x, token, isum);
  }
  // Very long rows (> 16384 columns): scalar sums block by block into the same lanes.
  const size_t blocks_per_group = w.group / kBlock;
  const uint8_t* sr = w.scales + 2 * row * w.groups_per_row();
  const float* xs = x.scales + token * nb;
  float lane[kCombineLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  GroupMatrixView one = w;
  GroupActivationsView xone = x;
  for (size_t j = 0; j < nb; ++j) {
    // A one-block view of block j: same arithmetic as the full row.
    one.cols = kBlock;
    one.group = kBlock;
    one.data = w.data + row * w.row_bytes + j * (w.codes == GroupCodes::kInt8 ? kBlock : kBlock / 2);
    one.zeros = w.zeros ? w.zeros + row * w.groups_per_row() + j / blocks_per_group : nullptr;
    xone.cols = kBlock;
    xone.q = x.q + token * x.cols + j * kBlock;
    xone.q_nibble = x.q_nibble ? x.q_nibble + token * x.cols + j * kBlock : nullptr;
    xone.sums = x.sums + token * nb + j;
    int32_t s;
    row_sums_scalar(one, 0, xone, 0, &s);
    const float d = numerics::half_to_float(load_u16(sr + 2 * (j / blocks_per_group))) * xs[j];
    lane[j % kCombineLanes] += static_cast<float>(s) * d;
  }
  return reduce_lanes(lane);
}

}  // namespace

}  // namespace group

void quantize_activations_blocks(const float* x, size_t cols, int8_t* q, int8_t* q_nibble, float* scales,
                                 int32_t* sums) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: (v + kRound) - kRound rounds |v| < 2^22 half to even
  for (size_t j = 0; j < cols / kBlock; ++j) {
    const float* xb = x + j * kBlock;
    int8_t* qb = q + j * kBlock;
    float amax = 0.0f;
    bool finite = true;
    for (size_t i = 0; i < kBlock; ++i) {
      const float a = std::fabs(xb[i]);
      finite = finite && a <= FLT_MAX;  // false for NaN and Inf
      amax = a > amax ? a : amax;
    }
    const float inv = finite && amax > 0.0f ? static_cast<float>(kActivationInt8Max) / amax : 0.0f;
    int32_t sum = 0;
    if (!finite || amax == 0.0f || !(inv <= FLT_MAX)) {
      std::memset(qb, 0, kBlock);
      scales[j] = finite ? 0.0f : std::nanf("");
    } else {
      for (size_t i = 0; i < kBlock; ++i) {
        float v = (xb[i] * inv + kRound) - kRound;
        v = v > 127.0f ? 127.0f : (v < -127.0f ? -127.0f : v);
        qb[i] = static_cast<int8_t>(v);
        sum += qb[i];
      }
      scales[j] = amax / static_cast<float>(kActivationInt8Max);
    }
    sums[j] = sum;
    if (q_nibble) {
      int8_t* nb = q_nibble + j * kBlock;
      for (size_t k = 0; k < kBlock / 2; ++k) {
        nb[k] = qb[2 * k];
        nb[kBlock / 2 + k] = qb[2 * k + 1];
      }
    }
  }
}

namespace {

GroupPath choose_path() {
  const Isa isa = active_isa();
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
      return group::avx2_row_dot() != nullptr && isa_supported(Isa::kAvx2);
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
  constexpr size_t kRowBlock = 4;  // rows that stay in L1 while every token of a chunk passes over them
  const group::RowDot dot = p == GroupPath::kAvx2   ? group::avx2_row_dot()
                            : p == GroupPath::kNeon ? group::neon_row_dot()
                                                    : nullptr;
  const group::RowSums sums = p == GroupPath::kNeonInt ? group::neon_row_sums() : group::row_sums_scalar;
  for (size_t r0 = row_begin; r0 < row_end; r0 += kRowBlock) {
    const size_t r1 = row_end - r0 < kRowBlock ? row_end : r0 + kRowBlock;
    for (size_t b = 0; b < x.batch; ++b) {
      float* y = out + b * out_stride;
      for (size_t r = r0; r < r1; ++r) {
        const float v = dot ? dot(w, r, x, b) : group::row_dot_from_sums(sums, w, r, x, b);
        y[r] = bias ? v + bias[r] : v;
      }
    }
  }
}

void group_gemm_rows(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                     size_t row_begin, size_t row_end, float* out, size_t out_stride) {
  group_gemm_rows_with(group_gemm_path(), w, x, bias, row_begin, row_end, out, out_stride);
}

}  // namespace ordinal::kernels
