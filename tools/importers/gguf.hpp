// Importer for GGUF files (llama.cpp): `llama` and `gpt2` architectures, their tensors in F32, F16,
// BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, and the tokenizer stored in the metadata.
//
// * llama: RMSNorm, SwiGLU, GQA (head_count_kv), tied or separate output. llama.cpp's llama graph rotates
//   adjacent pairs (its converter permutes HF's split-half Q/K rows into that order), which is the
//   schema's RopeLayout::Interleaved: the rows are taken as stored. rope.freq_base, rope.scaling.{type,
//   factor, original_context_length} (none, linear, yarn) map onto the Rope block. rope.dimension_count
//   below head_dim (partial rotary: ggml rotates the pairs of the first dimension_count dims) becomes the
//   block's rotary_dims; it must be even.
// * gpt2: learned position table (position_embd), LayerNorm with biases, GELU (tanh), fused attn_qkv
//   split into q, k, v.
// * Tensors: Q8_0 / Q4_0 matrices are taken over losslessly as int8 / int4 groups of 32 with f16 scales
//   where the runtime reads those formats; every other quantized type is dequantized to f32 (ggml's own
//   arithmetic) and the import says so, per type.
// * Tokenizers: tokenizer.ggml.model "llama" (SentencePiece-style pieces, scores, token types, byte
//   fallback) -> Llama2cBpe with '▁' mapped to ' '; "gpt2" (tokens in GPT-2's byte alphabet, merges; only
//   GPT-2's own pre-tokenizer) -> Gpt2ByteBpe with raw-byte pieces and id-pair merges. BOS/EOS/UNK ids
//   from the metadata.
#pragma once

#include <string>
#include <vector>

#include "importers/gguf_file.hpp"
#include "modelio/model_spec.hpp"

namespace ordinal::importers {

struct GgufImport {
  modelio::ModelSpec spec;
  std::vector<std::string> notes;  // one line per conversion decision (e.g. "Q6_K: 3 tensors dequantized")
};

// Imports a parsed GGUF file; `what` names it in errors.
Result<GgufImport> import_gguf_file(const gguf::File& file, const std::string& what);

// Reads, parses and imports the GGUF file at `path`.
Result<GgufImport> import_gguf(const std::string& path);

}  // namespace ordinal::importers
