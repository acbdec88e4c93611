// Integer-weight fully-connected arithmetic: y[b, o] = sum_i W[o, i] x[b, i] (+ bias[o]), weights read in
// place from the mapped model. Weight formats (kernels only; the loader checks them):
//   int8 per group (GGUF Q8_0 numbers):   W = q * d_g,         q in [-128, 127], f16 d_g per g columns
//   int8 per row / per tensor:            W = q * s_r,         q in [-128, 127], f32 s_r
//   int4 signed (GGUF Q4_0 numbers):      W = s * d_g,         s in [-8, 7] (Q4_0: s = q - 8), f16 d_g
//   int4 with zero point (Q4_1-like):     W = (u - z_g) * d_g, u, z_g in [0, 15]
// (g a multiple of 32; nibbles: element 2k in the low nibble of byte k of a row, 2k+1 in the high nibble).
//
// Activations are quantized at run time per token in blocks of 32 (kBlock), one f32 scale per block:
//  - for int4 weights to int8 codes in [-127, 127] (s = max|x| / 127); the weight error dominates there, and
//    int8 x 4-bit products keep the kernel at memory speed;
//  - for int8 weights to int16 codes in [-32767, 32767] (s = max|x| / 32767): int8 activations cost top-1
//    agreement on stories260K (0.969 in the first 64 positions with int8-g32 weights, against 0.988), int16
//    ones cost nothing measurable, and int16 x int8 (vpmaddwd) still runs faster than memory.
// Why not XNNPACK's int8 operators (Debian's 2022-02 snapshot): its qs8/qc8 fully-connected and convolution
// operators fix the input scale and zero point at creation and requantize their output to int8 with a scale
// also fixed then; per-token (here per-block) activation scales would mean re-creating operators inside the
// decode loop, and it has no 4-bit weights.
// Rounding half to even; a block with NaN/Inf gets s = NaN (its codes 0) so the output is NaN and
// check_numerics reports it; an all-zero block, or one whose max|x| is so small that 127 / max|x| overflows,
// gets s = 0.
//
// Per block j of a row the integer dot product isum_j is exact (|isum_j| < 2^27). The float combination is
// fixed and the same on every path (scalar, AVX2, AVX-512 VNNI, aarch64 NEON; armv7 NEON does the integer
// part only), so outputs are bit-identical across x86-64, aarch64 and armhf:
//   ws_j  = the weight scale of block j (f16 widened exactly, or the row's f32 scale)
//   d_j   = fl(ws_j * x_scale[j])
//   t_j   = fl(fl(float(isum_j)) * d_j)           (float(isum_j) rounds to nearest even when >= 2^24)
//   lane[j mod 8] = fl(lane[j mod 8] + t_j)       (j ascending, lanes start at +0)
//   y = fl(fl(fl(lane0 + lane4) + fl(lane2 + lane6)) + fl(fl(lane1 + lane5) + fl(lane3 + lane7)))
//   y = fl(y + bias)                              (when there is a bias)
// Error relative to sum_i |W_i x_i|: activation rounding <= 0.5 / 127 (int8) or 0.5 / 32767 (int16) of each
// block's max|x| per element, plus the float combination's < (blocks / 8 + 5) * 2^-24 relative.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordinal::kernels {

constexpr size_t kBlock = 32;        // activation block; weight groups are whole multiples of it
constexpr size_t kCombineLanes = 8;  // float accumulators of the canonical combination
constexpr int kAct8Max = 127;
constexpr int kAct16Max = 32767;

enum class GroupCodes : uint8_t {
  kInt8 = 0,      // one int8 per element (int16 activations)
  kInt4 = 1,      // signed nibbles (int8 activations)
  kInt4Zero = 2,  // unsigned nibbles minus a u8 zero point per group (int8 activations)
};

// A quantized matrix read in place: row r's codes at data + r * row_bytes. Scales: either f16 per group
// (`scales`, at scales + 2 * (r * groups + g), any alignment) or one f32 per row (`row_scales`).
struct GroupMatrixView {
  GroupCodes codes = GroupCodes::kInt8;
  const uint8_t* data = nullptr;
  const uint8_t* scales = nullptr;                      // f16 per group, little-endian
  const float* row_scales = nullptr;                    // f32 per row (int8 per-row / per-tensor weights)
  const uint8_t* zeros = nullptr;                       // u8 per group, kInt4Zero only
  size_t rows = 0, cols = 0, group = 0, row_bytes = 0;  // group: columns per scale (cols when per row)
  // cols / group and group / 32, set by set_shape (kept so the kernels divide nothing per row).
  size_t groups = 0, blocks_per_group = 0;
  void set_shape(size_t rows_, size_t cols_, size_t group_, size_t row_bytes_) {
    rows = rows_;
    cols = cols_;
    group = group_;
    row_bytes = row_bytes_;
    groups = cols_ / group_;
    blocks_per_group = group_ / kBlock;
  }
  size_t groups_per_row() const { return groups; }
  // Blocks of 32 per row (the last one partial when cols % 32 != 0, int8 per-row weights only).
  size_t blocks() const { return (cols + kBlock - 1) / kBlock; }
};

