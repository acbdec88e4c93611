// A verified, typed view of one tensor inside a mapped model file. Views never own memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ordinal::format {

enum class DType : uint8_t { kF32 = 0, kF16 = 1, kI8 = 2, kI4 = 3, kU8 = 4, kU16 = 5, kI32 = 6, kU64 = 7 };
enum class QuantGranularity : uint8_t {
  kNone = 0,
  kPerTensor = 1,
  kPerRow = 2,
  kPerColumn = 3,
  kPerGroup = 4
};

const char* dtype_name(DType t);
// Bytes needed for `elements` values of `t` (int4 packs two per byte, rounded up per row by callers).
uint64_t dtype_storage_bytes(DType t, uint64_t elements);

struct QuantView {
  QuantGranularity granularity = QuantGranularity::kNone;
  uint32_t group_size = 0;
  DType scale_dtype = DType::kF32;
  const uint8_t* scales = nullptr;  // F32 or F16 values
  uint64_t scale_count = 0;
  const uint8_t* zero_points = nullptr;  // U8, optional
};

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  uint32_t rank = 0;
  uint32_t shape[4] = {0, 0, 0, 0};
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  QuantView quant;

  bool present() const { return data != nullptr; }
  uint64_t elements() const {
    uint64_t n = 1;
    for (uint32_t i = 0; i < rank; ++i) n *= shape[i];
    return n;
  }
  uint32_t rows() const { return rank == 0 ? 0 : shape[0]; }
  uint32_t cols() const { return rank < 2 ? 1 : shape[1]; }
  // Bytes of one row in storage (int4 rows are padded to whole bytes).
  uint64_t row_bytes() const;
  std::string shape_string() const;
};

// Reads element `i` of an F32 or F16 scale array as float.
float scale_at(const QuantView& q, uint64_t i);

}  // namespace ordinal::format
