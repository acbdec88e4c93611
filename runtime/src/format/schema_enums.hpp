// Enum pairs that mean the same thing on both sides of the file format: the schema's (flatc, ordinal.fbs)
// and the runtime's. The loader casts schema -> runtime and the host writer runtime -> schema by numeric
// value; every file that casts includes this header, so a value added or renumbered on one side only
// fails to compile instead of silently meaning something else. The RoPE-only pairs (layout, scaling type)
// are asserted in the RoPE module (positional/scheme_rope.cpp), the file every RoPE variant touches.
#pragma once

#include <cstdint>

#include "format/tensor_view.hpp"
#include "model_data.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/tokenizer.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

template <typename A, typename B>
constexpr bool same_value(A a, B b) {
  return static_cast<uint8_t>(a) == static_cast<uint8_t>(b);
}

namespace schema_enums {
namespace fb = ::ordinal::schema;

static_assert(same_value(fb::DType::F32, DType::kF32) && same_value(fb::DType::F16, DType::kF16) &&
                  same_value(fb::DType::I8, DType::kI8) && same_value(fb::DType::I4, DType::kI4) &&
                  same_value(fb::DType::U8, DType::kU8) && same_value(fb::DType::U16, DType::kU16) &&
                  same_value(fb::DType::I32, DType::kI32) && same_value(fb::DType::U64, DType::kU64) &&
                  same_value(fb::DType::MAX, DType::kU64),
              "schema DType and format::DType must agree");
static_assert(same_value(fb::QuantGranularity::None, QuantGranularity::kNone) &&
                  same_value(fb::QuantGranularity::PerTensor, QuantGranularity::kPerTensor) &&
                  same_value(fb::QuantGranularity::PerRow, QuantGranularity::kPerRow) &&
                  same_value(fb::QuantGranularity::PerColumn, QuantGranularity::kPerColumn) &&
                  same_value(fb::QuantGranularity::PerGroup, QuantGranularity::kPerGroup) &&
                  same_value(fb::QuantGranularity::MAX, QuantGranularity::kPerGroup),
              "schema and runtime quantization granularities must agree");
static_assert(same_value(fb::Architecture::Llama, Architecture::kLlama) &&
                  same_value(fb::Architecture::GPT2, Architecture::kGPT2) &&
                  same_value(fb::Architecture::MAX, Architecture::kGPT2),
              "schema and runtime architectures must agree");
static_assert(same_value(fb::NormType::RMSNorm, NormType::kRMSNorm) &&
                  same_value(fb::NormType::LayerNorm, NormType::kLayerNorm) &&
                  same_value(fb::NormType::MAX, NormType::kLayerNorm),
              "schema and runtime norm types must agree");
static_assert(same_value(fb::Activation::SwiGLU, Activation::kSwiGLU) &&
                  same_value(fb::Activation::GELU, Activation::kGELU) &&
                  same_value(fb::Activation::MAX, Activation::kGELU),
              "schema and runtime activations must agree");
static_assert(same_value(fb::TokenizerKind::Llama2cBpe, Tokenizer::Kind::kLlama2cBpe) &&
                  same_value(fb::TokenizerKind::Gpt2ByteBpe, Tokenizer::Kind::kGpt2ByteBpe) &&
                  same_value(fb::TokenizerKind::MAX, Tokenizer::Kind::kGpt2ByteBpe),
              "schema and runtime tokenizer kinds must agree");
static_assert(same_value(fb::OutOfRangePolicy::Error, detail::OutOfRangePolicy::kError) &&
                  same_value(fb::OutOfRangePolicy::Clamp, detail::OutOfRangePolicy::kClamp) &&
                  same_value(fb::OutOfRangePolicy::Interpolate, detail::OutOfRangePolicy::kInterpolate) &&
                  same_value(fb::OutOfRangePolicy::MAX, detail::OutOfRangePolicy::kInterpolate),
              "schema and runtime out-of-range policies must agree");
static_assert(same_value(fb::BucketRule::UniformStride, detail::BucketRuleKind::kUniformStride) &&
                  same_value(fb::BucketRule::T5Log, detail::BucketRuleKind::kT5Log) &&
                  same_value(fb::BucketRule::MAX, detail::BucketRuleKind::kT5Log),
              "schema and runtime bucket rules must agree");
static_assert(same_value(fb::TrigPrecision::F32, detail::TrigPrecision::kF32) &&
                  same_value(fb::TrigPrecision::Q15, detail::TrigPrecision::kQ15) &&
                  same_value(fb::TrigPrecision::Q31, detail::TrigPrecision::kQ31) &&
                  same_value(fb::TrigPrecision::MAX, detail::TrigPrecision::kQ31),
              "schema and runtime trig precisions must agree");
static_assert(same_value(fb::AlibiForm::Causal, detail::AlibiFormKind::kCausal) &&
                  same_value(fb::AlibiForm::Symmetric, detail::AlibiFormKind::kSymmetric) &&
                  same_value(fb::AlibiForm::MAX, detail::AlibiFormKind::kSymmetric),
              "schema and runtime ALiBi forms must agree");

}  // namespace schema_enums
}  // namespace ordinal::format