// Activations quantized per block of 32 (the last block zero-padded). Token b's codes start at
// q8 + b * stride / q16 + b * stride, its scales and sums at + b * blocks.
// q8 is in the int4 kernels' order: each pair of blocks (2m, 2m+1) is stored as 64 codes
// [even elements of 2m (16), even of 2m+1 (16), odd of 2m (16), odd of 2m+1 (16)] - the order in which a
// 32-byte load of two int4 blocks unpacks into low and high nibbles; an unpaired last block is
// [even (16), odd (16)]. q16 is in natural order.
//
// Prefill copies, token-interleaved (optional; the x86 kernels use them for batch >= 2 when present): tokens
// in tiles of kTokenTile (the last tile padded with zero codes, scales and sums), and within a tile, block j:
//   q16x: 16 pairs p, each [token 0: codes 2p, 2p + 1 | token 1: ... | token 7] (16 int16 = 32 bytes), at
//         ((tile * blocks + j) * 16 + p) * 16;
//   q8x:  8 quads q in natural order, each [token 0: codes 4q .. 4q + 3 | ... | token 7] (32 bytes), at
//         ((tile * blocks + j) * 8 + q) * 32;
//   scales16x / scales8x / sums8x: [token 0 .. 7] at (tile * blocks + j) * 8.
// A broadcast weight pair (quad) times one such vector gives 8 tokens' partial sums lane by lane, so a
// block's exact sums for 8 tokens need no horizontal reduction. Same codes, same sums: same bits.
struct GroupActivationsView {
  const int8_t* q8 = nullptr;
  const float* scales8 = nullptr;
  const int32_t* sums8 = nullptr;  // sum of each block's int8 codes (the int4 offset term)
  const int16_t* q16 = nullptr;
  const float* scales16 = nullptr;
  size_t batch = 0, cols = 0, blocks = 0, stride = 0;  // stride = blocks * 32
  const int8_t* q8x = nullptr;
  const float* scales8x = nullptr;
  const int32_t* sums8x = nullptr;
  const int16_t* q16x = nullptr;
  const float* scales16x = nullptr;
};

constexpr size_t kTokenTile = 8;
// Elements of the token-interleaved copies for `batch` tokens of `blocks` blocks: codes, and scales (sums).
inline size_t interleaved_codes(size_t batch, size_t blocks) {
  return (batch + kTokenTile - 1) / kTokenTile * kTokenTile * blocks * kBlock;
}
inline size_t interleaved_scales(size_t batch, size_t blocks) {
  return (batch + kTokenTile - 1) / kTokenTile * kTokenTile * blocks;
}

// Where block j's even and odd int8 codes start within a token's q8 (see GroupActivationsView).
inline size_t nibble_even_offset(size_t j, size_t blocks) {
  if (j + 1 == blocks && blocks % 2 == 1) return j * kBlock;
  return (j / 2) * 2 * kBlock + (j % 2) * (kBlock / 2);
}
inline size_t nibble_odd_offset(size_t j, size_t blocks) {
  if (j + 1 == blocks && blocks % 2 == 1) return j * kBlock + kBlock / 2;
  return (j / 2) * 2 * kBlock + kBlock + (j % 2) * (kBlock / 2);
}

// One token, int8 codes in the int4 order (q: stride = blocks * 32 codes), block scales and sums.
void quantize_activations_int8(const float* x, size_t cols, int8_t* q, float* scales, int32_t* sums);
// One token, int16 codes in natural order, zero-padded to whole blocks.
void quantize_activations_int16(const float* x, size_t cols, int16_t* q, float* scales);
// The token-interleaved copies (GroupActivationsView) of `batch` tokens' quantized int8 codes (q8 in the int4
// order, stride = blocks * 32), scales and sums, or of int16 codes and scales; padding tokens written as 0.
void interleave_activations_int8(const int8_t* q8, const float* scales, const int32_t* sums, size_t batch,
                                 size_t blocks, int8_t* q8x, float* scalesx, int32_t* sumsx);
void interleave_activations_int16(const int16_t* q16, const float* scales, size_t batch, size_t blocks,
                                  int16_t* q16x, float* scalesx);

