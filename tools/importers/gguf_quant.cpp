#include "importers/gguf_quant.hpp"

#include <cstring>

#include "numerics/half.hpp"

namespace ordinal::importers::gguf {

namespace {

float f16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return numerics::half_to_float(h);
}

float bf16_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Q4_K / Q5_K: 8 six-bit (scale, min) pairs packed into 12 bytes (ggml get_scale_min_k4).
void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void block_q4_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
    y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

void block_q4_1(const uint8_t* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
    y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

void block_q5_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const uint8_t h0 = static_cast<uint8_t>(((qh >> j) << 4) & 0x10);
    const uint8_t h1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>(((qs[j] & 0x0F) | h0) - 16) * d;
    y[j + 16] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
  }
}

void block_q5_1(const uint8_t* b, float* y) {
  const float d = f16_at(b), m = f16_at(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const uint8_t h0 = static_cast<uint8_t>(((qh >> j) << 4) & 0x10);
    const uint8_t h1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
    y[j] = static_cast<float>((qs[j] & 0x0F) | h0) * d + m;
    y[j + 16] = static_cast<float>((qs[j] >> 4) | h1) * d + m;
  }
}

void block_q8_0(const uint8_t* b, float* y) {
  const float d = f16_at(b);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// block_q4_K: d f16, dmin f16, scales[12], qs[128].
void block_q4_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  int is = 0;
  for (int j = 0; j < 256; j += 64) {
    uint8_t sc, m;
    scale_min_k4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    q += 32;
    is += 2;
  }
}

// block_q5_K: d f16, dmin f16, scales[12], qh[32], qs[128].
void block_q5_k(const uint8_t* b, float* y) {
  const float d = f16_at(b), dmin = f16_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  int is = 0;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 256; j += 64) {
    uint8_t sc, m;
    scale_min_k4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    ql += 32;
    is += 2;
    u1 = static_cast<uint8_t>(u1 << 2);
    u2 = static_cast<uint8_t>(u2 << 2);
  }
}

// block_q6_K: ql[128], qh[64], int8 scales[16], d f16.
void block_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16_at(b + 208);
  for (int n = 0; n < 256; n += 128) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = static_cast<int>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = static_cast<int>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = static_cast<int>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = static_cast<int>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace

bool dequantize(uint32_t type, const uint8_t* src, uint64_t elements, float* out) {
  uint32_t block_elements = 0, block_bytes = 0;
  if (!tensor_type_layout(type, &block_elements, &block_bytes) || elements % block_elements != 0)
    return false;
  const uint64_t blocks = elements / block_elements;
  void (*block)(const uint8_t*, float*) = nullptr;
  switch (static_cast<TensorType>(type)) {
    case TensorType::kF32:
      std::memcpy(out, src, elements * 4);
      return true;
    case TensorType::kF16:
      for (uint64_t i = 0; i < elements; ++i) out[i] = f16_at(src + 2 * i);
      return true;
    case TensorType::kBF16:
      for (uint64_t i = 0; i < elements; ++i) out[i] = bf16_at(src + 2 * i);
      return true;
    case TensorType::kQ4_0:
      block = block_q4_0;
      break;
    case TensorType::kQ4_1:
      block = block_q4_1;
      break;
    case TensorType::kQ5_0:
      block = block_q5_0;
      break;
    case TensorType::kQ5_1:
      block = block_q5_1;
      break;
    case TensorType::kQ8_0:
      block = block_q8_0;
      break;
    case TensorType::kQ4_K:
      block = block_q4_k;
      break;
    case TensorType::kQ5_K:
      block = block_q5_k;
      break;
    case TensorType::kQ6_K:
      block = block_q6_k;
      break;
  }
  if (block == nullptr) return false;
  for (uint64_t i = 0; i < blocks; ++i) block(src + i * block_bytes, out + i * block_elements);
  return true;
}

Repack repack_q8_0(const uint8_t* src, uint64_t rows, uint64_t cols, std::vector<uint8_t>* codes,
                   std::vector<uint8_t>* scales_f16) {
  const uint64_t groups = rows * (cols / 32);
  codes->resize(rows * cols);
  scales_f16->resize(groups * 2);
  for (uint64_t g = 0; g < groups; ++g) {
    const uint8_t* b = src + g * 34;
    uint16_t d;
    std::memcpy(&d, b, 2);
    if ((d & 0x7C00u) == 0x7C00u) return Repack::kNonFinite;
    uint8_t* out = codes->data() + 32 * g;
    if (d & 0x8000u) {
      d = static_cast<uint16_t>(d & 0x7FFFu);
      for (int j = 0; j < 32; ++j) {
        const int8_t q = static_cast<int8_t>(b[2 + j]);
        if (q == -128) return Repack::kNotRepresentable;
        out[j] = static_cast<uint8_t>(static_cast<int8_t>(-q));
      }
    } else {
      std::memcpy(out, b + 2, 32);
    }
    std::memcpy(scales_f16->data() + 2 * g, &d, 2);
  }
  return Repack::kDone;
}

Repack repack_q4_0(const uint8_t* src, uint64_t rows, uint64_t cols, std::vector<uint8_t>* packed,
                   std::vector<uint8_t>* scales_f16, std::vector<uint8_t>* zero_points) {
  const uint64_t groups = rows * (cols / 32);
  bool any_negative = false;
  for (uint64_t g = 0; g < groups; ++g) {
    uint16_t d;
    std::memcpy(&d, src + g * 18, 2);
    if ((d & 0x7C00u) == 0x7C00u) return Repack::kNonFinite;
    any_negative = any_negative || (d & 0x8000u) != 0;
  }
  packed->resize(rows * cols / 2);
  scales_f16->resize(groups * 2);
  zero_points->clear();
  if (any_negative) zero_points->resize(groups);
  for (uint64_t g = 0; g < groups; ++g) {
    const uint8_t* b = src + g * 18;
    uint16_t d;
    std::memcpy(&d, b, 2);
    const bool negative = (d & 0x8000u) != 0;
    d = static_cast<uint16_t>(d & 0x7FFFu);
    std::memcpy(scales_f16->data() + 2 * g, &d, 2);
    // ggml: value = (nibble - 8) * d, element j < 16 in qs[j] & 15, element j + 16 in qs[j] >> 4.
    uint8_t nibble[32];
    for (int j = 0; j < 16; ++j) {
      nibble[j] = static_cast<uint8_t>(b[2 + j] & 0x0F);
      nibble[j + 16] = static_cast<uint8_t>(b[2 + j] >> 4);
    }
    for (uint8_t& n : nibble) {
      if (!any_negative) {
        n = static_cast<uint8_t>(n ^ 8);  // signed int4 two's complement of n - 8
      } else if (negative) {
        n = static_cast<uint8_t>(15 - n);
      }
    }
    if (any_negative) (*zero_points)[g] = negative ? 7 : 8;
    uint8_t* out = packed->data() + 16 * g;
    for (int k = 0; k < 16; ++k) out[k] = static_cast<uint8_t>(nibble[2 * k] | (nibble[2 * k + 1] << 4));
  }
  return Repack::kDone;
}

}  // namespace ordinal::importers::gguf
