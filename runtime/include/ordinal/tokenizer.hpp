// Tokenizers of two kinds:
// * llama2.c-style BPE: vocab pieces with merge scores, byte fallback (<0xNN> pieces). Encoding and
//   decoding reproduce llama2.c run.c byte for byte.
// * GPT-2 byte-level BPE: GPT-2's pre-tokenizer pattern splits the text, each chunk's bytes start as
//   single-byte tokens and merge by rank (tokenizers/byte_bpe.cpp). Pieces are raw bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ordinal/export.h"
#include "ordinal/status.hpp"

namespace ordinal {

class ORD_API Tokenizer {
 public:
  enum class Kind : uint8_t { kLlama2cBpe = 0, kGpt2ByteBpe = 1 };
  struct Spec {
    Kind kind = Kind::kLlama2cBpe;
    std::vector<std::string> pieces;
    std::vector<float> scores;
    int32_t bos_id = 1;
    int32_t eos_id = 2;
    int32_t unk_id = 0;
    int32_t byte_fallback_base = 3;  // -1: no byte pieces
    bool add_dummy_prefix = true;
    // kGpt2ByteBpe: merges in rank order, each (left id, right id); the merged token is the piece whose
    // bytes are left + right.
    std::vector<std::pair<int32_t, int32_t>> merges;
  };
  static Result<Tokenizer> create(Spec spec);

  // Tokens for `text`, with BOS first when `bos`, EOS last when `eos`.
  Status encode(std::string_view text, bool bos, bool eos, std::vector<int32_t>* out) const;
  // The text to print for `token` after `prev`: strips the leading space after BOS and maps
  // byte pieces to their byte, as run.c does. Returns an empty view for an out-of-range id.
  std::string_view decode(int32_t prev, int32_t token) const;
  // run.c's safe_printf rule: skip pieces that are one unprintable, non-space byte.
  static bool is_printable_piece(std::string_view piece);

  size_t vocab_size() const { return spec_.pieces.size(); }
  const std::string& piece(int32_t id) const { return spec_.pieces[static_cast<size_t>(id)]; }
  float score(int32_t id) const { return spec_.scores[static_cast<size_t>(id)]; }
  int32_t bos_id() const { return spec_.bos_id; }
  int32_t eos_id() const { return spec_.eos_id; }
  const Spec& spec() const { return spec_; }
  int32_t lookup(std::string_view piece) const;

 private:
  // run.c's greedy highest-score-first BPE merges over `ids`, in O(n log n) (tokenizer.cpp).
  void merge_pairs(std::vector<int32_t>* ids) const;
  // GPT-2 byte-level BPE (tokenizers/byte_bpe.cpp): checks the merges and builds the rank table.
  Status init_byte_bpe();
  void encode_byte_bpe(std::string_view text, std::vector<int32_t>* out) const;

  struct Merge {
    int32_t rank;
    int32_t id;
  };
  Spec spec_;
  std::unordered_map<std::string, int32_t> index_;   // piece -> first id with that piece
  std::vector<int16_t> byte_piece_;                  // per token: byte value or -1
  std::vector<std::string> byte_strings_;            // 256 single-byte strings
  std::unordered_map<uint64_t, Merge> merge_table_;  // GPT-2: (left << 32 | right) -> rank, merged id
  int32_t byte_token_[256] = {};                     // GPT-2: the token of each single byte
};

}  // namespace ordinal