// Rows [row_begin, row_end) of y = x W^T (+ bias) for every token, into out[b * out_stride + o]. x must hold
// q8 (int4 weights) or q16 (int8 weights). Rows are taken a few at a time and each is applied to every
// token of the chunk before the next, so a prefill chunk reads each weight row from memory once.
void group_gemm_rows(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                     size_t row_begin, size_t row_end, float* out, size_t out_stride);

// The implementations; every one computes the same bits. kNeonInt is armv7's: NEON integer sums, scalar
// float combination (ARMv7 NEON floats flush denormals to zero, so they cannot reproduce it).
enum class GroupPath : uint8_t { kScalar = 0, kAvx2 = 1, kAvx512Vnni = 2, kNeon = 3, kNeonInt = 4 };
constexpr int kGroupPathCount = 5;
const char* group_path_name(GroupPath p);
// Compiled in and runnable on this CPU.
bool group_path_supported(GroupPath p);
// The path group_gemm_rows uses: the best one for kernels::active_isa(), so ORDINAL_ISA lowers it too
// (ORDINAL_ISA=avx2 keeps plain AVX2 on a CPU with AVX-512 VNNI; =avx512vnni or unset allows VNNI).
GroupPath group_gemm_path();
// group_gemm_rows on a given supported path (tests, benchmarks).
void group_gemm_rows_with(GroupPath p, const GroupMatrixView& w, const GroupActivationsView& x,
                          const float* bias, size_t row_begin, size_t row_end, float* out, size_t out_stride);

// ---- internal: the per-ISA kernels and the canonical pieces they share ----
namespace group {

// Up to kMaxRows rows against up to kMaxTile tokens: y[t * rows + r] (no bias) for rows row0 .. row0 +
// rows - 1 and tokens token0 .. token0 + tokens - 1.
constexpr size_t kMaxRows = 4;
constexpr size_t kMaxTile = 4;
using RowDot = void (*)(const GroupMatrixView& w, size_t row0, size_t rows, const GroupActivationsView& x,
                        size_t token0, size_t tokens, float* y);
// One row against one token: the exact sums of blocks [j0, j1) into isum[0 .. j1 - j0) (armv7 NEON).
using RowSums = void (*)(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                         size_t j0, size_t j1, int32_t* isum);

// Weight scale of block j of a row, as float.
float weight_scale(const GroupMatrixView& w, size_t row, size_t j);
// The exact sum of block j (scalar definition; also the partial last block of the SIMD paths).
int32_t block_sum_scalar(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                         size_t j);
// Canonical final reduction of the 8 lanes.
inline float reduce_lanes(const float* l) {
  const float a0 = l[0] + l[4], a1 = l[1] + l[5], a2 = l[2] + l[6], a3 = l[3] + l[7];
  return (a0 + a2) + (a1 + a3);
}
// Activation scales of a token (int8 or int16, by the weight codes).
inline const float* token_scales(const GroupMatrixView& w, const GroupActivationsView& x, size_t token) {
  return (w.codes == GroupCodes::kInt8 ? x.scales16 : x.scales8) + token * x.blocks;
}

// The scale of a block of activations with max |x| = amax (finite: all of its values are) and the factor
// that maps it onto [-max_code, max_code]; false when the block quantizes to zero codes (scale 0, or NaN
// for a non-finite block). Shared by the scalar and the vector quantizers, so both give the same bits.
bool block_scale_from_amax(float amax, bool finite, float max_code, float* scale, float* inv);
// The scalar quantizers (the definition; quantize_activations_* take a vector path with the same bits).
void quantize_int8_scalar(const float* x, size_t cols, int8_t* q, float* scales, int32_t* sums);
void quantize_int16_scalar(const float* x, size_t cols, int16_t* q, float* scales);
using QuantizeInt8 = void (*)(const float* x, size_t cols, int8_t* q, float* scales, int32_t* sums);
using QuantizeInt16 = void (*)(const float* x, size_t cols, int16_t* q, float* scales);
// AVX2 quantizers (nullptr where the build or the CPU has none).
QuantizeInt8 avx2_quantize_int8();
QuantizeInt16 avx2_quantize_int16();

void row_sums_scalar(const GroupMatrixView& w, size_t row, const GroupActivationsView& x, size_t token,
                     size_t j0, size_t j1, int32_t* isum);
// A whole call of group_gemm_rows (bias included) on one path.
using GemmRows = void (*)(const GroupMatrixView& w, const GroupActivationsView& x, const float* bias,
                          size_t row_begin, size_t row_end, float* out, size_t out_stride);
// nullptr where the build or the CPU has no such path.
GemmRows avx2_gemm_rows();
GemmRows avx512vnni_gemm_rows();
RowSums neon_row_sums();
RowDot neon_row_dot();  // aarch64 only

}  // namespace group

}  // namespace ordinal::kernels
