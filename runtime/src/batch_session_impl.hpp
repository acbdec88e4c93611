// BatchSessionImpl: the state of a BatchSession (ordinal/batch.hpp) shared by its two files:
// batch_session.cpp (creation, sequences, validation of a call, the public wrappers) and batch_forward.cpp
// (the forward pass of a validated call: groups, layers, attention, the padding audit).
// The KV cache is one KvCache of max_sequences x context_length slots per layer; sequence s owns slots
// [s * ctx, (s + 1) * ctx), its token at cache index i sits in slot s * ctx + i at position offset_s + i.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "batch_fault.hpp"
#include "kernels/linear.hpp"
#include "kv_cache.hpp"
#include "large_buffer.hpp"
#include "model_data.hpp"
#include "ordinal/batch.hpp"
#include "positional/encoder.hpp"
#include "positional/rope_shift.hpp"
#include "threads.hpp"
#include "weight_plan.hpp"

namespace ordinal::detail {

struct SequenceState {
  bool open;
  bool failed;      // non-finite logits: refused until reset
  bool has_logits;  // sequence_logits() holds a row
  int64_t offset;   // position of cache index 0
  uint64_t cached;  // tokens in the cache
};

class BatchSessionImpl {
 public:
  static Result<std::unique_ptr<BatchSessionImpl>> create(std::shared_ptr<const Model> model,
                                                          const BatchOptions& opt);

  Result<int32_t> open_sequence(int64_t offset);
  Status close_sequence(int32_t s);
  Status reset_sequence(int32_t s, int64_t offset);
  Status shift_sequence(int32_t s, size_t drop, size_t keep);
  bool is_open(int32_t s) const { return valid_id(s) && seq_[static_cast<size_t>(s)].open; }

  Status forward(const Batch& b);
  Status forward_padded(const int32_t* tokens, const uint8_t* real, size_t rows, size_t cols,
                        const int32_t* row_sequences);

  const float* logits(size_t index) const {
    if (index >= last_count_ || out_index_[index] < 0) return nullptr;
    return logits_.data() + static_cast<size_t>(out_index_[index]) * cfg_.vocab_size;
  }
  const float* sequence_logits(int32_t s) const {
    if (!is_open(s) || !seq_[static_cast<size_t>(s)].has_logits) return nullptr;
    return seq_logits_.data() + static_cast<size_t>(s) * cfg_.vocab_size;
  }
  size_t vocab() const { return cfg_.vocab_size; }
  int64_t position(int32_t s) const {
    if (!is_open(s)) return -1;
    const SequenceState& q = seq_[static_cast<size_t>(s)];
    return q.offset + static_cast<int64_t>(q.cached);
  }
  size_t cached(int32_t s) const { return is_open(s) ? seq_[static_cast<size_t>(s)].cached : 0; }
  size_t capacity() const { return ctx_; }
  uint32_t max_sequences() const { return seqs_; }
  uint32_t threads() const { return threads_; }
  size_t memory_bytes() const;
  size_t kv_bytes() const { return kv_.bytes(); }
  double padding_attention_ratio() const { return audited_ > 0 ? padding_mass_ / audited_ : 0.0; }
  const Model& model() const { return *model_; }
  void set_fault(BatchFault f) { fault_ = f; }

  void attention_tokens(uint32_t layer, size_t begin, size_t end, size_t task) const;
  Status forward_group(size_t group);

 private:
  BatchSessionImpl() = default;
  bool valid_id(int32_t s) const { return s >= 0 && static_cast<uint32_t>(s) < seqs_; }
  Status check_open(int32_t s, const char* what) const;
  Status validate(const Batch& b);
  Status compute(size_t n);
  void plan_groups(size_t n);
  Status forward_tokens(size_t task, size_t b, size_t e, size_t ob, size_t oe, threads::Pool* pool);
  void audit_token(uint32_t layer, const float* q, size_t key_base, size_t keys, const float* att,
                   double* sums) const;

