// ordinal verify: the order-sensitive battery. Runs a reference and a candidate model side by side with
// the public Session API and measures where (at which positions) and how (agreement, KL, perplexity,
// word-order sensitivity, swap preferences, position identity, task accuracy, cost) they differ.
//
// Layout: evaluation.cpp (both models over sequences), metrics.cpp (log-softmax, KL, bucket stats),
// probes.cpp (word shuffle, swap probes), identity.cpp (position identity / RoPE shift invariance),
// tasks.cpp (task specs, seeded cases, greedy scoring), gates.cpp, report_{text,json,html}.cpp,
// battery.cpp (runs everything in order).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ordinal/runtime.hpp"
#include "ordinal/sampler.hpp"
#include "ordinal/status.hpp"
#include "verify/position_pictures.hpp"

namespace ordinal::verify {

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string ref_path, cand_path;
  std::string text_path;  // empty: reference-sampled sequences
  std::vector<int64_t> bucket_starts = {0, 64, 256};
  int64_t beyond = 0;  // evaluate up to this many positions when both models address them
  uint64_t seed = 42;
  int64_t samples = 8;                            // sampled sequences without --text
  int64_t max_positions = 8192;                   // agreement positions evaluated, in total
  int64_t order_positions = 2048;                 // positions per text variant in the word-order pass
  int64_t swap_pairs = 48;                        // swap pairs built from the text / samples (plus templates)
  int64_t task_cases = 1000;                      // in-distribution cases per task
  int64_t task_extrap_cases = 0;                  // cases per task at 1.5x / 2x (0: same as task_cases)
  uint32_t threads = 1;                           // per session; tiny models decode fastest on one thread
  KvCacheType cand_kv_cache = KvCacheType::kF32;  // the candidate's KV cache (the reference's is f32)
  // Gates (unset: not checked). Position recovery is checked by default (100% unless shared by design).
  std::optional<double> min_top1, max_ppl_delta, max_kl, min_gap_ratio, min_swap_agreement, min_task_accuracy;
  double min_position_recovery = 1.0;
  // Progress reporting (a short status line); may be empty.
  std::function<void(const std::string&)> progress;
};

// ---------------------------------------------------------------------------------------------
// Metrics (metrics.cpp)

// Log-softmax of n logits, in double.
void log_softmax(const float* logits, size_t n, double* out);
// KL(p || q) from log-probabilities (sum over p's support), >= 0.
double kl_divergence(const double* logp, const double* logq, size_t n);
// Value at quantile q in [0, 1] (nearest rank on a sorted copy); 0 for an empty input.
double quantile(std::vector<double> values, double q);

struct PositionSample {
  int64_t position = 0;
  double kl = 0.0;
  bool agree = false;
  bool has_target = false;
  double nll_ref = 0.0, nll_cand = 0.0;  // -log p(target); valid when has_target
};

struct BucketStats {
  int64_t lo = 0, hi = 0;  // [lo, hi)
  bool supported = true;   // false: a model cannot address these positions
  std::string note;
  int64_t positions = 0;  // positions with logits compared
  int64_t targets = 0;    // of which with a next token (perplexity)
  double top1 = 0.0, kl_mean = 0.0, kl_p99 = 0.0, kl_max = 0.0;
  double ppl_ref = 0.0, ppl_cand = 0.0, ppl_delta = 0.0;  // delta = cand/ref - 1
  std::string label() const;                              // "[64,256)"
};

// Aggregates samples whose position lies in [lo, hi).
BucketStats bucket_stats(const std::vector<PositionSample>& samples, int64_t lo, int64_t hi);

// ---------------------------------------------------------------------------------------------
// Evaluation (evaluation.cpp)

struct ModelPair {
  std::shared_ptr<const Model> ref, cand;
};

// Loads both models and checks they can be compared (same vocabulary size).
Result<ModelPair> load_pair(const std::string& ref_path, const std::string& cand_path);

struct DecodeTiming {
  double seconds = 0.0;
  int64_t tokens = 0;
  double per_token_us() const { return tokens ? 1e6 * seconds / static_cast<double>(tokens) : 0.0; }
};

// Two sessions (same thread count, same context) decoding the same tokens.
class PairRunner {
 public:
  static Result<PairRunner> create(const ModelPair& pair, uint32_t threads, uint32_t context,
                                   KvCacheType cand_kv = KvCacheType::kF32);

  // Decodes `tokens` through both models from position 0. After each token i, `on_position` gets the
  // sample for position i (target = tokens[i+1] when there is one). When `sampler` is given and the
  // sequence is shorter than `length`, it is extended by sampling from the reference's logits.
  // Stops early (returning the error) when a model refuses a position.
  Status run(std::vector<int32_t>* tokens, size_t length, Sampler* sampler,
             const std::function<void(const PositionSample&)>& on_position);

  Session& ref() { return *ref_; }
  Session& cand() { return *cand_; }
  const DecodeTiming& ref_timing() const { return ref_time_; }
  const DecodeTiming& cand_timing() const { return cand_time_; }

