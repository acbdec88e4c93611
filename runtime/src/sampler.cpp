#include "ordinal/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/elementwise.hpp"

namespace ordinal {

Result<Sampler> Sampler::create(size_t vocab_size, float temperature, float top_p, uint64_t seed) {
  SamplerParams p;
  p.temperature = temperature;
  p.top_p = top_p;
  p.seed = seed;
  return create(vocab_size, p);
}

Result<Sampler> Sampler::create(size_t vocab_size, const SamplerParams& p) {
  if (vocab_size == 0) return invalid_argument("sampler: vocabulary is empty");
  if (vocab_size > kMaxVocabulary) {
    return invalid_argument("sampler: vocabulary of " + std::to_string(vocab_size) +
                            " exceeds the limit of " + std::to_string(kMaxVocabulary) +
                            " (the model format's)");
  }
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f) {
    return invalid_argument("sampler: temperature must be a finite number >= 0");
  }
  if (!std::isfinite(p.top_p) || p.top_p < 0.0f || p.top_p > 1.0f)
    return invalid_argument("sampler: top-p must be in [0, 1]");
  if (!std::isfinite(p.min_p) || p.min_p < 0.0f || p.min_p > 1.0f)
    return invalid_argument("sampler: min-p must be in [0, 1]");
  if (!std::isfinite(p.repetition_penalty) || p.repetition_penalty <= 0.0f)
    return invalid_argument("sampler: repetition penalty must be a finite number > 0");
  if (!std::isfinite(p.frequency_penalty) || !std::isfinite(p.presence_penalty))
    return invalid_argument("sampler: frequency and presence penalties must be finite");
  if (p.penalty_window > (1u << 20)) return invalid_argument("sampler: penalty window exceeds 2^20 tokens");
  if (p.seed == 0) return invalid_argument("sampler: seed must be non-zero (xorshift state)");
  Sampler s;
  s.vocab_ = vocab_size;
  s.params_ = p;
  // Below the minimum, logits / T overflows float for ordinary logits (a subnormal T gives Inf, then NaN
  // probabilities): sample greedily, which is what such a temperature means anyway.
  if (s.params_.temperature < kMinTemperature) s.params_.temperature = 0.0f;
  s.state_ = p.seed;
  s.work_.resize(vocab_size);
  s.candidates_.resize(vocab_size);
  if (s.penalties_on()) {
    s.window_.assign(p.penalty_window, 0);
    s.counts_.assign(vocab_size, 0);
    s.seen_.assign(vocab_size, 0);
  }
  return s;
}

bool Sampler::penalties_on() const {
  return params_.penalty_window > 0 &&
         (params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f ||
          params_.presence_penalty != 0.0f);
}

void Sampler::accept(int32_t token) {
  if (window_.empty() || token < 0 || static_cast<size_t>(token) >= vocab_) return;
  if (window_used_ == window_.size()) {
    --counts_[static_cast<size_t>(window_[window_next_])];
  } else {
    ++window_used_;
  }
  window_[window_next_] = token;
  ++counts_[static_cast<size_t>(token)];
  window_next_ = (window_next_ + 1) % window_.size();
}

void Sampler::reset_history() {
  std::fill(counts_.begin(), counts_.end(), 0u);
  window_next_ = window_used_ = 0;
}

Status Sampler::set_logit_bias(int32_t token, float bias) {
  if (token < 0 || static_cast<size_t>(token) >= vocab_) {
    return invalid_argument("sampler: logit bias for token " + std::to_string(token) +
                            " outside the vocabulary [0, " + std::to_string(vocab_) + ")");
  }
  if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
    return invalid_argument("sampler: logit bias must be finite or -infinity");
  }
  if (bias_.empty()) {
    if (bias == 0.0f) return Status::Ok();
    bias_.assign(vocab_, 0.0f);
  }
  bias_[static_cast<size_t>(token)] = bias;
  return Status::Ok();
}

// xorshift* as in run.c: state ^= >>12, <<25, >>27; multiply; top 32 bits.
uint32_t Sampler::random_u32() {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  return static_cast<uint32_t>((state_ * 0x2545F4914F6CDD1Dull) >> 32);
}

float Sampler::random_f32() {
  return static_cast<float>(random_u32() >> 8) / 16777216.0f;
}

int32_t Sampler::argmax(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int32_t>(best);
}

