// What the fuzzer does with a model that loads, shared with the tests that replay tests/fuzz/regressions:
// its tokenizer encodes and decodes text; a session runs a batched prefill and decode steps; then positions
// just below the model's limit (where out-of-table policies and huge RoPE/ALiBi offsets live) and one past
// it (which must be refused, not computed). Nothing here may crash, whatever the model holds; returns false
// when a checked promise is broken (a position past the limit was accepted).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ordinal/runtime.hpp"

namespace ordinal::fuzz {

inline bool exercise_model(const std::shared_ptr<const Model>& model) {
  const Tokenizer& tok = model->tokenizer();
  std::vector<int32_t> ids;
  if (tok.encode("Once upon a time, \xc3\xa9\xff!", true, true, &ids).ok()) {
    int32_t prev = tok.bos_id();
    for (int32_t id : ids) {
      (void)tok.decode(prev, id);
      prev = id;
    }
  }
  const int32_t vocab = static_cast<int32_t>(model->config().vocab_size);
  SessionOptions so;
  so.threads = 1;
  so.context_length = 8;
  so.prefill_chunk = 3;
  auto session = Session::create(model, so);
  if (!session.ok()) return true;
  Session& s = *session.value();
  const int32_t prompt[5] = {1, 5 % vocab, 70 % vocab, 300 % vocab, (vocab - 1)};
  if (s.prefill(prompt, 5).ok()) (void)s.decode(2 % vocab);
  // The last positions the model addresses, then one past them (must be refused, not computed).
  const int64_t limit = model->position_limit();
  if (s.reset(limit > 2 ? limit - 2 : 0).ok()) {
    for (int i = 0; i < 3; ++i) {
      const bool past_limit = s.position() >= limit;
      Status st = s.decode(i % vocab);
      if (past_limit && st.ok()) return false;
      if (!st.ok()) break;
    }
  }
  return true;
}

}  // namespace ordinal::fuzz
