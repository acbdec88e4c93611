#include "ordinal/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/elementwise.hpp"

namespace ordinal {

Result<Sampler> Sampler::create(size_t vocab_size, float temperature, float top_p, uint64_t seed) {
  if (vocab_size == 0) return invalid_argument("sampler: vocabulary is empty");
  if (vocab_size > kMaxVocabulary) {
    return invalid_argument("sampler: vocabulary of " + std::to_string(vocab_size) +
                            " exceeds the limit of " + std::to_string(kMaxVocabulary) +
                            " (the model format's)");
  }
  if (!std::isfinite(temperature) || temperature < 0.0f) {
    return invalid_argument("sampler: temperature must be a finite number >= 0");
  }
  if (!std::isfinite(top_p) || top_p < 0.0f || top_p > 1.0f)
    return invalid_argument("sampler: top-p must be in [0, 1]");
  if (seed == 0) return invalid_argument("sampler: seed must be non-zero (xorshift state)");
  Sampler s;
  s.vocab_ = vocab_size;
  // Below the minimum, logits / T overflows float for ordinary logits (a subnormal T gives Inf, then NaN
  // probabilities): sample greedily, which is what such a temperature means anyway.
  s.temperature_ = temperature < kMinTemperature ? 0.0f : temperature;
  s.top_p_ = top_p;
  s.state_ = seed;
  s.candidates_.resize(vocab_size);
  return s;
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
  // Tokens below (1 - p) / (n - 1) cannot be part of the nucleus; drop them before sorting.
  const float cutoff = (1.0f - top_p_) / static_cast<float>(vocab_ - 1 > 0 ? vocab_ - 1 : 1);
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
    if (cumulative > top_p_) {
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

int32_t Sampler::sample(float* logits) {
  if (temperature_ == 0.0f) return argmax(logits, vocab_);
  for (size_t i = 0; i < vocab_; ++i) logits[i] /= temperature_;
  kernels::softmax(logits, vocab_);
  const float coin = random_f32();
  if (top_p_ <= 0.0f || top_p_ >= 1.0f) {
    float cdf = 0.0f;
    for (size_t i = 0; i < vocab_; ++i) {
      cdf += logits[i];
      if (coin < cdf) return static_cast<int32_t>(i);
    }
    return static_cast<int32_t>(vocab_ - 1);
  }
  return sample_top_p(logits, coin);
}

}  // namespace ordinal
