// The loader's checks that a part of the model (a positional module, a weight) uses to verify its own
// FlatBuffers fields: tensor shape/format/range/quantization against the file, and the limits every part
// shares. Defined in format/tensor_checks.cpp; runtime-internal.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "format/tensor_view.hpp"
#include "ordinal/status.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

constexpr uint32_t kMaxDim = 1u << 16;
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kMaxVocab = 1u << 22;
constexpr uint32_t kMaxPositions = 1u << 24;
constexpr int64_t kComputedPositionLimit = int64_t{1} << 31;  // positions 0 .. 2^31-1

// A byte range of the file some tensor, scale or zero-point array claims (for the overlap check).
struct ClaimedRange {
  uint64_t offset, size;
  std::string what;
};

// The file being loaded: where tensor data may lie, and the ranges tensors claimed so far.
struct Ctx {
  const uint8_t* base;
  uint64_t file_size;
  uint64_t flatbuffer_end;
  std::vector<ClaimedRange>* claimed;
};

// Which storage formats a tensor role accepts.
enum Allow : uint32_t {
  kAllowF32 = 1u << 0,
  kAllowF16 = 1u << 1,
  kAllowI8 = 1u << 2,
  kAllowI4 = 1u << 3,
  kAllowU8 = 1u << 4,
  kAllowU16 = 1u << 5,
};
constexpr uint32_t kFloatOnly = kAllowF32;
constexpr uint32_t kWeight = kAllowF32 | kAllowF16 | kAllowI8 | kAllowI4;
constexpr uint32_t kTableFormats = kAllowF32 | kAllowF16 | kAllowI8 | kAllowI4;
constexpr uint32_t kIndexFormats = kAllowU8 | kAllowU16;

// Verifies one tensor against its expected shape and allowed formats and fills `out` (a view into the
// file). `t` may be null when the tensor is optional.
Status check_tensor(const Ctx& ctx, const schema::Tensor* t, const std::string& role,
                    std::initializer_list<uint32_t> expected_shape, uint32_t allow, bool required,
                    TensorView* out);

// Storage bytes of a tensor with its scales and zero points.
uint64_t stored_bytes(const TensorView& v);

}  // namespace ordinal::format
