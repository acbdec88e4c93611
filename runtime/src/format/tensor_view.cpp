#include "format/tensor_view.hpp"

#include <cstring>

#include "numerics/half.hpp"

namespace ordinal::format {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kF16:
      return "f16";
    case DType::kI8:
      return "i8";
    case DType::kI4:
      return "i4";
    case DType::kU8:
      return "u8";
    case DType::kU16:
      return "u16";
    case DType::kI32:
      return "i32";
    case DType::kU64:
      return "u64";
  }
  return "?";
}

uint64_t dtype_storage_bytes(DType t, uint64_t elements) {
  switch (t) {
    case DType::kF32:
    case DType::kI32:
      return elements * 4;
    case DType::kF16:
    case DType::kU16:
      return elements * 2;
    case DType::kI8:
    case DType::kU8:
      return elements;
    case DType::kI4:
      return (elements + 1) / 2;
    case DType::kU64:
      return elements * 8;
  }
  return 0;
}

uint64_t TensorView::row_bytes() const {
  if (rank == 0) return 0;
  uint64_t per_row = 1;
  for (uint32_t i = 1; i < rank; ++i) per_row *= shape[i];
  return dtype_storage_bytes(dtype, per_row);
}

std::string TensorView::shape_string() const {
  std::string s = "[";
  for (uint32_t i = 0; i < rank; ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

float scale_at(const QuantView& q, uint64_t i) {
  if (q.scale_dtype == DType::kF16) {
    uint16_t h;
    std::memcpy(&h, q.scales + 2 * i, 2);
    return numerics::half_to_float(h);
  }
  float f;
  std::memcpy(&f, q.scales + 4 * i, 4);
  return f;
}

}  // namespace ordinal::format
