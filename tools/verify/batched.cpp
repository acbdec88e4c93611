// verify's batched pass (verify.hpp, BatchedResult): the candidate in a BatchSession against the
// reference and itself run alone, and the padding attention ratio of a padded fixed-shape batch.
#include <algorithm>
#include <cstring>

#include "ordinal/batch.hpp"
#include "ordinal/host_limits.hpp"
#include "ordinal/sampler.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

namespace {

constexpr size_t kMaxSequences = 4;
constexpr size_t kOutputsPerCall = 256;  // logits rows a call may request: bounds the logits buffer

// Logits after every token of `tokens`, run alone (one decode per token).
Status alone_logits(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& tokens,
                    uint32_t threads, KvCacheType kv, std::vector<float>* out) {
  SessionOptions so;
  so.threads = threads;
  so.kv_cache = kv;
  so.context_length = static_cast<uint32_t>(std::max<size_t>(tokens.size(), 1));
  so.memory_budget = cli::host_memory_budget();
  ORDINAL_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, Session::create(m, so));
  const size_t vocab = s->vocab_size();
  out->resize(tokens.size() * vocab);
  for (size_t i = 0; i < tokens.size(); ++i) {
    ORDINAL_RETURN_IF_ERROR(s->decode(tokens[i]));
    std::memcpy(out->data() + i * vocab, s->logits(), vocab * sizeof(float));
  }
  return Status::Ok();
}

}  // namespace

BatchedResult batched_pass(const ModelPair& pair, const std::vector<std::vector<int32_t>>& sequences,
                           size_t max_length, uint32_t threads, KvCacheType cand_kv) {
  BatchedResult r;
  std::vector<std::vector<int32_t>> seqs;
  for (const auto& s : sequences) {
    if (seqs.size() == kMaxSequences) break;
    if (s.size() < 2) continue;
    seqs.emplace_back(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(std::min(s.size(), max_length)));
  }
  if (seqs.size() < 2) {
    r.note = "not run: fewer than 2 sequences";
    return r;
  }
  const size_t n = seqs.size();
  size_t longest = 0;
  for (const auto& s : seqs) longest = std::max(longest, s.size());
  const size_t vocab = pair.cand->config().vocab_size;
  // Alone: the reference (f32 cache) and the candidate (its own cache type).
  std::vector<std::vector<float>> ref_alone(n), cand_alone(n);
  for (size_t i = 0; i < n; ++i) {
    Status st = alone_logits(pair.ref, seqs[i], threads, KvCacheType::kF32, &ref_alone[i]);
    if (st.ok()) st = alone_logits(pair.cand, seqs[i], threads, cand_kv, &cand_alone[i]);
    if (!st.ok()) {
      r.note = "not run: " + st.to_string();
      return r;
    }
  }
  // Batched: each call carries up to `chunk` tokens of every sequence, interleaved, logits everywhere.
  const size_t chunk = std::max<size_t>(1, kOutputsPerCall / n);
  BatchOptions bo;
  bo.threads = threads;
  bo.kv_cache = cand_kv;
  bo.max_sequences = static_cast<uint32_t>(n);
  bo.context_length = static_cast<uint32_t>(longest);
  bo.max_batch_tokens = static_cast<uint32_t>(std::max(chunk * n, n * std::min<size_t>(longest, 64)));
  bo.max_outputs = bo.max_batch_tokens;
  bo.memory_budget = cli::host_memory_budget();
  bo.audit_padding_attention = true;
  auto created = BatchSession::create(pair.cand, bo);
  if (!created.ok()) {
    r.note = "not run: " + created.status().to_string();
    return r;
  }
  BatchSession& b = *created.value();
  std::vector<int32_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = b.open_sequence(0).value();
  std::vector<double> lr(vocab), lc(vocab);
  std::vector<int32_t> tokens, seq_ids;
  std::vector<uint8_t> want;
  std::vector<std::pair<size_t, size_t>> where;  // (sequence, position) of each batch token
  for (size_t start = 0; start < longest; start += chunk) {
    tokens.clear();
    seq_ids.clear();
    where.clear();
    for (size_t k = start; k < std::min(longest, start + chunk); ++k) {
      for (size_t i = 0; i < n; ++i) {
        if (k >= seqs[i].size()) continue;
        tokens.push_back(seqs[i][k]);
        seq_ids.push_back(ids[i]);
        where.emplace_back(i, k);
      }
    }
    want.assign(tokens.size(), 1);
    Batch bt;
    bt.tokens = tokens.data();
    bt.sequences = seq_ids.data();
    bt.want_logits = want.data();
    bt.count = tokens.size();
    Status st = b.forward(bt);
    if (!st.ok()) {
      r.note = "stopped: " + st.to_string();
      return r;
    }
    for (size_t t = 0; t < tokens.size(); ++t) {
      const auto [i, k] = where[t];
      const float* got = b.logits(t);
      if (std::memcmp(got, cand_alone[i].data() + k * vocab, vocab * sizeof(float)) != 0) ++r.bit_mismatches;
      const float* ref = ref_alone[i].data() + k * vocab;
      log_softmax(ref, vocab, lr.data());
      log_softmax(got, vocab, lc.data());
      r.kl_mean += kl_divergence(lr.data(), lc.data(), vocab);
      if (Sampler::argmax(ref, vocab) == Sampler::argmax(got, vocab)) r.top1 += 1.0;
      ++r.positions;
    }
  }
  r.sequences = static_cast<int64_t>(n);
  if (r.positions > 0) {
    r.top1 /= static_cast<double>(r.positions);
    r.kl_mean /= static_cast<double>(r.positions);
  }
  // Padded: row i holds the first len_i tokens of sequence i (lengths differ), left-padded to one width.
  const size_t width = std::min<size_t>(longest, 64);
  std::vector<int32_t> grid(n * width, 0);
  std::vector<uint8_t> real(n * width, 0);
  std::vector<size_t> lens(n);
  for (size_t i = 0; i < n; ++i) {
    lens[i] =
        std::max<size_t>(1, std::min(seqs[i].size(), width) - std::min(seqs[i].size(), width) * i / (2 * n));
    const size_t pad = width - lens[i];
    for (size_t c = 0; c < width; ++c)
      grid[i * width + c] = seqs[i][c % seqs[i].size()];  // padding: real ids
    for (size_t k = 0; k < lens[i]; ++k) {
      grid[i * width + pad + k] = seqs[i][k];
      real[i * width + pad + k] = 1;
    }
    if (!b.reset_sequence(ids[i], 0).ok()) {
      r.note = "padded batch not run: reset failed";
      return r;
    }
  }
  Status st = b.forward_padded(grid.data(), real.data(), n, width, ids.data());
  if (!st.ok()) {
    r.note = "padded batch: " + st.to_string();
    return r;
  }
  for (size_t i = 0; i < n; ++i) {
    const float* got = b.sequence_logits(ids[i]);
    ++r.padded_rows;
    if (got == nullptr ||
        std::memcmp(got, cand_alone[i].data() + (lens[i] - 1) * vocab, vocab * sizeof(float)) != 0) {
      ++r.padded_mismatches;
    }
  }
  r.padding_ratio = b.padding_attention_ratio();
  r.ran = true;
  return r;
}

}  // namespace ordinal::verify