  std::shared_ptr<const Model> model_;
  const ModelData* md_ = nullptr;
  ModelConfig cfg_;
  BatchOptions opt_;
  threads::PoolPtr pool_;
  uint32_t threads_ = 1;
  positional::PositionalEncoder pos_;
  const WeightPlan* plan_ = nullptr;
  std::unique_ptr<positional::RopeShift> rope_shift_;

  size_t ctx_ = 0, max_tokens_ = 0, max_outputs_ = 0, q_dim_ = 0, kv_dim_ = 0, tasks_ = 1;
  uint32_t seqs_ = 0;
  float logit_ = 1.0f;  // fl(logit_scale / sqrt(head_dim)), as the Session passes it

  KvCache kv_;
  LargeBuffer<uint8_t> slot_padding_;  // per slot: 1 when it holds a padding token (BatchFault only)
  LargeBuffer<float> x_, xb_, xb2_, q_, hb_, hb2_, k_stage_, v_stage_, logits_, seq_logits_, pos_scratch_;
  mutable LargeBuffer<float> att_;               // per task: [n_heads, 2 * ctx] scores, then bias
  mutable LargeBuffer<float> att_partials_;      // per task: attention_partials_floats(n_heads, head_dim)
  mutable LargeBuffer<double> audit_;            // per task: padding mass, query-heads audited
  std::unique_ptr<kernels::LinearInput[]> ins_;  // one per thread: a group quantizes its own inputs
  std::unique_ptr<Status[]> group_status_;       // one per thread
  size_t pos_scratch_floats_ = 1;                // per thread
  LargeBuffer<float> ao_, out_x_;                // attention outputs [n, q_dim]; final-normed outputs
  // Groups of the call (plan_groups): tokens [group_begin_[g], group_begin_[g + 1]) and output rows
  // [out_begin_[g], out_begin_[g + 1]) run on one thread each; groups_ == 1: all tokens, rows over the pool.
  size_t groups_ = 1;
  LargeBuffer<uint64_t> group_begin_, out_begin_, fill_;
  LargeBuffer<int32_t> group_of_seq_;
  // Spare token bookkeeping plan_groups sorts into.
  LargeBuffer<int32_t> alt_id_, alt_seq_, alt_out_, alt_index_;
  LargeBuffer<uint64_t> alt_slot_;
  LargeBuffer<int64_t> alt_pos_;
  LargeBuffer<uint8_t> alt_pad_;

  LargeBuffer<SequenceState> seq_;
  // Validation scratch per sequence: cached count and offset as the batch would leave them.
  LargeBuffer<uint64_t> pend_cached_;
  LargeBuffer<int64_t> pend_offset_;
  LargeBuffer<int32_t> last_token_;  // compact index of the sequence's last real token in the call
  // Per real token of the call (compact order): id, sequence, slot, position, output row, padding flag.
  LargeBuffer<int32_t> tok_id_, tok_seq_, tok_out_;
  LargeBuffer<uint64_t> tok_slot_;
  LargeBuffer<int64_t> tok_pos_;
  LargeBuffer<uint8_t> tok_pad_;
  LargeBuffer<int32_t> tok_index_;  // the batch index it came from
  LargeBuffer<int32_t> out_index_;  // batch index -> output row, -1 none
  LargeBuffer<int32_t> out_token_;  // output row -> compact token
  // forward_padded's translation into a Batch.
  LargeBuffer<int32_t> pad_seq_, pad_owner_;
  LargeBuffer<uint8_t> pad_want_;
  const int32_t* padding_owner_ = nullptr;  // row sequence of each padding token (forward_padded)

  size_t n_outputs_ = 0, last_count_ = 0;
  double padding_mass_ = 0.0, audited_ = 0.0;
  bool unusable_ = false;
  std::string unusable_reason_;
  BatchFault fault_ = BatchFault::kNone;
};

}  // namespace ordinal::detail
