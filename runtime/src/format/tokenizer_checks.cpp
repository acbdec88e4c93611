// The tokenizer block: pieces, scores and merges against the vocabulary, then Tokenizer::create's checks.
#include <cmath>
#include <string>

#include "format/load_checks.hpp"
#include "format/model_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"

namespace ordinal::format {

namespace fb = ::ordinal::schema;

Status check_tokenizer(const fb::Tokenizer* t, uint32_t vocab, Tokenizer* out) {
  if (static_cast<uint8_t>(t->kind()) > static_cast<uint8_t>(fb::TokenizerKind::Gpt2ByteBpe)) {
    return invalid_model("tokenizer: unknown kind");
  }
  const auto* offsets = t->piece_offsets();
  const auto* pieces = t->pieces();
  const auto* scores = t->scores();
  if (offsets->size() != uint64_t{vocab} + 1) {
    return invalid_model("tokenizer: " + std::to_string(offsets->size()) +
                         " piece offsets, expected vocab_size+1 = " + std::to_string(uint64_t{vocab} + 1));
  }
  if (scores->size() != vocab) {
    return invalid_model("tokenizer: " + std::to_string(scores->size()) + " scores, expected " +
                         std::to_string(vocab));
  }
  Tokenizer::Spec spec;
  spec.pieces.reserve(vocab);
  spec.scores.reserve(vocab);
  for (uint32_t i = 0; i < vocab; ++i) {
    uint32_t a = offsets->Get(i), b = offsets->Get(i + 1);
    if (a > b || b > pieces->size()) {
      return invalid_model("tokenizer: piece " + std::to_string(i) + " has offsets [" + std::to_string(a) +
                           ", " + std::to_string(b) + ") outside the " + std::to_string(pieces->size()) +
                           "-byte piece table");
    }
    if (b - a > 256)
      return invalid_model("tokenizer: piece " + std::to_string(i) + " is longer than 256 bytes");
    spec.pieces.emplace_back(reinterpret_cast<const char*>(pieces->data()) + a, b - a);
    float s = scores->Get(i);
    if (!std::isfinite(s))
      return invalid_model("tokenizer: score of piece " + std::to_string(i) + " is not finite");
    spec.scores.push_back(s);
  }
  spec.bos_id = t->bos_id();
  spec.eos_id = t->eos_id();
  spec.unk_id = t->unk_id();
  spec.byte_fallback_base = t->byte_fallback_base();
  spec.add_dummy_prefix = t->add_dummy_prefix();
  spec.kind = static_cast<Tokenizer::Kind>(t->kind());
  if (const auto* merges = t->merges()) {
    // Pairs of ids; Tokenizer::create checks each id and that the merged piece exists.
    if (merges->size() % 2 != 0) return invalid_model("tokenizer: merges hold an odd number of ids");
    spec.merges.reserve(merges->size() / 2);
    for (uint32_t i = 0; i + 1 < merges->size(); i += 2) {
      const uint32_t l = merges->Get(i), r = merges->Get(i + 1);
      if (l >= vocab || r >= vocab) {
        return invalid_model("tokenizer: merge " + std::to_string(i / 2) + " names a token out of range");
      }
      spec.merges.emplace_back(static_cast<int32_t>(l), static_cast<int32_t>(r));
    }
  }
  ORDINAL_ASSIGN_OR_RETURN(*out, Tokenizer::create(std::move(spec)));
  return Status::Ok();
}

}  // namespace ordinal::format
