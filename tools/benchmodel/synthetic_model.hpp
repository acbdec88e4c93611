// Deterministic synthetic random-weight checkpoints of realistic shapes, for benchmarks.
//
// A benchmark needs models of the sizes people ship (stories15M/42M/110M, GPT-2 small) without shipping
// hundreds of MB: these writers produce them at benchmark time from a seed. The files are in the formats
// the importers take (llama2.c checkpoint + tokenizer.bin; safetensors + config.json + tokenizer.json), so
// a benchmark exercises the same import path a user's model does, and peers (llama2.c run.c, llama.cpp's
// llama2.c converter) can read the very same weights.
//
// Weights: matrices ~ N(0, 0.02) (GPT-2's initializer scale, the scale of trained small-model weights),
// norm gains 1 + N(0, 0.02), biases N(0, 0.02). The normal deviates are Irwin-Hall sums of four 16-bit
// uniforms from splitmix64, scaled by one float multiply: integer arithmetic plus one IEEE rounding, so the
// bytes are identical on every platform and compiler. Every tensor has its own stream (seed + tensor
// name), so one tensor's values do not depend on which tensors precede it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ordinal/status.hpp"

namespace ordinal::benchmodel {

enum class Family { kLlama2c, kGpt2 };

struct Shape {
  std::string name;
  Family family = Family::kLlama2c;
  uint32_t dim = 0;
  uint32_t hidden_dim = 0;
  uint32_t n_layers = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;
  uint32_t vocab_size = 0;
  uint32_t seq_len = 0;  // llama2.c seq_len; GPT-2 n_positions (rows of the learned position table)
};

// stories15M, stories42M, stories110M (llama2.c shapes, vocab 32000) and gpt2-small (vocab 50257, learned
// 1024 x 768 position table).
const std::vector<Shape>& preset_shapes();
// The preset named `name`, or an error listing the presets.
Result<Shape> find_preset(const std::string& name);
// Checks a shape's dimensions (positive, heads divide dim, kv heads divide heads, vocab >= 259 for the
// byte pieces, sizes that fit the formats).
Status check_shape(const Shape& shape);

// Bytes of f32 weights the checkpoint holds (what a decode step reads, tied classifier counted once).
uint64_t weight_bytes(const Shape& shape);

// The stream of N(0, 1)-like deviates of one tensor: Irwin-Hall(4) over 16-bit uniforms, |x| <= 2*sqrt(3).
class NormalStream {
 public:
  NormalStream(uint64_t seed, const std::string& tensor_name);
  float next();

 private:
  uint64_t state_;
};

// A synthetic SentencePiece-style BPE vocabulary of `vocab_size` pieces: <unk>, <s>, </s>, the 256 byte
// pieces <0x00>..<0xFF>, the 95 printable ASCII characters (frequent letters first), then pieces made by
// merging two earlier pieces, drawn with a bias to early (short, common) ones, so every piece is reachable
// by BPE merges from characters; scored by rank (earlier = higher).
struct Vocabulary {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  uint32_t max_token_length = 0;
};
Result<Vocabulary> synthetic_vocabulary(uint32_t vocab_size, uint64_t seed);

// llama2.c legacy checkpoint (7 x int32 header, f32 weights in run.c order, RoPE tables; tied classifier)
// and tokenizer.bin, readable by run.c and `ordinal import llama2c`.
Status write_llama2c(const Shape& shape, uint64_t seed, const std::string& model_path,
                     const std::string& tokenizer_path);

// A Hugging Face GPT-2 directory: model.safetensors (F32, Conv1D layouts), config.json (learned
// positions), tokenizer.json (kind llama2c-bpe), readable by `ordinal import safetensors`.
Status write_gpt2_safetensors(const Shape& shape, uint64_t seed, const std::string& dir);

}  // namespace ordinal::benchmodel
