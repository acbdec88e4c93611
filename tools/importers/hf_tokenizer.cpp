// tokenizer.json (Ordinal's llama2c-bpe format written by models/train/common.py): pieces and scores against
// the vocabulary, byte-fallback detection, then Tokenizer::create's own checks.
#include <cmath>
#include <cstdio>

#include "importers/safetensors_internal.hpp"

namespace ordinal::importers::hf {

Tokenizer::Spec read_tokenizer(const std::string& path, uint32_t vocab_size) {
  json j = parse_json_file(path);
  if (!j.is_object()) fail(path + ": not a JSON object");
  Config c(j, path);
  const std::string kind = c.string("kind");
  if (kind != "llama2c-bpe") fail(path + ": tokenizer kind '" + kind + "' is not supported (llama2c-bpe)");
  if (!j.contains("pieces") || !j["pieces"].is_array()) fail(path + ": missing array 'pieces'");
  if (!j.contains("scores") || !j["scores"].is_array()) fail(path + ": missing array 'scores'");
  const json& pieces = j["pieces"];
  const json& scores = j["scores"];
  if (pieces.size() != vocab_size || scores.size() != vocab_size) {
    fail(path + ": " + std::to_string(pieces.size()) + " pieces and " + std::to_string(scores.size()) +
         " scores, config.json says vocab_size " + std::to_string(vocab_size));
  }
  Tokenizer::Spec spec;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].is_string()) fail(path + ": piece " + std::to_string(i) + " is not a string");
    if (!scores[i].is_number() || !std::isfinite(scores[i].get<double>())) {
      fail(path + ": score " + std::to_string(i) + " is not a finite number");
    }
    spec.pieces.push_back(pieces[i].get<std::string>());
    spec.scores.push_back(static_cast<float>(scores[i].get<double>()));
  }
  spec.bos_id = static_cast<int32_t>(c.u32("bos_id", 0, vocab_size - 1));
  spec.eos_id = static_cast<int32_t>(c.u32("eos_id", 0, vocab_size - 1));
  spec.unk_id = 0;
  spec.add_dummy_prefix = true;
  bool bytes = vocab_size >= 259;
  for (int b = 0; bytes && b < 256; ++b) {
    char want[8];
    std::snprintf(want, sizeof want, "<0x%02X>", b);
    bytes = spec.pieces[static_cast<size_t>(3 + b)] == want;
  }
  spec.byte_fallback_base = bytes ? 3 : -1;
  Result<Tokenizer> check = Tokenizer::create(spec);
  if (!check.ok()) fail(path + ": " + check.status().message());
  return spec;
}

}  // namespace ordinal::importers::hf
