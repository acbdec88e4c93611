// Model loading: FlatBuffers verification, then semantic verification of every field and tensor.
#pragma once

#include <memory>

#include "format/mapped_file.hpp"
#include "model_data.hpp"

namespace ordinal::format {

constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kTensorAlignment = 64;

// Verifies `file` completely and builds the typed views. Never crashes on hostile input.
Result<std::unique_ptr<detail::ModelData>> load_model_data(std::unique_ptr<MappedFile> file);

}  // namespace ordinal::format
