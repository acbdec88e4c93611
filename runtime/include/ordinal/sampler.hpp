// Next-token sampling: greedy (temperature 0), temperature, and top-p (nucleus), with a seeded
// xorshift RNG. The algorithms follow llama2.c run.c so runs can be compared; ties in top-p ordering
// are broken by token id so results are identical on every platform.
#pragma once

#include <cstdint>
#include <vector>

#include "ordinal/status.hpp"

namespace ordinal {

class Sampler {
 public:
  // Temperatures below this sample greedily (as 0 does): at 1e-4 a logit gap of 0.01 already weighs
  // e^-100, and far below it logits / temperature overflows float.
  static constexpr float kMinTemperature = 1e-4f;
  // The model format's vocabulary limit (2^22 tokens).
  static constexpr size_t kMaxVocabulary = size_t{1} << 22;

  // temperature >= 0 (0 or < kMinTemperature = greedy), top_p in [0, 1] (0 or 1 = sample the full
  // distribution), seed > 0.
  static Result<Sampler> create(size_t vocab_size, float temperature, float top_p, uint64_t seed);

  // Samples a token from `logits` (modified in place when temperature > 0). Allocates nothing.
  int32_t sample(float* logits);

  static int32_t argmax(const float* v, size_t n);
  size_t vocab_size() const { return vocab_; }

 private:
  uint32_t random_u32();
  float random_f32();
  int32_t sample_top_p(const float* probs, float coin);

  size_t vocab_ = 0;
  float temperature_ = 0.0f;
  float top_p_ = 0.0f;
  uint64_t state_ = 0;
  std::vector<std::pair<float, int32_t>> candidates_;  // planned at create: vocab entries
};

}  // namespace ordinal
