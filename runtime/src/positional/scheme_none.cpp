// No positional information (NoPE): every hook is absent.
#include "positional/scheme.hpp"

namespace ordinal::positional {

namespace {

Status load(const format::Ctx&, const schema::Model&, const ModelConfig&, detail::PositionalParams*) {
  return Status::Ok();
}

int64_t position_limit(const detail::PositionalParams&) {
  return format::kComputedPositionLimit;
}

Status prepare(const detail::ModelData&, EncoderState*) {
  return Status::Ok();
}

}  // namespace

const SchemeModule kNoPositionModule = {
    PositionalScheme::kNone,
    schema::Positional::NoPosition,
    "none",
    load,
    position_limit,
    prepare,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace ordinal::positional