 private:
  std::unique_ptr<Session> ref_, cand_;
  std::vector<double> lr_, lc_;
  std::vector<float> scratch_;
  DecodeTiming ref_time_, cand_time_;
};

// Sum of log p(tokens[i+1] | tokens[..i]) over i >= 0 for one session (reset first).
Result<double> log_likelihood(Session& s, const std::vector<int32_t>& tokens, std::vector<double>* scratch);

// Splits text tokens into windows of `length`, BOS first: BOS + length-1 text tokens each.
std::vector<std::vector<int32_t>> make_windows(const std::vector<int32_t>& text_tokens, int32_t bos,
                                               size_t length, int64_t max_positions);

// ---------------------------------------------------------------------------------------------
// Word-order and swap probes (probes.cpp)

// Every line's words (whitespace-separated) joined by single spaces; shuffled within the line when
// `shuffle` (seeded Fisher-Yates).
std::string normalize_words(const std::string& text, bool shuffle, uint64_t seed);
// Token sequences with everything after the first token shuffled (seeded).
std::vector<std::vector<int32_t>> shuffle_tokens(const std::vector<std::vector<int32_t>>& seqs,
                                                 uint64_t seed);

struct SwapPair {
  std::string source;  // "template", "text", "tokens"
  std::string a, b;    // text forms (empty for token pairs)
  std::vector<int32_t> ta, tb;
};
// Built-in templates ("The dog chased the cat." / "The cat chased the dog.").
std::vector<std::pair<std::string, std::string>> swap_templates();
// Sentences of the text with two content words swapped (seeded; at most `count`).
std::vector<std::pair<std::string, std::string>> text_swap_pairs(const std::string& text, int64_t count,
                                                                 uint64_t seed);
