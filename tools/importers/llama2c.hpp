// Importer for karpathy/llama2.c checkpoints (legacy "version 0" fp32 format) and their tokenizer files.
#pragma once

#include <string>

#include "modelio/model_spec.hpp"

namespace ordinal::importers {

// Reads MODEL.bin (7 x int32 header, then fp32 weights in run.c order; a negative vocab_size means an
// untied classifier stored last) and TOKENIZER.bin (max_token_length, then per token: f32 score,
// i32 length, bytes). Every size is checked against the file; any mismatch is an error naming it.
Result<modelio::ModelSpec> import_llama2c(const std::string& model_path, const std::string& tokenizer_path);

// Reads a llama2.c tokenizer file of `vocab_size` entries.
Result<Tokenizer::Spec> read_llama2c_tokenizer(const std::string& path, uint32_t vocab_size);

}  // namespace ordinal::importers
