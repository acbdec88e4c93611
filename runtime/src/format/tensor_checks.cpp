// The container: every tensor's data range inside the file (after the FlatBuffer, aligned, exact size,
// no two claims overlapping), its shape and dtype against its role, and its quantization parameters.
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "format/load_checks.hpp"
#include "format/loader.hpp"
#include "format/model_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

namespace fb = ::ordinal::schema;

namespace {

DType to_dtype(fb::DType t) {
  return static_cast<DType>(static_cast<uint8_t>(t));
}

bool known_dtype(fb::DType t) {
  return static_cast<uint8_t>(t) <= static_cast<uint8_t>(fb::DType::U64);
}

std::string dims_string(std::initializer_list<uint32_t> dims) {
  std::string s = "[";
  bool first = true;
  for (uint32_t d : dims) {
    if (!first) s += ",";
    s += std::to_string(d);
    first = false;
  }
  return s + "]";
}

Status check_range(const Ctx& ctx, const fb::TensorData* d, uint64_t expected_size, const std::string& what) {
  if (d == nullptr) return invalid_model(what + ": missing data range");
  uint64_t off = d->offset(), size = d->size();
  if (off % kTensorAlignment != 0) {
    return invalid_model(what + ": data offset " + std::to_string(off) + " is not " +
                         std::to_string(kTensorAlignment) + "-byte aligned");
  }
  if (off < ctx.flatbuffer_end) {
    return invalid_model(what + ": data offset " + std::to_string(off) +
                         " overlaps the model header (ends at " + std::to_string(ctx.flatbuffer_end) + ")");
  }
  if (off > ctx.file_size || size > ctx.file_size - off) {
    return invalid_model(what + ": data [" + std::to_string(off) + ", +" + std::to_string(size) +
                         ") lies outside the file of " + std::to_string(ctx.file_size) + " bytes");
  }
  if (size != expected_size) {
    return invalid_model(what + ": data is " + std::to_string(size) + " bytes, expected " +
                         std::to_string(expected_size));
  }
  if (size > 0) ctx.claimed->push_back({off, size, what});
  return Status::Ok();
}

// Two tensors that share bytes would let one tensor's quantized codes be read as another's scales or
// weights (and a rewrite of one change both); no writer produces that, so it is refused.
bool allowed(uint32_t allow, DType t) {
  switch (t) {
    case DType::kF32:
      return allow & kAllowF32;
    case DType::kF16:
      return allow & kAllowF16;
    case DType::kI8:
      return allow & kAllowI8;
    case DType::kI4:
      return allow & kAllowI4;
    case DType::kU8:
      return allow & kAllowU8;
    case DType::kU16:
      return allow & kAllowU16;
    default:
      return false;
  }
}

Status check_quant(const Ctx& ctx, const fb::Quantization* q, TensorView* v, const std::string& what) {
  const bool quantized = v->dtype == DType::kI8 || v->dtype == DType::kI4;
  if (!quantized) {
    if (q != nullptr && q->granularity() != fb::QuantGranularity::None) {
      return invalid_model(what + ": " + dtype_name(v->dtype) + " tensor must not carry quantization scales");
    }
    return Status::Ok();
  }
  if (q == nullptr || q->granularity() == fb::QuantGranularity::None) {
    return invalid_model(what + ": " + std::string(dtype_name(v->dtype)) +
                         " tensor has no quantization scales");
  }
  const uint32_t rows = v->rows(), cols = v->cols();
  uint64_t count = 0;
  QuantView& qv = v->quant;
  switch (q->granularity()) {
    case fb::QuantGranularity::PerTensor:
      qv.granularity = QuantGranularity::kPerTensor;
      count = 1;
      break;
    case fb::QuantGranularity::PerRow:
      qv.granularity = QuantGranularity::kPerRow;
      count = rows;
      break;
    case fb::QuantGranularity::PerColumn:
      qv.granularity = QuantGranularity::kPerColumn;
      count = cols;
      break;
    case fb::QuantGranularity::PerGroup: {
      qv.granularity = QuantGranularity::kPerGroup;
      uint32_t g = q->group_size();
      if (g == 0 || g % 2 != 0 || cols % g != 0) {
        return invalid_model(what + ": group size " + std::to_string(g) + " must be even and divide " +
                             std::to_string(cols) + " columns");
      }
      qv.group_size = g;
      count = uint64_t{rows} * (cols / g);
      break;
    }
    default:
      return invalid_model(what + ": unknown quantization granularity");
  }
  if (q->scale_dtype() != fb::DType::F32 && q->scale_dtype() != fb::DType::F16) {
    return invalid_model(what + ": scales must be f32 or f16");
  }
  qv.scale_dtype = to_dtype(q->scale_dtype());
  uint64_t scale_bytes = dtype_storage_bytes(qv.scale_dtype, count);
  ORDINAL_RETURN_IF_ERROR(check_range(ctx, q->scales(), scale_bytes, what + " scales"));
  qv.scales = ctx.base + q->scales()->offset();
  qv.scale_count = count;
  for (uint64_t i = 0; i < count; ++i) {
    float s = scale_at(qv, i);
    if (!std::isfinite(s) || s < 0.0f) {
      return invalid_model(what + ": scale " + std::to_string(i) + " is not a finite non-negative number");
    }
  }
  if (q->zero_points() != nullptr) {
    if (v->dtype != DType::kI4 || qv.granularity != QuantGranularity::kPerGroup) {
      return invalid_model(what + ": zero points are only supported for int4 group quantization");
    }
    ORDINAL_RETURN_IF_ERROR(check_range(ctx, q->zero_points(), count, what + " zero points"));
    qv.zero_points = ctx.base + q->zero_points()->offset();
    for (uint64_t i = 0; i < count; ++i) {
      if (qv.zero_points[i] > 15) {
        return invalid_model(what + ": zero point " + std::to_string(i) + " exceeds the int4 range");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status check_no_overlap(std::vector<ClaimedRange>* claimed) {
  std::sort(claimed->begin(), claimed->end(),
            [](const ClaimedRange& a, const ClaimedRange& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < claimed->size(); ++i) {
    const ClaimedRange& a = (*claimed)[i - 1];
    const ClaimedRange& b = (*claimed)[i];
    if (b.offset < a.offset + a.size) {
      return invalid_model(b.what + ": data [" + std::to_string(b.offset) + ", +" + std::to_string(b.size) +
                           ") overlaps " + a.what + " [" + std::to_string(a.offset) + ", +" +
                           std::to_string(a.size) + ")");
    }
  }
  return Status::Ok();
}

Status check_tensor(const Ctx& ctx, const fb::Tensor* t, const std::string& role,
                    std::initializer_list<uint32_t> expected_shape, uint32_t allow, bool required,
                    TensorView* out) {
  *out = TensorView();
  if (t == nullptr) {
    if (required) return invalid_model("tensor '" + role + "' is missing");
    return Status::Ok();
  }
  const std::string what = "tensor '" + role + "' (" + t->name()->str() + ")";
  if (!known_dtype(t->dtype())) return invalid_model(what + ": unknown dtype");
  out->name = t->name()->str();
  out->dtype = to_dtype(t->dtype());
  const auto* shape = t->shape();
  if (shape->size() != expected_shape.size()) {
    return invalid_model(what + ": rank " + std::to_string(shape->size()) + ", expected shape " +
                         dims_string(expected_shape));
  }
  out->rank = shape->size();
  size_t i = 0;
  for (uint32_t d : expected_shape) {
    if (shape->Get(static_cast<uint32_t>(i)) != d) {
      std::string got = "[";
      for (uint32_t j = 0; j < shape->size(); ++j) got += (j ? "," : "") + std::to_string(shape->Get(j));
      return invalid_model(what + ": shape " + got + "] does not match expected " +
                           dims_string(expected_shape));
    }
    out->shape[i++] = d;
  }
  if (!allowed(allow, out->dtype)) {
    return invalid_model(what + ": dtype " + dtype_name(out->dtype) + " is not allowed for this tensor");
  }
  // Shapes were checked against config values bounded by kMax*, so these products cannot overflow.
  uint64_t expected_bytes = out->dtype == DType::kI4 ? uint64_t{out->rows()} * out->row_bytes()
                                                     : dtype_storage_bytes(out->dtype, out->elements());
  ORDINAL_RETURN_IF_ERROR(check_range(ctx, t->data(), expected_bytes, what));
  out->data = ctx.base + t->data()->offset();
  out->bytes = expected_bytes;
  // Symmetric int8 is [-127, 127] (every writer clamps there); -128 has no negation and breaks the
  // kernels' and the re-rotation's bounds.
  if (out->dtype == DType::kI8) {
    const void* at = std::memchr(out->data, 0x80, static_cast<size_t>(expected_bytes));
    if (at != nullptr) {
      return invalid_model(what + ": int8 value -128 at byte " +
                           std::to_string(static_cast<const uint8_t*>(at) - out->data) +
                           " (int8 tensors hold [-127, 127])");
    }
  }
  return check_quant(ctx, t->quant(), out, what);
}

uint64_t stored_bytes(const TensorView& v) {
  uint64_t b = v.bytes;
  if (v.quant.scales) b += dtype_storage_bytes(v.quant.scale_dtype, v.quant.scale_count);
  if (v.quant.zero_points) b += v.quant.scale_count;
  return b;
}

}  // namespace ordinal::format
