// Importer for Hugging Face style model directories: config.json + model.safetensors + tokenizer.json
// (Ordinal's `llama2c-bpe` tokenizer format), as written by models/train/common.py. Two bodies:
//   * GPT-2 (`model_type: gpt2`): HF Conv1D weights [in, out] are split (c_attn = q | k | v) and
//     transposed to Ordinal's [out, in]; positional scheme from `ordinal_positional` (learned,
//     sinusoidal, alibi, relative_bias, none).
//   * Llama (`model_type: llama`): nn.Linear weights [out, in]; split-half RoPE; GQA; tied or untied head.
// The safetensors file is treated as hostile: header length, offsets, dtypes and byte sizes are checked,
// the data section must be covered exactly, and every tensor must be consumed (an unexpected tensor is
// an error, never silently dropped). Errors name the file, tensor or config key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modelio/model_spec.hpp"

namespace ordinal::importers {

// One tensor of a parsed safetensors file.
struct SafetensorsTensor {
  std::string name;
  std::string dtype;            // "F32", "F16" or "BF16" (others are refused while parsing)
  std::vector<uint64_t> shape;  // empty for a scalar
  uint64_t begin = 0, end = 0;  // byte range within the data section
};

struct SafetensorsFile {
  std::vector<uint8_t> bytes;              // the whole file
  uint64_t data_start = 0;                 // 8 + header length
  std::vector<SafetensorsTensor> tensors;  // in header order
  const uint8_t* data(const SafetensorsTensor& t) const { return bytes.data() + data_start + t.begin; }
};

// Reads and validates a safetensors file (8-byte little-endian header length, JSON header
// {name: {dtype, shape, data_offsets}}, `__metadata__` ignored).
Result<SafetensorsFile> read_safetensors(const std::string& path);

// Imports DIR/config.json, DIR/model.safetensors and DIR/tokenizer.json.
Result<modelio::ModelSpec> import_safetensors(const std::string& dir);

}  // namespace ordinal::importers
