// Next-token sampling as a chain: logit bias -> repetition/frequency/presence penalties -> greedy
// (temperature 0) or temperature -> softmax -> top-k -> min-p -> top-p (nucleus) -> a draw from a seeded
// xorshift RNG. With only temperature and top-p set, every step is llama2.c run.c's, so runs can be
// compared; ties in orderings are broken by token id so results are identical on every platform.
// The sampler reads the logits and works in its own buffers: it never writes into a Session's logits.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ordinal/export.h"
#include "ordinal/status.hpp"

namespace ordinal {

struct SamplerParams {
  float temperature = 1.0f;         // >= 0; 0 = greedy (argmax after bias and penalties)
  float top_p = 1.0f;               // (0, 1): smallest set of tokens whose probability exceeds p; 0 or 1: off
  uint32_t top_k = 0;               // keep the k most probable tokens; 0: off
  float min_p = 0.0f;               // [0, 1]: drop tokens below min_p x the top token's probability; 0: off
  float repetition_penalty = 1.0f;  // > 0; tokens in the window: logit / rp if positive, x rp if not
  float frequency_penalty = 0.0f;   // logit -= frequency_penalty x occurrences in the window
  float presence_penalty = 0.0f;    // logit -= presence_penalty if it occurs in the window
  uint32_t penalty_window = 64;     // how many most recent accepted tokens the penalties look at
  uint64_t seed = 42;               // > 0 (xorshift state)
};

class ORD_API Sampler {
 public:
  // Temperatures below this sample greedily (as 0 does): at 1e-4 a logit gap of 0.01 already weighs
  // e^-100, and far below it logits / temperature overflows float.
  static constexpr float kMinTemperature = 1e-4f;
  // The model format's vocabulary limit (2^22 tokens).
  static constexpr size_t kMaxVocabulary = size_t{1} << 22;

  // temperature >= 0 (0 or < kMinTemperature = greedy), top_p in [0, 1] (0 or 1 = sample the full
  // distribution), seed > 0.
  static Result<Sampler> create(size_t vocab_size, float temperature, float top_p, uint64_t seed);
  static Result<Sampler> create(size_t vocab_size, const SamplerParams& params);

  // Samples a token from `logits` (vocab_size floats, read only). Allocates nothing. When the logit bias
  // has banned every token (-inf), returns the argmax of the unbiased logits.
  int32_t sample(const float* logits);
  // Records a token (prompt or generated) in the penalty window; no-op when penalties are off.
  void accept(int32_t token);
  // Adds `bias` to token's logit before every draw (-infinity bans it; 0 removes the bias).
  Status set_logit_bias(int32_t token, float bias);
  // Empties the penalty window (a new conversation); bias and RNG state stay.
  void reset_history();

  static int32_t argmax(const float* v, size_t n);
  size_t vocab_size() const { return vocab_; }
  const SamplerParams& params() const { return params_; }

 private:
  uint32_t random_u32();
  float random_f32();
  int32_t sample_top_p(const float* probs, float coin);
  int32_t sample_truncated(const float* probs, float coin);
  bool penalties_on() const;

  size_t vocab_ = 0;
  SamplerParams params_;
  uint64_t state_ = 0;
  std::vector<float> work_;                            // biased/penalised logits, then probabilities
  std::vector<float> bias_;                            // per token; empty until a bias is set
  std::vector<std::pair<float, int32_t>> candidates_;  // planned at create: vocab entries
  std::vector<int32_t> window_;                        // ring of the last penalty_window accepted tokens
  std::vector<uint32_t> counts_;                       // occurrences of each token in the window
  std::vector<uint32_t> seen_;                         // per token: the draw that last penalised it
  size_t window_next_ = 0, window_used_ = 0;
  uint32_t stamp_ = 0;
};

}  // namespace ordinal
