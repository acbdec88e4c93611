// BatchSessions on several threads (CI runs this file under ThreadSanitizer, tools/test.sh): per model, two
// batch sessions of 2 threads each run at once on two std::threads, sharing the model; each batches three
// sequences (the per-thread group path and the row-split path both run) and every sequence's greedy tokens
// and logit bits equal a Session running it alone.
// Models: every *.ordinal in $ORDINAL_TEST_MODELS when set (the TSan stage: the fuzzer's seed models of
// every scheme plus story-llama in f32 and int8), else synthetic ones written here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ordinal/batch.hpp"
#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "support/model_dir.hpp"
#if ORDINAL_HAVE_TOOL_LIB
#include "support/synthetic_model.hpp"
#endif

using namespace ordinal;

namespace {

std::vector<std::string> model_paths() {
  std::vector<std::string> paths;
  if (const char* dir = std::getenv("ORDINAL_TEST_MODELS")) return testing::ordinal_models_in(dir);
#if ORDINAL_HAVE_TOOL_LIB
  for (PositionalScheme scheme : {PositionalScheme::kRope, PositionalScheme::kAlibi,
                                  PositionalScheme::kLearnedTable, PositionalScheme::kRelativeBias}) {
    testing::SyntheticOptions o;
    o.scheme = scheme;
    o.dim = 64;
    o.hidden = 96;
    o.context = 48;
    const std::string path =
        testing::temp_path(std::string("batch_threads_") + positional_scheme_name(scheme) + ".ordinal");
    Status st = modelio::write_model(testing::make_synthetic_model(o), path);
    REQUIRE_MESSAGE(st.ok(), st.to_string());
    paths.push_back(path);
  }
#endif
  return paths;
}

struct Trace {
  std::vector<int32_t> tokens;
  std::vector<uint64_t> logit_hashes;  // one per step
  std::string error;
};

uint64_t hash_bits(const float* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  const unsigned char* b = reinterpret_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n * sizeof(float); ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

std::vector<int32_t> prompt_of(size_t i, size_t n, uint32_t vocab) {
  std::vector<int32_t> p(n);
  for (size_t k = 0; k < n; ++k) p[k] = static_cast<int32_t>((k * 31 + i * 17 + 1) % vocab);
  return p;
}

Trace alone(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& prompt, size_t steps) {
  Trace t;
  SessionOptions so;
  so.threads = 1;
  so.context_length = static_cast<uint32_t>(prompt.size() + steps);
  auto s = Session::create(m, so);
  if (!s.ok()) {
    t.error = s.status().to_string();
    return t;
  }
  Status st = s.value()->prefill(prompt.data(), prompt.size());
  for (size_t k = 0; st.ok(); ++k) {
    const float* l = s.value()->logits();
    t.logit_hashes.push_back(hash_bits(l, s.value()->vocab_size()));
    if (k == steps) break;
    const int32_t next = Sampler::argmax(l, s.value()->vocab_size());
    t.tokens.push_back(next);
    st = s.value()->decode(next);
  }
  if (!st.ok()) t.error = st.to_string();
  return t;
}

std::vector<Trace> batched(const std::shared_ptr<const Model>& m,
                           const std::vector<std::vector<int32_t>>& prompts, size_t steps) {
  std::vector<Trace> out(prompts.size());
  BatchOptions bo;
  bo.threads = 2;
  bo.max_sequences = static_cast<uint32_t>(prompts.size());
  size_t longest = 0, total = 0;
  for (const auto& p : prompts) {
    longest = std::max(longest, p.size());
    total += p.size();
  }
  bo.context_length = static_cast<uint32_t>(longest + steps);
  bo.max_batch_tokens = static_cast<uint32_t>(total);
  auto b = BatchSession::create(m, bo);
  if (!b.ok()) {
    out[0].error = b.status().to_string();
    return out;
  }
  BatchSession& s = *b.value();
  std::vector<int32_t> ids, tokens, seqs;
  for (size_t i = 0; i < prompts.size(); ++i) ids.push_back(s.open_sequence(0).value());
  // Sequence 0 alone first (one group: rows split over the pool), then the others together (groups).
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (int32_t t : prompts[i]) {
      tokens.push_back(t);
      seqs.push_back(ids[i]);
    }
    if (i == 0 || i + 1 == prompts.size()) {
      Batch bt;
      bt.tokens = tokens.data();
      bt.sequences = seqs.data();
      bt.count = tokens.size();
      Status st = s.forward(bt);
      if (!st.ok()) {
        out[0].error = st.to_string();
        return out;
      }
      tokens.clear();
      seqs.clear();
    }
  }
  for (size_t k = 0;; ++k) {
    for (size_t i = 0; i < prompts.size(); ++i) {
      const float* l = s.sequence_logits(ids[i]);
      out[i].logit_hashes.push_back(hash_bits(l, s.vocab_size()));
      if (k == steps) continue;
      const int32_t next = Sampler::argmax(l, s.vocab_size());
      out[i].tokens.push_back(next);
      tokens.push_back(next);
      seqs.push_back(ids[i]);
    }
    if (k == steps) break;
    Batch bt;
    bt.tokens = tokens.data();
    bt.sequences = seqs.data();
    bt.count = tokens.size();
    Status st = s.forward(bt);
    tokens.clear();
    seqs.clear();
    if (!st.ok()) {
      out[0].error = st.to_string();
      return out;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("two batch sessions on two threads: every sequence equals its solo run, bit for bit") {
  const std::vector<std::string> paths = model_paths();
  REQUIRE(!paths.empty());
  int ran = 0;
  for (const std::string& path : paths) {
    CAPTURE(path);
    auto m = Model::load(path);
    if (!m.ok()) continue;  // the seed corpus holds a few deliberately odd files
    const ModelConfig& c = m.value()->config();
    const size_t ctx = std::min<size_t>(c.max_positions, 64);
    if (ctx < 8) continue;
    const size_t steps = std::min<size_t>(6, ctx / 4);
    const std::vector<std::vector<int32_t>> prompts = {prompt_of(0, ctx / 2, c.vocab_size),
                                                       prompt_of(1, ctx / 4, c.vocab_size),
                                                       prompt_of(2, ctx / 3, c.vocab_size)};
    std::vector<Trace> want;
    for (const auto& p : prompts) want.push_back(alone(m.value(), p, steps));
    if (!want[0].error.empty()) continue;
    std::vector<Trace> a, b;
    std::thread other([&] { b = batched(m.value(), prompts, steps); });
    a = batched(m.value(), prompts, steps);
    other.join();
    for (size_t i = 0; i < prompts.size(); ++i) {
      CAPTURE(i);
      CHECK(a[i].error == want[i].error);
      CHECK(a[i].tokens == want[i].tokens);
      CHECK(a[i].logit_hashes == want[i].logit_hashes);
      CHECK(b[i].tokens == want[i].tokens);
      CHECK(b[i].logit_hashes == want[i].logit_hashes);
    }
    ++ran;
  }
  CHECK(ran > 0);
}

TEST_CASE("padded batches on two threads: padding never attended (ratio exactly 0), rows equal solo runs") {
  const std::vector<std::string> paths = model_paths();
  int ran = 0;
  for (const std::string& path : paths) {
    CAPTURE(path);
    auto m = Model::load(path);
    if (!m.ok()) continue;
    const ModelConfig& c = m.value()->config();
    const size_t width = std::min<size_t>(c.max_positions, 24);
    if (width < 6) continue;
    const size_t rows = 3;
    std::vector<std::vector<int32_t>> prompts;
    std::vector<int32_t> grid(rows * width);
    std::vector<uint8_t> real(rows * width, 0);
    for (size_t r = 0; r < rows; ++r) {
      const size_t len = width - 2 * r;  // left-padded by 0, 2, 4
      prompts.push_back(prompt_of(r, len, c.vocab_size));
      for (size_t k = 0; k < width; ++k)
        grid[r * width + k] = static_cast<int32_t>((k * 5 + 3) % c.vocab_size);
      for (size_t k = 0; k < len; ++k) {
        grid[r * width + (width - len) + k] = prompts[r][k];
        real[r * width + (width - len) + k] = 1;
      }
    }
    std::vector<Trace> want;
    for (const auto& p : prompts) want.push_back(alone(m.value(), p, 0));
    if (!want[0].error.empty()) continue;
    BatchOptions bo;
    bo.threads = 2;
    bo.max_sequences = rows;
    bo.context_length = static_cast<uint32_t>(width);
    bo.max_batch_tokens = static_cast<uint32_t>(rows * width);
    bo.audit_padding_attention = true;
    auto b = BatchSession::create(m.value(), bo);
    REQUIRE(b.ok());
    std::vector<int32_t> ids;
    for (size_t r = 0; r < rows; ++r) ids.push_back(b.value()->open_sequence(0).value());
    REQUIRE(b.value()->forward_padded(grid.data(), real.data(), rows, width, ids.data()).ok());
    for (size_t r = 0; r < rows; ++r) {
      CHECK(hash_bits(b.value()->sequence_logits(ids[r]), c.vocab_size) == want[r].logit_hashes[0]);
    }
    CHECK(b.value()->padding_attention_ratio() == 0.0);
    ++ran;
  }
  CHECK(ran > 0);
}
