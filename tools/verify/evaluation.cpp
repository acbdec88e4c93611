// Runs the reference and the candidate side by side: same tokens, same positions, same thread count,
// logits compared at every position (decode token by token: prefill only exposes the last logits).
#include <chrono>
#include <cmath>

#include "ordinal/host_limits.hpp"
#include "ordinal/sampler.hpp"
#include "verify/verify.hpp"

namespace ordinal::verify {

Result<ModelPair> load_pair(const std::string& ref_path, const std::string& cand_path) {
  ModelPair p;
  auto r = Model::load(ref_path);
  if (!r.ok()) return Status(r.status().code(), "reference " + ref_path + ": " + r.status().message());
  auto c = Model::load(cand_path);
  if (!c.ok()) return Status(c.status().code(), "candidate " + cand_path + ": " + c.status().message());
  p.ref = r.value();
  p.cand = c.value();
  if (p.ref->config().vocab_size != p.cand->config().vocab_size) {
    return invalid_argument("the models have different vocabularies (reference " +
                            std::to_string(p.ref->config().vocab_size) + " tokens, candidate " +
                            std::to_string(p.cand->config().vocab_size) + ")");
  }
  return p;
}

Result<PairRunner> PairRunner::create(const ModelPair& pair, uint32_t threads, uint32_t context,
                                      KvCacheType cand_kv) {
  PairRunner r;
  SessionOptions so;
  so.threads = threads;
  so.context_length = context;
  so.memory_budget = cli::host_memory_budget();
  auto a = Session::create(pair.ref, so);
  if (!a.ok()) return Status(a.status().code(), "reference session: " + a.status().message());
  // Same thread count as the reference actually got (0 = per core resolves identically, but be explicit).
  so.threads = a.value()->threads();
  so.kv_cache = cand_kv;
  auto b = Session::create(pair.cand, so);
  if (!b.ok()) return Status(b.status().code(), "candidate session: " + b.status().message());
  r.ref_ = std::move(a).value();
  r.cand_ = std::move(b).value();
  const size_t v = r.ref_->vocab_size();
  r.lr_.resize(v);
  r.lc_.resize(v);
  r.scratch_.resize(v);
  return r;
}

Status PairRunner::run(std::vector<int32_t>* tokens, size_t length, Sampler* sampler,
                       const std::function<void(const PositionSample&)>& on_position) {
  using clock = std::chrono::steady_clock;
  ORDINAL_RETURN_IF_ERROR(ref_->reset(0));
  ORDINAL_RETURN_IF_ERROR(cand_->reset(0));
  const size_t v = lr_.size();
  std::vector<int32_t>& t = *tokens;
  for (size_t i = 0; i < t.size() && i < length; ++i) {
    auto t0 = clock::now();
    Status st = ref_->decode(t[i]);
    auto t1 = clock::now();
    if (!st.ok()) return Status(st.code(), "reference: " + st.message());
    st = cand_->decode(t[i]);
    auto t2 = clock::now();
    if (!st.ok()) return Status(st.code(), "candidate: " + st.message());
    ref_time_.seconds += std::chrono::duration<double>(t1 - t0).count();
    cand_time_.seconds += std::chrono::duration<double>(t2 - t1).count();
    ++ref_time_.tokens;
    ++cand_time_.tokens;

    log_softmax(ref_->logits(), v, lr_.data());
    log_softmax(cand_->logits(), v, lc_.data());
    PositionSample s;
    s.position = static_cast<int64_t>(i);
    s.kl = kl_divergence(lr_.data(), lc_.data(), v);
    s.agree = Sampler::argmax(ref_->logits(), v) == Sampler::argmax(cand_->logits(), v);
    if (sampler != nullptr && i + 1 == t.size() && t.size() < length) {
      std::copy(ref_->logits(), ref_->logits() + v, scratch_.begin());
      t.push_back(sampler->sample(scratch_.data()));
    }
    if (i + 1 < t.size()) {
      const size_t target = static_cast<size_t>(t[i + 1]);
      s.has_target = true;
      s.nll_ref = -lr_[target];
      s.nll_cand = -lc_[target];
    }
    on_position(s);
  }
  return Status::Ok();
}

Result<double> log_likelihood(Session& s, const std::vector<int32_t>& tokens, std::vector<double>* scratch) {
  ORDINAL_RETURN_IF_ERROR(s.reset(0));
  const size_t v = s.vocab_size();
  scratch->resize(v);
  double ll = 0.0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    ORDINAL_RETURN_IF_ERROR(s.decode(tokens[i]));
    log_softmax(s.logits(), v, scratch->data());
    ll += (*scratch)[static_cast<size_t>(tokens[i + 1])];
  }
  return ll;
}

std::vector<std::vector<int32_t>> make_windows(const std::vector<int32_t>& text_tokens, int32_t bos,
                                               size_t length, int64_t max_positions) {
  std::vector<std::vector<int32_t>> out;
  if (length < 2) return out;
  int64_t budget = max_positions;
  for (size_t i = 0; i < text_tokens.size() && budget > 0;) {
    std::vector<int32_t> w;
    w.push_back(bos);
    while (w.size() < length && i < text_tokens.size() && static_cast<int64_t>(w.size()) < budget) {
      w.push_back(text_tokens[i++]);
    }
    if (w.size() < 2) break;  // BOS alone predicts nothing from the text
    budget -= static_cast<int64_t>(w.size());
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace ordinal::verify
