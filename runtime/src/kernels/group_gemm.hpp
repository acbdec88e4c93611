// Group-wise integer weights: y[b, o] = sum_i W[o, i] x[b, i] with W stored as int8 or int4 codes in groups
// of g consecutive elements of a row (g a multiple of 32), one f16 scale per group (and, for the unsigned
// int4 variant, one u8 zero point per group):
//   int8 (GGUF Q8_0 numbers):          W = q * d,           q in [-128, 127]
//   int4 signed (GGUF Q4_0 numbers):   W = s * d,           s in [-8, 7], nibble = s & 15 (Q4_0: s = q - 8)
//   int4 with zero point (Q4_1-like):  W = (u - z) * d,     u, z in [0, 15]
// Nibbles: element 2k in the low nibble of byte k of the row, 2k+1 in the high nibble (the schema's order).
//
// Activations are quantized at run time per token in blocks of 32 (kBlock): int8 codes in [-127, 127], one
// f32 scale per block (max|x| / 127, round half to even), plus each block's code sum (for the int4 offset).
// Per block j of a row the integer dot product is exact (|sum| < 2^20). The float combination is fixed and
// is the same on every path (scalar, AVX2, aarch64 NEON; armv7 NEON does the integer part only):
//   d_j   = fl(float(w_scale[j / (g / 32)]) * x_scale[j])
//   t_j   = fl(float(isum_j) * d_j)                                   (float(isum_j) is exact)
//   lane[j mod 8] = fl(lane[j mod 8] + t_j)                           (j ascending, lanes start at +0)
//   y = fl(fl(fl(lane0 + lane4) + fl(lane2 + lane6)) + fl(fl(lane1 + lane5) + fl(lane3 + lane7)))
//   y = fl(y + bias)                                                  (when there is a bias)
// so outputs are bit-identical across x86-64, aarch64 and armhf. Error (relative to sum_i |W x|): weight
// rounding is the quantizer's; activation rounding <= 0.5 / 127 of each block's max|x| per element; the float
// combination adds < (nb/8 + 4) * 2^-23 relative.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordinal::kernels {

constexpr size_t kBlock = 32;        // activation block; weight groups are whole multiples of it
constexpr size_t kCombineLanes = 8;  // float accumulators of the canonical combination
constexpr int kActivationInt8Max = 127;

enum class GroupCodes : uint8_t {
  kInt8 = 0,      // one int8 per element
  kInt4 = 1,      // signed nibbles
  kInt4Zero = 2,  // unsigned nibbles minus a u8 zero point per group
};

// A group-wise quantized matrix read in place: row r's codes at data + r * row_bytes; its scales (f16 bits)
// at scales + r * groups_per_row (2-byte aligned is not required: read with memcpy where unaligned);
// zero points (kInt4Zero only) likewise.
struct GroupMatrixView {
  GroupCodes codes = GroupCodes::kInt8;
  const uint8_t* data = nullptr;
  const uint8_t* scales = nullptr;  // f16, little-endian
  const uint8_t* zeros = nullptr;   // u8, kInt4Zero only
  size_t rows = 0, cols = 0, group = 0, row_bytes = 0;
  size_t groups_per_row() const { return cols / group; }
};

// Activations quantized per block of 32. q holds each token's codes in natural order; q_nibble (when the
// caller asked for it) holds the same codes reordered within every block as [x0 x2 .. x30 x1 x3 .. x31],
// the order in which the int4 kernels unpack a block's low then high nibbles.
struct GroupActivationsView {
  const int8_t* q = nullptr;
  const int8_t* q_nibble = nullptr;
  const float* scales = nullptr;  // [batch * blocks]
  const int32_t* sums = nullptr;  // [batch * blocks], sum of each block's codes
  size_t batch = 0, cols = 0;     // cols a multiple of kBlock; token b at q + b * cols
  size_t blocks() const { return cols / kBlock; }
};

// Quantizes one token (cols a multiple of 32): per block s = max|x| / 127, q = round-half-even(x * (127 /
// max|x|)) clamped to [-127, 127]; |x - s q| <= 0.5001 s. An all-zero block gets s = 0; a block with NaN/Inf
// gets s = NaN (q = 0) so the layer's output is NaN and check_numerics reports it; a block whose max|x| is
// below ~1e-36 (127 / max|x| overflows) quantizes to zero. q_nibble may be null.
void quantize_activations_blocks(const float* x, size_t cols, int8_t* q, int8_t* q_nibble, float* scales,
                                 int32_t* sums);

// Rows [row_begin, row_end) of y = x W^T (+ bias) for every token, into out[b * out_stride + o]. Requires
// x.q_nibble for the int4 codes. Rows are taken in blocks; each block of rows is applied to every token
// before the next, so a prefill chunk reads each weight row from memory once.
void group_gemm_rows(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                     size_t row_begin, size_t row_end, float* out, size_t out_stride);

// The implementations. Every one computes the same bits (the combination above); kNeonInt is armv7's: NEON
// integer sums, scalar float combination (ARMv7 NEON floats flush denormals, so they cannot reproduce it).
enum class GroupPath : uint8_t { kScalar = 0, kAvx2 = 1, kNeon = 2, kNeonInt = 3 };
constexpr int kGroupPathCount = 4;
const char* group_path_name(GroupPath p);
// Compiled in and runnable on this CPU.
bool group_path_supported(GroupPath p);
// The path group_gemm_rows uses: the best one for kernels::active_isa() (so ORDINAL_ISA picks it too).
GroupPath group_gemm_path();
// group_gemm_rows on a given supported path (tests, benchmarks).
void group_gemm_rows_with(GroupPath p, const GroupMatrixView& w, const GroupActivationsView& x,
                          const float* bias, size_t row_begin, size_t row_end, float* out, size_t out_stride);

// ---- internal: the per-ISA row kernels and the canonical combination they share ----
namespace group {

// One row against one token: fills isum[j] for every block j of the row (exact integer dot products,
// offset by the zero point for int4).
using RowSums = void (*)(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                         int32_t* isum);
// One row against one token, block sums and combination together (paths with float SIMD).
using RowDot = float (*)(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token);

// The canonical combination of a row's block sums (see the top of this file); no bias.
float combine(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
              const int32_t* isum);
// Canonical final reduction of the 8 lanes.
inline float reduce_lanes(const float* l) {
  const float a0 = l[0] + l[4], a1 = l[1] + l[5], a2 = l[2] + l[6], a3 = l[3] + l[7];
  return (a0 + a2) + (a1 + a3);
}

void row_sums_scalar(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                     int32_t* isum);
// nullptr where the build has no such path.
RowDot avx2_row_dot();
RowSums neon_row_sums();
RowDot neon_row_dot();  // aarch64 only

}  // namespace group

}  // namespace ordinal::kernels