int32_t Sampler::sample_top_p(const float* probs, float coin) {
  const float top_p = params_.top_p;
  // Tokens below (1 - p) / (n - 1) cannot be part of the nucleus; drop them before sorting.
  const float cutoff = (1.0f - top_p) / static_cast<float>(vocab_ - 1 > 0 ? vocab_ - 1 : 1);
  size_t n0 = 0;
  for (size_t i = 0; i < vocab_; ++i) {
    if (probs[i] >= cutoff) candidates_[n0++] = {probs[i], static_cast<int32_t>(i)};
  }
  if (n0 == 0) return argmax(probs, vocab_);  // p so small that no token clears the cutoff
  std::sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(n0),
            [](const auto& a, const auto& b) {
              return a.first > b.first || (a.first == b.first && a.second < b.second);
            });
  float cumulative = 0.0f;
  size_t last = n0 - 1;
  for (size_t i = 0; i < n0; ++i) {
    cumulative += candidates_[i].first;
    if (cumulative > top_p) {
      last = i;
      break;
    }
  }
  const float r = coin * cumulative;
  float cdf = 0.0f;
  for (size_t i = 0; i <= last; ++i) {
    cdf += candidates_[i].first;
    if (r < cdf) return candidates_[i].second;
  }
  return candidates_[last].second;
}

// top-k, then min-p, then top-p over what is left (renormalised), then the draw.
int32_t Sampler::sample_truncated(const float* probs, float coin) {
  const auto by_prob = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  for (size_t i = 0; i < vocab_; ++i) candidates_[i] = {probs[i], static_cast<int32_t>(i)};
  size_t n = vocab_;
  const auto first = candidates_.begin();
  if (params_.top_k > 0 && params_.top_k < n) {
    n = params_.top_k;
    std::partial_sort(first, first + static_cast<std::ptrdiff_t>(n), candidates_.end(), by_prob);
  } else {
    std::sort(first, candidates_.end(), by_prob);
  }
  if (params_.min_p > 0.0f) {
    const float floor = params_.min_p * candidates_[0].first;
    size_t keep = 1;
    while (keep < n && candidates_[keep].first >= floor) ++keep;
    n = keep;
  }
  float total = 0.0f;
  for (size_t i = 0; i < n; ++i) total += candidates_[i].first;
  if (params_.top_p > 0.0f && params_.top_p < 1.0f) {
    const float target = params_.top_p * total;
    float cumulative = 0.0f;
    for (size_t i = 0; i < n; ++i) {
      cumulative += candidates_[i].first;
      if (cumulative > target) {
        n = i + 1;
        break;
      }
    }
    total = cumulative;
  }
  const float r = coin * total;
  float cdf = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    cdf += candidates_[i].first;
    if (r < cdf) return candidates_[i].second;
  }
  return candidates_[n - 1].second;
}

int32_t Sampler::sample(const float* logits) {
  const SamplerParams& p = params_;
  const bool adjust = !bias_.empty() || (window_used_ > 0 && penalties_on());
  if (p.temperature == 0.0f && !adjust) return argmax(logits, vocab_);
  float* w = work_.data();
  std::memcpy(w, logits, vocab_ * sizeof(float));
  if (adjust) {
    if (!bias_.empty()) {
      for (size_t i = 0; i < vocab_; ++i) w[i] += bias_[i];
      if (w[argmax(w, vocab_)] == -std::numeric_limits<float>::infinity()) return argmax(logits, vocab_);
    }
    if (window_used_ > 0) {
      // Each distinct token of the window once: seen_ stamps the tokens already penalised this draw.
      if (++stamp_ == 0) {  // wrapped: clear the stamps
        std::fill(seen_.begin(), seen_.end(), 0u);
        stamp_ = 1;
      }
      for (size_t k = 0; k < window_used_; ++k) {
        const size_t t = static_cast<size_t>(window_[k]);
        if (seen_[t] == stamp_) continue;
        seen_[t] = stamp_;
        float v = w[t];
        v = v > 0.0f ? v / p.repetition_penalty : v * p.repetition_penalty;
        v -= p.frequency_penalty * static_cast<float>(counts_[t]) + p.presence_penalty;
        w[t] = v;
      }
    }
    if (p.temperature == 0.0f) return argmax(w, vocab_);
  }
  for (size_t i = 0; i < vocab_; ++i) w[i] /= p.temperature;
  kernels::softmax(w, vocab_);
  const float coin = random_f32();
  if (p.top_k > 0 || p.min_p > 0.0f) return sample_truncated(w, coin);
  if (p.top_p <= 0.0f || p.top_p >= 1.0f) {
    float cdf = 0.0f;
    for (size_t i = 0; i < vocab_; ++i) {
      cdf += w[i];
      if (coin < cdf) return static_cast<int32_t>(i);
    }
    return static_cast<int32_t>(vocab_ - 1);
  }
  return sample_top_p(w, coin);
}

}  // namespace ordinal