// Token sequences with two distinct tokens swapped (prefixes of sampled sequences).
std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> token_swap_pairs(
    const std::vector<std::vector<int32_t>>& seqs, int64_t count, size_t prefix, uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Position identity (identity.cpp)

struct PositionTable {
  bool available = false;
  std::string note;  // why not available / how reconstructed
  uint32_t positions = 0, dim = 0;
  bool shared_by_design = false;
  std::vector<float> rows;  // positions x dim
};
// Every stored position's vector, reconstructed from the model's positional tensors.
PositionTable position_table(const Model& m);
// The vectors of the positions in `which` only (each must be stored), one row dequantized at a time.
PositionTable position_table(const Model& m, const std::vector<uint32_t>& which);
// Positions a table scheme stores (covers, for bucketed tables); 0 for computed schemes.
uint32_t stored_position_count(const Model& m);
// Up to this many positions the identity check compares every position with every other; above, an evenly
// spaced sample of this many.
constexpr uint32_t kIdentityExactPositions = 2048;

struct IdentityResult {
  std::string kind = "n/a";  // "table", "rope", "n/a"
  std::string note;
  // Table schemes.
  int64_t positions = 0;
  double recovery = 0.0;        // fraction of candidate rows strictly nearest (L2) to the same reference row
  double min_distance = 0.0;    // min over p != q of ||c_p - c_q||
  int64_t collapsed_pairs = 0;  // p < q with identical candidate rows
  double max_abs_error = 0.0, rms_error = 0.0;       // elementwise, candidate vs reference
  double mean_rel_error = 0.0, max_rel_error = 0.0;  // ||c_p - r_p|| / ||r_p||
  bool shared_by_design = false;
  bool sampled = false;  // compared an evenly spaced sample of kIdentityExactPositions positions
  // RoPE.
  int64_t trials = 0;
  double shift_max_abs = 0.0, shift_mean_abs = 0.0, shift_max_rel = 0.0;  // candidate
  double ref_shift_max_abs = 0.0;                                         // reference, same trials
};
IdentityResult position_identity(const Model& ref, const Model& cand, uint64_t seed);

// ---------------------------------------------------------------------------------------------
// Tasks (tasks.cpp)

struct TaskDef {
  std::string name;
  int32_t prefix_id = 0;
  int64_t min_len = 0, max_len = 0;
  int64_t offset = 0, key_len = 0;
  int32_t filler_lo = 0, filler_hi = 0, key_lo = 0, key_hi = 0;
};
struct TaskSpec {
  int32_t bos = 1, eos = 2, sep = 8;
  int32_t sym_lo = 0, sym_hi = 0;
  std::vector<TaskDef> tasks;
};
// Limits on a task spec: everything verify generates from it is bounded by these (docs/trust-boundary.md).
constexpr uint64_t kMaxTaskSpecBytes = uint64_t{1} << 20;
constexpr size_t kMaxTasks = 64;
constexpr int64_t kMaxTaskLength =
    4096;  // input length; prompts at 2x extrapolation stay under 8200 positions
// Parses and validates the JSON task spec (models/train/TASKS.md; the "ordinal_task" object or the spec
// itself): size and nesting bounded, every id an integer below vocab_size (0: below 2^22), every id range
// non-empty, lengths in [1, kMaxTaskLength], |offset| <= kMaxTaskLength. kInvalidArgument naming the field.
Result<TaskSpec> parse_task_spec(const std::string& json, uint32_t vocab_size = 0);

struct TaskCase {
  std::vector<int32_t> prompt;  // <s> <task> x.. <sep>
  std::vector<int32_t> answer;  // y.. </s>
};
// One case of `task` with input length n (n <= 0: drawn from the training distribution).
TaskCase make_task_case(const TaskSpec& spec, const TaskDef& task, int64_t n, uint64_t* rng_state);

// Greedy exact-match score of one case: 1 correct, 0 wrong; an error when the model cannot address it.
Result<bool> score_task_case(Session& s, const TaskCase& c, std::vector<float>* scratch);

struct TaskAccuracy {
  bool supported = true;
  std::string note;
  int64_t cases = 0, correct = 0;
  double accuracy() const { return cases ? static_cast<double>(correct) / static_cast<double>(cases) : 0.0; }
};
struct TaskResult {
  std::string name;
  std::string regime;  // "in-distribution", "1.5x", "2x"
  int64_t length = 0;  // input length n (0: distribution)
  TaskAccuracy ref, cand;
};

// ---------------------------------------------------------------------------------------------
// The whole battery (battery.cpp) and its report

struct SwapResult {
  int64_t pairs = 0, agree = 0;
  double agreement() const { return pairs ? static_cast<double>(agree) / static_cast<double>(pairs) : 0.0; }
  struct Item {
    std::string source, a, b;
    double ref_delta = 0.0, cand_delta = 0.0;  // LL(a) - LL(b)
  };
  std::vector<Item> items;
};

struct OrderResult {
  bool ran = false;
  std::string note;
  int64_t positions = 0;
  double ppl_ref = 0.0, ppl_ref_shuffled = 0.0, ppl_cand = 0.0, ppl_cand_shuffled = 0.0;
  double gap_ref() const { return ppl_ref > 0 ? ppl_ref_shuffled / ppl_ref : 0.0; }
  double gap_cand() const { return ppl_cand > 0 ? ppl_cand_shuffled / ppl_cand : 0.0; }
  double gap_ratio() const { return gap_ref() > 0 ? gap_cand() / gap_ref() : 0.0; }
};

struct ModelCost {
  std::string path, scheme;
  uint64_t positional_bytes = 0, file_bytes = 0, memory_bytes = 0;
  double decode_us_per_token = 0.0;
  int64_t position_limit = 0;
  uint32_t context = 0;
};

// The batched pass (batched.cpp): the candidate runs up to 4 of the agreement sequences together in one
// BatchSession (interleaved chunks, logits at every position) and once as a padded fixed-shape batch with
// the padding audit on; compared with the reference run alone (agreement) and with the candidate run alone
// (which must give the same bits), and the attention mass on padding (which must be exactly 0).
struct BatchedResult {
  bool ran = false;
  std::string note;
  int64_t sequences = 0, positions = 0;
  double top1 = 0.0, kl_mean = 0.0;  // candidate batched vs reference alone
  int64_t bit_mismatches = 0;        // positions where candidate batched != candidate alone (bits)
  int64_t padded_rows = 0, padded_mismatches = 0;
  double padding_ratio = 0.0;  // attention mass on padding tokens / total, padded batch
};
// sequences: token sequences (BOS first); at most 4 are used, each cut to `max_length`.
BatchedResult batched_pass(const ModelPair& pair, const std::vector<std::vector<int32_t>>& sequences,
                           size_t max_length, uint32_t threads, KvCacheType cand_kv);

struct GateResult {
  std::string metric, bucket;
  double value = 0.0, threshold = 0.0;
  bool is_min = true;  // value must be >= threshold (else <=)
  bool passed = true;
  std::string line() const;  // "FAIL top1 [64,256): 0.981 < 0.999"
};

struct Report {
  Options options;
  std::string source;    // "text FILE" or "sampled (seed S, N sequences)"
  uint32_t context = 0;  // training context (reference max_positions)
  int64_t eval_length = 0;
  int64_t positions_evaluated = 0, sequences = 0;
  std::vector<BucketStats> buckets;
  BucketStats overall;
  std::vector<BucketStats> bins;  // per 64 positions, for plots
  PositionPictures pictures;      // per-position curves and position-similarity maps (HTML report)
  OrderResult order;
  SwapResult swap;
  IdentityResult identity;
  BatchedResult batched;
  std::vector<TaskResult> tasks;
  std::string tasks_note;
  ModelCost ref_cost, cand_cost;
  std::vector<GateResult> gates;
  double seconds = 0.0;
  bool passed() const;
};

// Runs the battery. Errors are load/usage problems (missing files, invalid models, empty text,
// different vocabularies).
Result<Report> run_battery(const Options& options);

// Gates (gates.cpp): fills report.gates from report.options.
void evaluate_gates(Report* report);

// Reports.
std::string report_text(const Report& r);
std::string report_json(const Report& r);  // pretty-printed JSON
std::string report_html(const Report& r);  // self-contained page with inline SVG

}  // namespace ordinal::verify
